// Stage: assess (CVE matching). Matches what is known of a device — its CPEs, vendor, model, firmware, OS and
// server programs — against NVD configurations (AND/OR nodes, negate, vulnerable flags, version ranges) and CVE 5
// affected[] entries, through an in-memory index by vendor and product built once per run. Each answer is definite
// or possible, with a confidence (version-verified / model-only / undecidable) and the reasons.
import { ANY, NA, CPE_ATTRIBUTES, literalOf, tryParseCpe, type Wfn } from './cpe.ts';
import { Aliases } from './aliases.ts';
import { compareVersions, inRange } from './version.ts';
import type { KnowledgeBase } from './kb.ts';
import type { ConfigNode, Configuration, CpeMatch, Cve5Affected, Cve5Record, Cvss, EpssScore, KevEntry, KevFacts, NvdCve, Reference } from './records.ts';
import type { Device } from '../fingerprint/types.ts';

export type Answer = 'definite' | 'possible';
export type MatchConfidence = 'version-verified' | 'model-only' | 'undecidable';

/** One thing known of a device, as a CPE-like fact. */
export interface DeviceFact {
  part: 'a' | 'o' | 'h';
  vendorKey: string;
  productKey: string;
  /** literal version, or undefined when unknown */
  version?: string;
  /** where it came from: 'cpe <string>', 'model', 'firmware', 'os', 'software port 80' */
  from: string;
  wfn?: Wfn;
}

export interface DeviceProfile {
  facts: DeviceFact[];
  /** vendors of the device (keys); an h: criterion of such a vendor is unknown, not false, when no hardware is known */
  vendorKeys: Set<string>;
  hardwareKnown: boolean;
}

export interface VulnMatch {
  cve: string;
  answer: Answer;
  confidence: MatchConfidence;
  reasons: string[];
  /** 'nvd' configurations or 'cve5' affected entries */
  basis: 'nvd' | 'cve5';
  matched: { criteria: string; fact: string; version?: string }[];
  fixedVersion?: string;
  cvss?: Cvss;
  kev?: KevFacts;
  epss?: { score: number; percentile: number; date?: string };
  title: string;
  references: Reference[];
}

type Tri = 0 | 1 | 2; // no, possible, definite
interface LeafResult {
  r: Tri;
  conf: MatchConfidence | null;
  reasons: string[];
  matched: VulnMatch['matched'];
  fixed?: string;
  vulnerableHit: boolean;
}
const NO: LeafResult = { r: 0, conf: null, reasons: [], matched: [], vulnerableHit: false };

const CONF_RANK: Record<MatchConfidence, number> = { 'version-verified': 2, 'model-only': 1, undecidable: 0 };
function worseConf(a: MatchConfidence | null, b: MatchConfidence | null): MatchConfidence | null {
  if (!a) return b;
  if (!b) return a;
  return CONF_RANK[a] <= CONF_RANK[b] ? a : b;
}

interface IndexedCriterion {
  m: CpeMatch;
  wfn: Wfn;
  vendorKey: string;
  productKey: string;
}

/** What matching keeps of an NVD record: its configurations and what a finding shows. Descriptions, CWEs and the
 *  long reference lists stay in the store, so an index over the whole NVD fits comfortably in memory. */
interface IndexedNvd {
  cve: Pick<NvdCve, 'configurations' | 'cvss' | 'references' | 'kev'> & { title: string };
  crit: Map<CpeMatch, IndexedCriterion>;
}

export class VulnIndex {
  private readonly byKey = new Map<string, Set<string>>();
  private readonly nvd = new Map<string, IndexedNvd>();
  private readonly cve5 = new Map<string, Cve5Record>();
  private readonly kev = new Map<string, KevEntry>();
  private epss = new Map<string, EpssScore>();

  constructor(readonly aliases: Aliases) {}

  static fromKnowledgeBase(kb: KnowledgeBase, aliases = Aliases.load()): VulnIndex {
    const ix = new VulnIndex(aliases);
    for (const r of kb.allNvd()) ix.addNvd(r);
    for (const r of kb.allCve5()) ix.addCve5(r);
    for (const k of kb.allKev()) ix.kev.set(k.cveId, k);
    ix.epss = kb.allEpss();
    return ix;
  }

  get size(): { nvd: number; cve5: number; keys: number } {
    return { nvd: this.nvd.size, cve5: this.cve5.size, keys: this.byKey.size };
  }

