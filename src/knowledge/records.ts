// Stage: knowledge (records). The knowledge base's own shapes: one normalised record per CVE and source (NVD API
// 2.0 / legacy 1.1 feed, CVE JSON 5), KEV entries and EPSS scores. Importers produce them, the store keeps them,
// the matcher reads them. Pure types.

export interface Cvss {
  /** "2.0", "3.0", "3.1", "4.0" */
  version: string;
  score: number;
  vector: string;
  severity?: string;
  /** who scored it: nvd@nist.gov, a CNA, CISA-ADP */
  source?: string;
  /** Primary (the NVD's own) or Secondary */
  type?: string;
}

/** One NVD cpeMatch: a CPE criterion, optionally a version range, and whether it names the vulnerable product. */
export interface CpeMatch {
  vulnerable: boolean;
  criteria: string;
  startIncluding?: string;
  startExcluding?: string;
  endIncluding?: string;
  endExcluding?: string;
}

export interface ConfigNode {
  operator: 'AND' | 'OR';
  negate: boolean;
  matches: CpeMatch[];
  /** legacy 1.1 feed nests nodes */
  children?: ConfigNode[];
}

export interface Configuration {
  operator: 'AND' | 'OR';
  negate: boolean;
  nodes: ConfigNode[];
}

export interface Reference {
  url: string;
  tags?: string[];
}

export interface KevFacts {
  dateAdded: string;
  knownRansomwareCampaignUse?: string;
  requiredAction?: string;
  dueDate?: string;
  name?: string;
  /** where the KEV fact came from: the CISA catalog, the NVD record, a CVE 5 ADP container */
  source: 'kev-catalog' | 'nvd' | 'cve5-adp';
}

/** A CVE as the NVD describes it (API 2.0 or the legacy 1.1 feed). */
export interface NvdCve {
  id: string;
  published?: string;
  lastModified: string;
  vulnStatus?: string;
  description: string;
  cvss: Cvss[];
  cwes: string[];
  configurations: Configuration[];
  references: Reference[];
  kev?: KevFacts;
}

export interface Cve5VersionChange {
  at: string;
  status: 'affected' | 'unaffected' | 'unknown';
}

export interface Cve5Version {
  version: string;
  status: 'affected' | 'unaffected' | 'unknown';
  lessThan?: string;
  lessThanOrEqual?: string;
  versionType?: string;
  changes?: Cve5VersionChange[];
}

export interface Cve5Affected {
  vendor: string;
  product: string;
  versions: Cve5Version[];
  defaultStatus?: 'affected' | 'unaffected' | 'unknown';
  /** CPEs the CNA or an ADP (CISA) gave for this entry */
  cpes: string[];
  /** 'cna' or the ADP's short name */
  from: string;
}

/** A CVE as its CVE JSON 5 record (cvelistV5, CISA vulnrichment) describes it. */
export interface Cve5Record {
  id: string;
  state: string;
  dateUpdated: string;
  description: string;
  cvss: Cvss[];
  affected: Cve5Affected[];
  references: Reference[];
  kev?: KevFacts;
  /** CISA's SSVC decision points, when an ADP gave them */
  ssvc?: Record<string, string>;
}

export interface KevEntry extends KevFacts {
  cveId: string;
  vendorProject?: string;
  product?: string;
}

export interface EpssScore {
  cveId: string;
  score: number;
  percentile: number;
  /** score date from the file's comment header */
  date?: string;
  model?: string;
}

/** What one parsed file holds. */
export type KbBatch =
  | { kind: 'nvd'; format: 'nvd-api-2.0' | 'nvd-json-1.1'; records: NvdCve[] }
  | { kind: 'cve5'; format: 'cve-json-5'; records: Cve5Record[] }
  | { kind: 'kev'; format: 'cisa-kev-json' | 'cisa-kev-csv'; records: KevEntry[] }
  | { kind: 'epss'; format: 'epss-csv'; records: EpssScore[] };

export type KbSource = 'nvd' | 'cve5' | 'kev' | 'epss';
export const KB_SOURCES: KbSource[] = ['nvd', 'cve5', 'kev', 'epss'];