  private key(v: string, p: string): string {
    return `${v}\u0000${p}`;
  }
  private link(key: string, id: string): void {
    let s = this.byKey.get(key);
    if (!s) this.byKey.set(key, (s = new Set()));
    s.add(id);
  }

  addNvd(cve: NvdCve): void {
    const crit = new Map<CpeMatch, IndexedCriterion>();
    const visit = (n: ConfigNode) => {
      for (const m of n.matches) {
        const wfn = tryParseCpe(m.criteria);
        if (!wfn || wfn.vendor === ANY || wfn.product === ANY) continue;
        const vendorKey = this.aliases.vendorKey(literalOf(wfn.vendor) ?? '');
        const productKey = this.aliases.productKeyOf(vendorKey, literalOf(wfn.product) ?? '');
        crit.set(m, { m, wfn, vendorKey, productKey });
        if (m.vulnerable) this.link(this.key(vendorKey, productKey), cve.id);
      }
      n.children?.forEach(visit);
    };
    for (const c of cve.configurations) c.nodes.forEach(visit);
    const best = pickCvss(cve.cvss);
    this.nvd.set(cve.id, {
      cve: { configurations: cve.configurations, cvss: best ? [best] : [], references: rankReferences(cve.references).slice(0, 5), ...(cve.kev ? { kev: cve.kev } : {}), title: titleOf(cve.id, cve.description) },
      crit,
    });
  }

  addCve5(r: Cve5Record): void {
    if (r.state === 'REJECTED') return;
    this.cve5.set(r.id, r);
    for (const a of r.affected) {
      if (!a.vendor || /^n\/?a$/i.test(a.vendor)) continue;
      const v = this.aliases.vendorKey(a.vendor);
      this.link(this.key(v, this.aliases.productKeyOf(v, a.product)), r.id);
    }
  }

  /** What is known of a device, as facts the criteria are checked against. */
  profileOfDevice(d: Device): DeviceProfile {
    const facts: DeviceFact[] = [];
    const vendorKeys = new Set<string>();
    let hardwareKnown = false;
    for (const c of d.cpe) {
      const f = this.factOfCpe(c);
      if (!f) continue;
      facts.push(f);
      vendorKeys.add(f.vendorKey);
      if (f.part === 'h') hardwareKnown = true;
    }
    if (d.vendor) {
      const vk = this.aliases.vendorKey(d.vendor);
      vendorKeys.add(vk);
      for (const name of new Set([d.model, d.product].filter((x): x is string => !!x))) {
        const pk = this.aliases.productKeyOf(vk, name);
        facts.push({ part: 'h', vendorKey: vk, productKey: pk, from: `model ${name}` });
        facts.push({ part: 'o', vendorKey: vk, productKey: pk, ...(d.firmware ? { version: d.firmware } : {}), from: d.firmware ? `firmware ${d.firmware} of ${name}` : `model ${name} (firmware unknown)` });
        hardwareKnown = true;
      }
    }
    if (d.os?.vendor && d.os.product) {
      const vk = this.aliases.vendorKey(d.os.vendor);
      vendorKeys.add(vk);
      facts.push({ part: 'o', vendorKey: vk, productKey: this.aliases.productKeyOf(vk, d.os.product), ...(d.os.version ? { version: d.os.version } : {}), from: `os ${d.os.product}${d.os.version ? ' ' + d.os.version : ''}` });
    }
    for (const s of d.software) {
      if (!s.vendor || !s.product) continue;
      const vk = this.aliases.vendorKey(s.vendor);
      facts.push({ part: 'a', vendorKey: vk, productKey: this.aliases.productKeyOf(vk, s.product), ...(s.version ? { version: s.version } : {}), from: `${s.product}${s.version ? ' ' + s.version : ''} on port ${s.port}` });
    }
    return { facts, vendorKeys, hardwareKnown };
  }

  /** What is known of a product from CPEs alone (`vulns --cpe`). */
  profileOfCpes(cpes: string[]): DeviceProfile {
    const facts: DeviceFact[] = [];
    const vendorKeys = new Set<string>();
    let hardwareKnown = false;
    for (const c of cpes) {
      const f = this.factOfCpe(c);
      if (!f) continue;
      facts.push(f);
      vendorKeys.add(f.vendorKey);
      if (f.part === 'h') hardwareKnown = true;
    }
    // The firmware of a known box is known to exist even when its version is not: "<model>_firmware", version unknown.
    for (const h of facts.filter((f) => f.part === 'h')) {
      if (!facts.some((f) => f.part === 'o' && f.vendorKey === h.vendorKey && f.productKey === h.productKey))
        facts.push({ part: 'o', vendorKey: h.vendorKey, productKey: h.productKey, from: `firmware of ${h.from} (version unknown)` });
    }
    return { facts, vendorKeys, hardwareKnown };
  }

  private readonly factCache = new Map<string, DeviceFact | null>();
  private factOfCpe(c: string): DeviceFact | null {
    let f = this.factCache.get(c);
    if (f === undefined) {
      if (this.factCache.size > 100_000) this.factCache.clear();
      f = this.parseFact(c);
      this.factCache.set(c, f);
    }
    return f;
  }

  private parseFact(c: string): DeviceFact | null {
    const wfn = tryParseCpe(c);
    if (!wfn || wfn.vendor === ANY || wfn.product === ANY || (wfn.part !== 'a' && wfn.part !== 'o' && wfn.part !== 'h')) return null;
    const vk = this.aliases.vendorKey(literalOf(wfn.vendor) ?? '');
    const version = literalOf(wfn.version);
    return { part: wfn.part, vendorKey: vk, productKey: this.aliases.productKeyOf(vk, literalOf(wfn.product) ?? ''), ...(version ? { version } : {}), from: `cpe ${c}`, wfn };
  }

  /** Every CVE the profile matches, definite ones first. */
  match(p: DeviceProfile): VulnMatch[] {
    const candidates = new Set<string>();
    for (const f of p.facts) {
      const s = this.byKey.get(this.key(f.vendorKey, f.productKey));
      if (s) for (const id of s) candidates.add(id);
    }
    const out: VulnMatch[] = [];
    for (const id of candidates) {
      const m = this.matchOne(id, p);
      if (m) out.push(m);
    }
    return out.sort((a, b) => (a.answer === b.answer ? (a.cve < b.cve ? -1 : a.cve > b.cve ? 1 : 0) : a.answer === 'definite' ? -1 : 1));
  }

  private matchOne(id: string, p: DeviceProfile): VulnMatch | null {
    const n = this.nvd.get(id);
    const c5 = this.cve5.get(id);
    let res: LeafResult | null = null;
    let basis: 'nvd' | 'cve5' = 'nvd';
    if (n && n.cve.configurations.length) res = this.evalNvd(n, p);
    else if (c5) {
      res = this.evalCve5(c5, p);
      basis = 'cve5';
    }
    if (!res || res.r === 0 || !res.vulnerableHit) return null;
    const fixed = res.fixed ?? (basis === 'nvd' && c5 ? this.evalCve5(c5, p).fixed : undefined);
    const facts = this.factsOf(id, n, c5);
    return {
      cve: id,
      answer: res.r === 2 ? 'definite' : 'possible',
      confidence: res.conf ?? 'model-only',
      reasons: res.reasons.length > 1 ? [...new Set(res.reasons)] : res.reasons,
      basis,
      matched: res.matched,
      ...(fixed ? { fixedVersion: fixed } : {}),
      ...facts,
    };
  }

  // What a finding shows about a CVE regardless of the device (CVSS, KEV, EPSS, title, references), built once per
  // CVE per run: many devices share the same CVEs.
  private readonly factsCache = new Map<string, Pick<VulnMatch, 'cvss' | 'kev' | 'epss' | 'title' | 'references'>>();
  private factsOf(id: string, n: IndexedNvd | undefined, c5: Cve5Record | undefined): Pick<VulnMatch, 'cvss' | 'kev' | 'epss' | 'title' | 'references'> {
    let f = this.factsCache.get(id);
    if (f) return f;
    const kev = this.kevOf(id, n?.cve, c5);
    const e = this.epss.get(id);
    const cvss = pickCvss([...(n?.cve.cvss ?? []), ...(c5?.cvss ?? [])]);
    f = {
      ...(cvss ? { cvss } : {}),
      ...(kev ? { kev } : {}),
      ...(e ? { epss: { score: e.score, percentile: e.percentile, ...(e.date ? { date: e.date } : {}) } } : {}),
      title: kev?.name ?? n?.cve.title ?? titleOf(id, c5?.description ?? ''),
      references: rankReferences([...(n?.cve.references ?? []), ...(c5?.references ?? [])]),
    };
    if (this.factsCache.size > 200_000) this.factsCache.clear();
    this.factsCache.set(id, f);
    return f;
  }

  private kevOf(id: string, n?: Pick<NvdCve, 'kev'>, c5?: Cve5Record): KevFacts | undefined {
    const k = this.kev.get(id);
    if (k) {
      const { cveId: _id, vendorProject: _v, product: _p, ...facts } = k;
      return facts;
    }
    return n?.kev ?? c5?.kev;
  }

  // ---- NVD configurations ----

  private evalNvd(n: IndexedNvd, p: DeviceProfile): LeafResult {
    let best: LeafResult = NO;
    for (const cfg of n.cve.configurations) {
      const r = this.evalConfig(cfg, n, p);
      if (r.vulnerableHit && better(r, best)) best = r;
    }
    return best;
  }

  private evalConfig(cfg: Configuration, n: IndexedNvd, p: DeviceProfile): LeafResult {
    // AND stops at the first part that does not hold: most candidates fail on their first node.
    const parts: LeafResult[] = [];
    for (const node of cfg.nodes) {
      const r = this.evalNode(node, n, p, 0);
      if (cfg.operator === 'AND' && r.r === 0 && !cfg.negate) return NO;
      parts.push(r);
    }
    const r = combine(parts, cfg.operator);
    return cfg.negate ? negate(r) : r;
  }

  private evalNode(node: ConfigNode, n: IndexedNvd, p: DeviceProfile, depth: number): LeafResult {
    const parts = node.matches.map((m) => this.evalCriterion(m, n, p));
    if (node.children && depth < 8) for (const c of node.children) parts.push(this.evalNode(c, n, p, depth + 1));
    const r = combine(parts, node.operator);
    return node.negate ? negate(r) : r;
  }

  private evalCriterion(m: CpeMatch, n: IndexedNvd, p: DeviceProfile): LeafResult {
    const c = n.crit.get(m);
    if (!c) return NO;
    let best: LeafResult = NO;
    for (const f of p.facts) {
      if (f.vendorKey !== c.vendorKey || f.productKey !== c.productKey) continue;
      if ((c.wfn.part === 'h') !== (f.part === 'h')) continue;
      const r = this.criterionAgainstFact(c, f);
      if (better(r, best)) best = r;
    }
    if (best.r === 0 && c.wfn.part === 'h' && !m.vulnerable && !p.hardwareKnown && p.vendorKeys.has(c.vendorKey)) {
      // An AND configuration's platform part: the firmware is known but not the box it runs on.
      return { r: 1, conf: 'model-only', reasons: [`needs hardware ${m.criteria}; the hardware is not identified`], matched: [], vulnerableHit: false };
    }
    return best;
  }

  private criterionAgainstFact(c: IndexedCriterion, f: DeviceFact): LeafResult {
    const m = c.m;
    const reasons: string[] = [];
    // Attributes other than part/vendor/product/version must not contradict what the fact says.
    let restricted = false;
    for (const a of CPE_ATTRIBUTES.slice(4)) {
      const cv = c.wfn[a];
      if (cv === ANY || cv === NA) continue;
      const fv = f.wfn?.[a];
      if (fv && fv !== ANY) {
        if (fv.toLowerCase() !== cv.toLowerCase()) return NO;
      } else restricted = true;
    }
    if (restricted) reasons.push(`${m.criteria} narrows update/edition/platform, which is not known for the device`);
    if (f.part !== c.wfn.part) reasons.push(`the data names it part "${c.wfn.part}", the device's fact is part "${f.part}"`);
    const fixed = m.endExcluding;
    if (c.wfn.part === 'h') {
      const cv = literalOf(c.wfn.version);
      if (cv && f.version && compareVersions(cv, f.version) !== 0) return NO;
      // The platform part of a configuration says nothing about versions: it leaves the confidence to the firmware part.
      return { ...leaf(m, f, restricted, reasons, 2, 'model-only', `hardware ${literalOf(c.wfn.product)} matches the device's ${f.from}`), conf: m.vulnerable ? 'model-only' : null };
    }
    const hasRange = m.startIncluding !== undefined || m.startExcluding !== undefined || m.endIncluding !== undefined || m.endExcluding !== undefined;
    if (hasRange) {
      if (!f.version) return leaf(m, f, restricted, reasons, 1, 'model-only', `affected versions ${rangeText(m)}; the device's version is not known`, fixed);
      const r = inRange(f.version, m);
      if (r === false) return NO;
      const range = rangeText(m);
      if (r === 'undecidable') return leaf(m, f, restricted, reasons, 1, 'undecidable', `version ${f.version} cannot be compared with the affected range ${range}`, fixed);
      return leaf(m, f, restricted, reasons, 2, 'version-verified', `version ${f.version} is in the affected range ${range}`, fixed);
    }
    if (c.wfn.version === ANY) return leaf(m, f, restricted, reasons, 2, 'model-only', `every version of ${literalOf(c.wfn.product)} is affected`);
    if (c.wfn.version === NA) return leaf(m, f, restricted, reasons, 1, 'model-only', `the data gives no version ("-") for ${literalOf(c.wfn.product)}: which versions are affected is not said`);
    const cv = literalOf(c.wfn.version)!;
    if (!f.version) return leaf(m, f, restricted, reasons, 1, 'model-only', `version ${cv} is affected; the device's version is not known`);
    const cmp = compareVersions(f.version, cv);
    if (cmp === 0) return leaf(m, f, restricted, reasons, 2, 'version-verified', `version ${f.version} is the affected version ${cv}`);
    if (cmp === 'undecidable') return leaf(m, f, restricted, reasons, 1, 'undecidable', `version ${f.version} cannot be compared with the affected version ${cv}`);
    return NO;
  }

  // ---- CVE 5 affected[] ----

  private evalCve5(r: Cve5Record, p: DeviceProfile): LeafResult {
    let best: LeafResult = NO;
    let fixed: string | undefined;
    for (const a of r.affected) {
      if (!a.vendor || /^n\/?a$/i.test(a.vendor)) continue;
      const vk = this.aliases.vendorKey(a.vendor);
      const pk = this.aliases.productKeyOf(vk, a.product);
      for (const f of p.facts) {
        if (f.vendorKey !== vk || f.productKey !== pk) continue;
        const res = this.affectedAgainstFact(a, f);
        fixed ??= res.fixed;
        if (better(res, best)) best = res;
      }
    }
    return fixed && !best.fixed ? { ...best, fixed } : best;
  }

  private affectedAgainstFact(a: Cve5Affected, f: DeviceFact): LeafResult {
    const crit = `${a.vendor} ${a.product} (CVE 5 ${a.from})`;
    const matched = [{ criteria: crit, fact: f.from, ...(f.version ? { version: f.version } : {}) }];
    const mk = (r: Tri, conf: MatchConfidence, why: string, fixed?: string): LeafResult => ({ r, conf, reasons: [why], matched, vulnerableHit: r > 0, ...(fixed ? { fixed } : {}) });
    let fixed: string | undefined;
    for (const v of a.versions) {
      if (v.status === 'affected' && (v.lessThan || v.lessThanOrEqual)) fixed ??= v.lessThan;
      for (const ch of v.changes ?? []) if (ch.status === 'unaffected') fixed ??= ch.at;
    }
    const anyAffected = a.versions.some((v) => v.status === 'affected') || a.defaultStatus === 'affected';
    if (!anyAffected) return NO;
    if (!f.version || f.part === 'h') return mk(1, 'model-only', `${a.product} is affected in some versions; the device's version is not known`, fixed);
    let undecidable = false;
    for (const v of a.versions) {
      const st = statusAt(v, f.version);
      if (st === 'undecidable') {
        undecidable = true;
        continue;
      }
      if (st === 'affected') return mk(2, 'version-verified', `version ${f.version} is affected (${describe(v)})`, fixed);
      if (st === 'unaffected') return { ...NO, fixed };
    }
    if (undecidable) return mk(1, 'undecidable', `version ${f.version} cannot be compared with ${a.versions.map(describe).join('; ')}`, fixed);
    if (a.defaultStatus === 'affected') return mk(2, 'model-only', `${a.product} is affected unless listed otherwise, and ${f.version} is not listed`, fixed);
    return { ...NO, fixed };
  }
}

function leaf(m: CpeMatch, f: DeviceFact, restricted: boolean, reasons: string[], r: Tri, conf: MatchConfidence, why: string, fixed?: string): LeafResult {
  return {
    r: restricted && r === 2 ? 1 : r,
    conf,
    reasons: reasons.length ? [...reasons, why] : [why],
    matched: [{ criteria: m.criteria, fact: f.from, ...(f.version ? { version: f.version } : {}) }],
    vulnerableHit: m.vulnerable,
    ...(fixed ? { fixed } : {}),
  };
}

function rangeText(m: CpeMatch): string {
  return [m.startIncluding && `≥ ${m.startIncluding}`, m.startExcluding && `> ${m.startExcluding}`, m.endIncluding && `≤ ${m.endIncluding}`, m.endExcluding && `< ${m.endExcluding}`].filter(Boolean).join(', ');
}

function describe(v: { version: string; lessThan?: string; lessThanOrEqual?: string; status: string }): string {
  if (v.lessThan) return `${v.status} from ${v.version} below ${v.lessThan}`;
  if (v.lessThanOrEqual) return `${v.status} from ${v.version} to ${v.lessThanOrEqual}`;
  return `${v.status}: ${v.version}`;
}

/** The status a CVE 5 version entry gives a version: affected/unaffected, null when the entry does not cover it. */
function statusAt(v: Cve5Affected['versions'][number], version: string): 'affected' | 'unaffected' | 'unknown' | null | 'undecidable' {
  if (v.lessThan || v.lessThanOrEqual) {
    const start = v.version === '0' || v.version === '*' || v.version === '' ? undefined : v.version;
    const r = inRange(version, { ...(start ? { startIncluding: start } : {}), ...(v.lessThan && v.lessThan !== '*' ? { endExcluding: v.lessThan } : {}), ...(v.lessThanOrEqual && v.lessThanOrEqual !== '*' ? { endIncluding: v.lessThanOrEqual } : {}) });
    if (r === false) return null;
    if (r === 'undecidable') return 'undecidable';
    let st: 'affected' | 'unaffected' | 'unknown' = v.status;
    const changes = [...(v.changes ?? [])];
    for (const ch of changes) {
      const c = compareVersions(version, ch.at);
      if (c === 'undecidable') return 'undecidable';
      if (c >= 0) st = ch.status;
    }
    return st;
  }
  const c = compareVersions(version, v.version);
  if (c === 'undecidable') return 'undecidable';
  return c === 0 ? v.status : null;
}

function better(a: LeafResult, b: LeafResult): boolean {
  if (a.r !== b.r) return a.r > b.r;
  return CONF_RANK[a.conf ?? 'undecidable'] > CONF_RANK[b.conf ?? 'undecidable'];
}

function combine(parts: LeafResult[], op: 'AND' | 'OR'): LeafResult {
  if (parts.length === 1) return parts[0]!;
  if (!parts.length) return NO;
  if (op === 'OR') {
    let best = NO;
    for (const r of parts) if (better(r, best)) best = r;
    return best;
  }
  let r: Tri = 2;
  let conf: MatchConfidence | null = null;
  let vulnerableHit = false;
  let fixed: string | undefined;
  for (const x of parts) {
    if (x.r === 0) return NO;
    if (x.r < r) r = x.r;
    conf = worseConf(conf, x.conf);
    vulnerableHit ||= x.vulnerableHit;
    fixed ??= x.fixed;
  }
  return { r, conf, reasons: parts.flatMap((x) => x.reasons), matched: parts.flatMap((x) => x.matched), vulnerableHit, ...(fixed ? { fixed } : {}) };
}

function negate(r: LeafResult): LeafResult {
  if (r.r === 1) return r;
  if (r.r === 2) return NO;
  return { r: 2, conf: 'model-only', reasons: ['a negated condition does not hold'], matched: [], vulnerableHit: false };
}

const CVSS_ORDER = ['3.1', '3.0', '4.0', '2.0'];
/** The score to rank by: CVSS 3.x first (what most tooling and KEV triage use), then 4.0, then 2.0; NVD's own first. */
export function pickCvss(list: Cvss[]): Cvss | undefined {
  return [...list].sort((a, b) => {
    const v = CVSS_ORDER.indexOf(a.version) - CVSS_ORDER.indexOf(b.version);
    if (v) return v;
    return (a.type === 'Primary' ? 0 : 1) - (b.type === 'Primary' ? 0 : 1);
  })[0];
}

function titleOf(id: string, description: string, kev?: KevFacts): string {
  if (kev?.name) return kev.name;
  const stop = description.search(/\.\s/);
  const first = stop >= 0 ? description.slice(0, stop + 1) : description;
  return first ? (first.length > 140 ? first.slice(0, 139) + '…' : first) : id;
}

const ADVISORY = /vendor.?advisory|patch|mitigation/i;
function rankReferences(refs: Reference[]): Reference[] {
  const seen = new Set<string>();
  const uniq = refs.filter((r) => (seen.has(r.url) ? false : (seen.add(r.url), true)));
  return uniq.sort((a, b) => Number((b.tags ?? []).some((t) => ADVISORY.test(t))) - Number((a.tags ?? []).some((t) => ADVISORY.test(t)))).slice(0, 10);
}
