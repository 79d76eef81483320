// Stage: assess (CVE matching). Matches what is known of a device — its CPEs, vendor, model, firmware, OS and
// server programs — against NVD configurations (AND/OR nodes, negate, vulnerable flags, version ranges) and CVE 5
// affected[] entries, through an in-memory index by vendor and product built once per run. Each answer is definite
// or possible, with a confidence (version-verified / model-only / undecidable) and the reasons.
import { ANY, NA, CPE_ATTRIBUTES, literalOf, tryParseCpe, type CpeAttribute, type Wfn } from './cpe.ts';
import { Aliases } from './aliases.ts';
import { compareVersions, comparePrepared, inRange, prepareRange, prepareVersion, type Comparison, type PreparedRange, type PreparedVersion, type RangeAnswer } from './version.ts';
import type { KnowledgeBase } from './kb.ts';
import type { ConfigNode, CpeMatch, Cve5Affected, Cve5Record, Cvss, EpssScore, KevEntry, KevFacts, NvdCve, Reference } from './records.ts';
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

// How a result explains itself. Reasons and matched criteria are spelled out only for the answers that are reported:
// most candidates a device is checked against do not hold, and their strings would be garbage at once.
const enum Why {
  None,
  /** an AND of parts: their reasons and matches in order */
  All,
  /** a negated condition that does not hold */
  Negated,
  /** an h: platform criterion of the device's vendor while no hardware is known */
  HardwareUnknown,
  Hardware,
  RangeNoVersion,
  RangeUndecidable,
  InRange,
  EveryVersion,
  NoVersionGiven,
  ExactNoVersion,
  ExactEqual,
  ExactUndecidable,
  /** reasons and matched given as they are (CVE 5 entries) */
  Given,
}

const enum VersionKind {
  Any,
  Na,
  Literal,
}

class LeafResult {
  constructor(
    readonly r: Tri,
    readonly conf: MatchConfidence | null,
    readonly vulnerableHit: boolean,
    readonly fixed: string | undefined,
    readonly why: Why,
    readonly c: IndexedCriterion | null = null,
    readonly f: Fact | null = null,
    /** the criterion narrows attributes the fact does not know */
    readonly restricted = false,
    readonly parts: LeafResult[] | null = null,
    readonly reasons: string[] | null = null,
    readonly matched: VulnMatch['matched'] | null = null,
  ) {}

  withFixed(fixed: string | undefined): LeafResult {
    return new LeafResult(this.r, this.conf, this.vulnerableHit, fixed, this.why, this.c, this.f, this.restricted, this.parts, this.reasons, this.matched);
  }
}
const NO = new LeafResult(0, null, false, undefined, Why.None);
const NEGATED = new LeafResult(2, 'model-only', false, undefined, Why.Negated);

function confRank(c: MatchConfidence | null): number {
  return c === 'version-verified' ? 2 : c === 'model-only' ? 1 : 0;
}
function worseConf(a: MatchConfidence | null, b: MatchConfidence | null): MatchConfidence | null {
  if (!a) return b;
  if (!b) return a;
  return confRank(a) <= confRank(b) ? a : b;
}

/** A version bound or the literal version of a criterion, ready for comparison: its simple order (see
 *  PreparedVersion.order), ABSENT, or NOT_SIMPLE when the prepared version decides. */
const ABSENT = -2;
const NOT_SIMPLE = -1;
function orderOf(v: PreparedVersion | null): number {
  return v ? (v.order >= 0 ? v.order : NOT_SIMPLE) : ABSENT;
}

/** A CPE criterion with what checking it needs worked out once, when the index is built. What the common checks
 *  read sits in the object itself: an index over the NVD is far larger than the CPU caches, and every pointer
 *  followed per candidate is a likely cache miss. */
interface IndexedCriterion {
  leaf: true;
  m: CpeMatch;
  part: string;
  /** the criterion's version: ANY, NA or a literal */
  versionKind: VersionKind;
  vendorKey: string;
  productKey: string;
  partH: boolean;
  vulnerable: boolean;
  /** attributes after the version that the criterion pins, with the value in lower case */
  narrows: [CpeAttribute, string][];
  /** range bounds: their order (ABSENT, NOT_SIMPLE or the simple order) and prepared form */
  startIncluding: number;
  startExcluding: number;
  endIncluding: number;
  endExcluding: number;
  range: PreparedRange | null;
  /** the criterion's literal version (null for ANY/NA), its order and prepared form */
  version: string | null;
  versionOrder: number;
  preparedVersion: PreparedVersion | null;
  fixed: string | undefined;
  /** the answer while the hardware is unknown, made on first use */
  hardwareUnknown: LeafResult | null;
  /** reason fragments, made on first use (the product's name from the criterion parsed again): the product's literal
   *  name, the range as text */
  productText: string | null;
  rangeText: string | null;
}

/** A configuration or node: the AND/OR of its parts (criteria first, then nested nodes), maybe negated. A node of
 *  one part that is not negated is compiled to that part. */
interface IndexedNode {
  leaf: false;
  operator: 'AND' | 'OR';
  negate: boolean;
  parts: Expr[];
}
type Expr = IndexedCriterion | IndexedNode;

/** A criterion that cannot match anything (unparseable, vendor or product ANY): a part that never holds. */
const NEVER: IndexedNode = { leaf: false, operator: 'OR', negate: false, parts: [] };

/** One of the device's facts as matching reads it, all of one shape, with its version prepared once per call. */
class Fact {
  readonly part: string;
  readonly vendorKey: string;
  readonly productKey: string;
  readonly version: string | undefined;
  readonly from: string;
  readonly wfn: Wfn | undefined;
  readonly prepared: PreparedVersion | null;
  readonly order: number;
  constructor(f: DeviceFact) {
    this.part = f.part;
    this.vendorKey = f.vendorKey;
    this.productKey = f.productKey;
    this.version = f.version;
    this.from = f.from;
    this.wfn = f.wfn;
    this.prepared = f.version ? prepareVersion(f.version) : null;
    this.order = this.prepared && this.prepared.order >= 0 ? this.prepared.order : NOT_SIMPLE;
  }
}

/** What matching keeps of an NVD record besides its compiled configurations: what a finding shows. Descriptions,
 *  CWEs, the long reference lists and the configurations as read stay in the store, so an index over the whole NVD
 *  fits comfortably in memory. */
type IndexedNvd = Pick<NvdCve, 'cvss' | 'references' | 'kev'> & { title: string };

interface IndexedAffected {
  a: Cve5Affected;
  vendorKey: string;
  productKey: string;
}
interface IndexedCve5 {
  r: Cve5Record;
  /** the entries that name a vendor, with their keys */
  affected: IndexedAffected[];
}

/** What a finding shows of a CVE whatever the device; a finding carries only the keys with a value. */
interface CveFacts {
  cvss: Cvss | undefined;
  kev: KevFacts | undefined;
  epss: VulnMatch['epss'];
  title: string;
  references: Reference[];
}

/** Everything the index knows under one CVE id. */
class Entry {
  /** the match call that last took this entry as a candidate, so a CVE under several of a device's keys is checked once */
  seen = 0;
  /** the NVD configurations, compiled: the first in the entry itself (most CVEs have one), the rest in a list */
  first: Expr | null = null;
  more: Expr[] | null = null;
  nvd: IndexedNvd | null = null;
  cve5: IndexedCve5 | null = null;
  /** what a finding shows regardless of the device, made on first use */
  facts: CveFacts | null = null;
  constructor(readonly id: string) {}
}

const MAX_DEPTH = 8;

export class VulnIndex {
  /** vendor key → product key → the CVEs that name it as vulnerable */
  private readonly byKey = new Map<string, Map<string, Linked>>();
  private keyCount = 0;
  private readonly entries = new Map<string, Entry>();
  private nvdCount = 0;
  private cve5Count = 0;
  private readonly kev = new Map<string, KevEntry>();
  private epss = new Map<string, EpssScore>();
  private matchRun = 0;

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
    return { nvd: this.nvdCount, cve5: this.cve5Count, keys: this.keyCount };
  }

  private entry(id: string): Entry {
    let e = this.entries.get(id);
    if (!e) this.entries.set(id, (e = new Entry(id)));
    return e;
  }

  private link(vendorKey: string, productKey: string, e: Entry): void {
    let byProduct = this.byKey.get(vendorKey);
    if (!byProduct) this.byKey.set(vendorKey, (byProduct = new Map()));
    let s = byProduct.get(productKey);
    if (!s) {
      byProduct.set(productKey, (s = { set: new Set(), list: null }));
      this.keyCount++;
    }
    if (!s.set.has(e)) {
      s.set.add(e);
      s.list = null;
    }
  }

  private indexCriterion(m: CpeMatch): IndexedCriterion | null {
    const wfn = tryParseCpe(m.criteria);
    if (!wfn || wfn.vendor === ANY || wfn.product === ANY) return null;
    const vendorKey = this.aliases.vendorKey(literalOf(wfn.vendor) ?? '');
    const productKey = this.aliases.productKeyOf(vendorKey, literalOf(wfn.product) ?? '');
    let narrows = NO_NARROWING;
    for (const a of NARROWING) if (wfn[a] !== ANY && wfn[a] !== NA) (narrows === NO_NARROWING ? (narrows = []) : narrows).push([a, wfn[a].toLowerCase()]);
    const hasRange = m.startIncluding !== undefined || m.startExcluding !== undefined || m.endIncluding !== undefined || m.endExcluding !== undefined;
    const version = literalOf(wfn.version);
    const range = hasRange ? prepareRange(m) : null;
    const preparedVersion = version ? prepareVersion(version) : null;
    return {
      leaf: true,
      m,
      part: wfn.part,
      versionKind: wfn.version === ANY ? VersionKind.Any : wfn.version === NA ? VersionKind.Na : VersionKind.Literal,
      vendorKey,
      productKey,
      partH: wfn.part === 'h',
      vulnerable: m.vulnerable,
      narrows,
      startIncluding: orderOf(range?.startIncluding ?? null),
      startExcluding: orderOf(range?.startExcluding ?? null),
      endIncluding: orderOf(range?.endIncluding ?? null),
      endExcluding: orderOf(range?.endExcluding ?? null),
      range,
      version,
      versionOrder: orderOf(preparedVersion),
      preparedVersion,
      fixed: m.endExcluding || undefined,
      hardwareUnknown: null,
      productText: null,
      rangeText: null,
    };
  }

  addNvd(cve: NvdCve): void {
    const e = this.entry(cve.id);
    const node = (n: ConfigNode, depth: number): Expr => {
      const parts: Expr[] = n.matches.map((m) => {
        const c = this.indexCriterion(m);
        if (c && m.vulnerable) this.link(c.vendorKey, c.productKey, e);
        return c ?? NEVER;
      });
      // Evaluation follows nesting only so deep; deeper nodes are still indexed.
      const children = (n.children ?? []).map((ch) => node(ch, depth + 1));
      if (depth < MAX_DEPTH) parts.push(...children);
      return compiled(n.operator, n.negate, parts);
    };
    const configs = cve.configurations.map((c) => compiled(c.operator, c.negate, c.nodes.map((n) => node(n, 0))));
    const best = pickCvss(cve.cvss);
    if (!e.nvd) this.nvdCount++;
    e.nvd = { cvss: best ? [best] : [], references: rankReferences(cve.references).slice(0, 5), ...(cve.kev ? { kev: cve.kev } : {}), title: titleOf(cve.id, cve.description) };
    e.first = configs[0] ?? null;
    e.more = configs.length > 1 ? configs.slice(1) : null;
    e.facts = null;
  }

  addCve5(r: Cve5Record): void {
    if (r.state === 'REJECTED') return;
    const e = this.entry(r.id);
    const affected: IndexedAffected[] = [];
    for (const a of r.affected) {
      if (!a.vendor || /^n\/?a$/i.test(a.vendor)) continue;
      const v = this.aliases.vendorKey(a.vendor);
      const x = { a, vendorKey: v, productKey: this.aliases.productKeyOf(v, a.product) };
      affected.push(x);
      this.link(x.vendorKey, x.productKey, e);
    }
    if (!e.cve5) this.cve5Count++;
    e.cve5 = { r, affected };
    e.facts = null;
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
      if (d.model) hardwareKnown = this.modelFacts(facts, vk, d.model, d.firmware) || hardwareKnown;
      if (d.product && d.product !== d.model) hardwareKnown = this.modelFacts(facts, vk, d.product, d.firmware) || hardwareKnown;
    }
    if (d.os?.vendor && d.os.product) {
      const vk = this.aliases.vendorKey(d.os.vendor);
      vendorKeys.add(vk);
      const pk = this.aliases.productKeyOf(vk, d.os.product);
      const v = d.os.version;
      facts.push(v ? { part: 'o', vendorKey: vk, productKey: pk, version: v, from: `os ${d.os.product} ${v}` } : { part: 'o', vendorKey: vk, productKey: pk, from: `os ${d.os.product}` });
    }
    for (const s of d.software) {
      if (!s.vendor || !s.product) continue;
      const vk = this.aliases.vendorKey(s.vendor);
      const pk = this.aliases.productKeyOf(vk, s.product);
      const v = s.version;
      facts.push(v ? { part: 'a', vendorKey: vk, productKey: pk, version: v, from: `${s.product} ${v} on port ${s.port}` } : { part: 'a', vendorKey: vk, productKey: pk, from: `${s.product} on port ${s.port}` });
    }
    return { facts, vendorKeys, hardwareKnown };
  }

  /** The box a model name stands for, and the firmware it runs. */
  private modelFacts(facts: DeviceFact[], vk: string, name: string, firmware: string | undefined): boolean {
    const pk = this.aliases.productKeyOf(vk, name);
    facts.push({ part: 'h', vendorKey: vk, productKey: pk, from: `model ${name}` });
    facts.push(firmware ? { part: 'o', vendorKey: vk, productKey: pk, version: firmware, from: `firmware ${firmware} of ${name}` } : { part: 'o', vendorKey: vk, productKey: pk, from: `model ${name} (firmware unknown)` });
    return true;
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
    const run = ++this.matchRun;
    // Gather the candidates first, then check them: the index is far larger than the CPU caches, and a tight loop
    // over the entries lets their memory loads overlap instead of waiting for each in turn.
    const candidates: Entry[] = [];
    for (const f of p.facts) {
      const s = this.byKey.get(f.vendorKey)?.get(f.productKey);
      if (!s) continue;
      const list = (s.list ??= [...s.set]);
      for (let i = 0; i < list.length; i++) {
        const e = list[i]!;
        if (e.seen === run) continue;
        e.seen = run;
        candidates.push(e);
      }
    }
    const out: VulnMatch[] = [];
    if (!candidates.length) return out;
    const facts = p.facts.map((x) => new Fact(x));
    for (let i = 0; i < candidates.length; i++) {
      const m = this.matchOne(candidates[i]!, p, facts);
      if (m) out.push(m);
    }
    return out.length > 1 ? out.sort(byAnswerThenId) : out;
  }

  private matchOne(e: Entry, p: DeviceProfile, facts: Fact[]): VulnMatch | null {
    const c5 = e.cve5;
    let res: LeafResult | null = null;
    let basis: 'nvd' | 'cve5' = 'nvd';
    if (e.first) res = this.evalNvd(e.first, e.more, p, facts);
    else if (c5) {
      res = this.evalCve5(c5, facts);
      basis = 'cve5';
    }
    if (!res || res.r === 0 || !res.vulnerableHit) return null;
    const n = e.nvd;
    const fixed = res.fixed ?? (basis === 'nvd' && c5 ? this.evalCve5(c5, facts).fixed : undefined);
    const shown = (e.facts ??= this.factsOf(e.id, n, c5?.r));
    const reasons: string[] = [];
    reasonsOf(res, reasons);
    const matched: VulnMatch['matched'] = [];
    matchedOf(res, matched);
    // Built key by key in the order findings have always had; a key is present only when it has a value.
    const out = { cve: e.id, answer: res.r === 2 ? 'definite' : 'possible', confidence: res.conf ?? 'model-only', reasons: distinct(reasons), basis, matched } as VulnMatch;
    if (fixed) out.fixedVersion = fixed;
    if (shown.cvss) out.cvss = shown.cvss;
    if (shown.kev) out.kev = shown.kev;
    if (shown.epss) out.epss = shown.epss;
    out.title = shown.title;
    out.references = shown.references;
    return out;
  }

  // What a finding shows about a CVE regardless of the device (CVSS, KEV, EPSS, title, references), built once per
  // CVE: many devices share the same CVEs.
  private factsOf(id: string, n: IndexedNvd | null, c5: Cve5Record | undefined): CveFacts {
    const kev = this.kevOf(id, n ?? undefined, c5);
    const e = this.epss.get(id);
    // Without a CVE 5 record the NVD's own best score and ranked references are the answer already.
    const cvss = c5 ? pickCvss([...(n?.cvss ?? []), ...c5.cvss]) : n?.cvss[0];
    return {
      cvss,
      kev,
      epss: e ? (e.date ? { score: e.score, percentile: e.percentile, date: e.date } : { score: e.score, percentile: e.percentile }) : undefined,
      title: kev?.name ?? n?.title ?? titleOf(id, c5?.description ?? ''),
      references: c5 || !n ? rankReferences([...(n?.references ?? []), ...(c5?.references ?? [])]) : n.references,
    };
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

  private evalNvd(first: Expr, more: Expr[] | null, p: DeviceProfile, facts: Fact[]): LeafResult {
    const r = this.evalExpr(first, p, facts);
    let best: LeafResult = r.vulnerableHit ? r : NO;
    if (more)
      for (let i = 0; i < more.length; i++) {
        const x = this.evalExpr(more[i]!, p, facts);
        if (x.vulnerableHit && better(x, best)) best = x;
      }
    return best;
  }

  private evalExpr(x: Expr, p: DeviceProfile, facts: Fact[]): LeafResult {
    return x.leaf ? this.evalCriterion(x, p, facts) : this.evalNode(x, p, facts);
  }

  private evalNode(node: IndexedNode, p: DeviceProfile, facts: Fact[]): LeafResult {
    const ps = node.parts;
    const n = ps.length;
    let r: LeafResult;
    if (n === 0) r = NO;
    else if (n === 1) r = this.evalExpr(ps[0]!, p, facts);
    else if (node.operator === 'OR') {
      // The first best part wins; nothing beats a definite, version-verified one.
      r = NO;
      for (let i = 0; i < n; i++) {
        const x = this.evalExpr(ps[i]!, p, facts);
        if (better(x, r)) {
          r = x;
          if (r.r === 2 && r.conf === 'version-verified') break;
        }
      }
    } else {
      // AND stops at the first part that does not hold: most candidates fail on their first part.
      r = this.evalExpr(ps[0]!, p, facts);
      if (r.r !== 0) {
        const held: LeafResult[] = [r];
        for (let i = 1; i < n; i++) {
          const x = this.evalExpr(ps[i]!, p, facts);
          if (x.r === 0) {
            held.length = 0;
            break;
          }
          held.push(x);
        }
        r = held.length ? all(held) : NO;
      }
    }
    return node.negate ? negate(r) : r;
  }

  private evalCriterion(c: IndexedCriterion, p: DeviceProfile, facts: Fact[]): LeafResult {
    let best: LeafResult = NO;
    for (let i = 0; i < facts.length; i++) {
      const f = facts[i]!;
      if (f.vendorKey !== c.vendorKey || f.productKey !== c.productKey) continue;
      if (c.partH !== (f.part === 'h')) continue;
      const r = criterionAgainstFact(c, f);
      if (better(r, best)) best = r;
    }
    if (best.r === 0 && c.partH && !c.vulnerable && !p.hardwareKnown && p.vendorKeys.has(c.vendorKey)) {
      // An AND configuration's platform part: the firmware is known but not the box it runs on.
      return (c.hardwareUnknown ??= new LeafResult(1, 'model-only', false, undefined, Why.HardwareUnknown, c));
    }
    return best;
  }

  // ---- CVE 5 affected[] ----

  private evalCve5(r: IndexedCve5, facts: Fact[]): LeafResult {
    let best: LeafResult = NO;
    let fixed: string | undefined;
    for (const x of r.affected) {
      for (const f of facts) {
        if (f.vendorKey !== x.vendorKey || f.productKey !== x.productKey) continue;
        const res = affectedAgainstFact(x.a, f);
        fixed ??= res.fixed;
        if (better(res, best)) best = res;
      }
    }
    return fixed && !best.fixed ? best.withFixed(fixed) : best;
  }
}

const NARROWING = CPE_ATTRIBUTES.slice(4);
/** shared by the criteria that pin nothing after the version (almost all) */
const NO_NARROWING: [CpeAttribute, string][] = [];

/** The CVEs under one vendor/product key: a set while the index is built, read as a list. */
interface Linked {
  set: Set<Entry>;
  list: Entry[] | null;
}

function compiled(operator: 'AND' | 'OR', negate: boolean, parts: Expr[]): Expr {
  return parts.length === 1 && !negate ? parts[0]! : { leaf: false, operator, negate, parts };
}

/** The strings in order of first appearance; the array itself when none repeats (the usual case). */
function distinct(xs: string[]): string[] {
  for (let i = 1; i < xs.length; i++) {
    for (let j = 0; j < i; j++) if (xs[i] === xs[j]) return [...new Set(xs)];
  }
  return xs;
}

function byAnswerThenId(a: VulnMatch, b: VulnMatch): number {
  return a.answer === b.answer ? (a.cve < b.cve ? -1 : a.cve > b.cve ? 1 : 0) : a.answer === 'definite' ? -1 : 1;
}

function leaf(c: IndexedCriterion, f: Fact, restricted: boolean, r: Tri, conf: MatchConfidence | null, why: Why, fixed?: string): LeafResult {
  return new LeafResult(restricted && r === 2 ? 1 : r, conf, c.vulnerable, fixed, why, c, f, restricted);
}

/** compareVersions of a fact's version and a criterion's, by their simple orders when both have one. */
function compareTo(f: Fact, order: number, v: PreparedVersion): Comparison {
  const a = f.order;
  if (a >= 0 && order >= 0) return a < order ? -1 : a > order ? 1 : 0;
  return comparePrepared(f.prepared!, v);
}

/** inRange of the fact's version and the criterion's range. */
function factInRange(f: Fact, c: IndexedCriterion): RangeAnswer {
  const r = c.range!;
  let undecidable = false;
  let x: Comparison;
  if (c.startIncluding !== ABSENT) {
    x = compareTo(f, c.startIncluding, r.startIncluding!);
    if (x === 'undecidable') undecidable = true;
    else if (x < 0) return false;
  }
  if (c.startExcluding !== ABSENT) {
    x = compareTo(f, c.startExcluding, r.startExcluding!);
    if (x === 'undecidable') undecidable = true;
    else if (x <= 0) return false;
  }
  if (c.endIncluding !== ABSENT) {
    x = compareTo(f, c.endIncluding, r.endIncluding!);
    if (x === 'undecidable') undecidable = true;
    else if (x > 0) return false;
  }
  if (c.endExcluding !== ABSENT) {
    x = compareTo(f, c.endExcluding, r.endExcluding!);
    if (x === 'undecidable') undecidable = true;
    else if (x >= 0) return false;
  }
  return undecidable ? 'undecidable' : true;
}

function criterionAgainstFact(c: IndexedCriterion, f: Fact): LeafResult {
  // Attributes other than part/vendor/product/version must not contradict what the fact says.
  let restricted = false;
  if (c.narrows.length) {
    for (const [a, cv] of c.narrows) {
      const fv = f.wfn?.[a];
      if (fv && fv !== ANY) {
        if (fv.toLowerCase() !== cv) return NO;
      } else restricted = true;
    }
  }
  if (c.partH) {
    if (c.preparedVersion && f.version && compareTo(f, c.versionOrder, c.preparedVersion) !== 0) return NO;
    // The platform part of a configuration says nothing about versions: it leaves the confidence to the firmware part.
    return leaf(c, f, restricted, 2, c.vulnerable ? 'model-only' : null, Why.Hardware);
  }
  if (c.range) {
    if (!f.version) return leaf(c, f, restricted, 1, 'model-only', Why.RangeNoVersion, c.fixed);
    const r = factInRange(f, c);
    if (r === false) return NO;
    if (r === 'undecidable') return leaf(c, f, restricted, 1, 'undecidable', Why.RangeUndecidable, c.fixed);
    return leaf(c, f, restricted, 2, 'version-verified', Why.InRange, c.fixed);
  }
  if (c.versionKind === VersionKind.Any) return leaf(c, f, restricted, 2, 'model-only', Why.EveryVersion);
  if (c.versionKind === VersionKind.Na) return leaf(c, f, restricted, 1, 'model-only', Why.NoVersionGiven);
  if (!f.version) return leaf(c, f, restricted, 1, 'model-only', Why.ExactNoVersion);
  const cmp = compareTo(f, c.versionOrder, c.preparedVersion!);
  if (cmp === 0) return leaf(c, f, restricted, 2, 'version-verified', Why.ExactEqual);
  if (cmp === 'undecidable') return leaf(c, f, restricted, 1, 'undecidable', Why.ExactUndecidable);
  return NO;
}

function productText(c: IndexedCriterion): string | null {
  return (c.productText ??= literalOf(tryParseCpe(c.m.criteria)!.product));
}
function rangeTextOf(c: IndexedCriterion): string {
  return (c.rangeText ??= rangeText(c.m));
}

/** The reasons a result gives, in order, appended to out. */
function reasonsOf(x: LeafResult, out: string[]): void {
  switch (x.why) {
    case Why.None:
      return;
    case Why.All:
      for (const part of x.parts!) reasonsOf(part, out);
      return;
    case Why.Negated:
      out.push('a negated condition does not hold');
      return;
    case Why.HardwareUnknown:
      out.push(`needs hardware ${x.c!.m.criteria}; the hardware is not identified`);
      return;
    case Why.Given:
      for (const s of x.reasons!) out.push(s);
      return;
  }
  const c = x.c!;
  const f = x.f!;
  if (x.restricted) out.push(`${c.m.criteria} narrows update/edition/platform, which is not known for the device`);
  if (f.part !== c.part) out.push(`the data names it part "${c.part}", the device's fact is part "${f.part}"`);
  switch (x.why) {
    case Why.Hardware:
      out.push(`hardware ${productText(c)} matches the device's ${f.from}`);
      return;
    case Why.RangeNoVersion:
      out.push(`affected versions ${rangeTextOf(c)}; the device's version is not known`);
      return;
    case Why.RangeUndecidable:
      out.push(`version ${f.version} cannot be compared with the affected range ${rangeTextOf(c)}`);
      return;
    case Why.InRange:
      out.push(`version ${f.version} is in the affected range ${rangeTextOf(c)}`);
      return;
    case Why.EveryVersion:
      out.push(`every version of ${productText(c)} is affected`);
      return;
    case Why.NoVersionGiven:
      out.push(`the data gives no version ("-") for ${productText(c)}: which versions are affected is not said`);
      return;
    case Why.ExactNoVersion:
      out.push(`version ${c.version} is affected; the device's version is not known`);
      return;
    case Why.ExactEqual:
      out.push(`version ${f.version} is the affected version ${c.version}`);
      return;
    case Why.ExactUndecidable:
      out.push(`version ${f.version} cannot be compared with the affected version ${c.version}`);
      return;
  }
}

/** The criteria a result matched, with the device's fact for each, appended to out. */
function matchedOf(x: LeafResult, out: VulnMatch['matched']): void {
  switch (x.why) {
    case Why.None:
    case Why.Negated:
    case Why.HardwareUnknown:
      return;
    case Why.All:
      for (const part of x.parts!) matchedOf(part, out);
      return;
    case Why.Given:
      for (const m of x.matched!) out.push(m);
      return;
  }
  const f = x.f!;
  out.push(f.version ? { criteria: x.c!.m.criteria, fact: f.from, version: f.version } : { criteria: x.c!.m.criteria, fact: f.from });
}

function affectedAgainstFact(a: Cve5Affected, f: Fact): LeafResult {
  let fixed: string | undefined;
  for (const v of a.versions) {
    if (v.status === 'affected' && (v.lessThan || v.lessThanOrEqual)) fixed ??= v.lessThan;
    for (const ch of v.changes ?? []) if (ch.status === 'unaffected') fixed ??= ch.at;
  }
  const anyAffected = a.versions.some((v) => v.status === 'affected') || a.defaultStatus === 'affected';
  if (!anyAffected) return NO;
  if (!f.version || f.part === 'h') return given(a, f, 1, 'model-only', `${a.product} is affected in some versions; the device's version is not known`, fixed);
  let undecidable = false;
  for (const v of a.versions) {
    const st = statusAt(v, f.version);
    if (st === 'undecidable') {
      undecidable = true;
      continue;
    }
    if (st === 'affected') return given(a, f, 2, 'version-verified', `version ${f.version} is affected (${describe(v)})`, fixed);
    if (st === 'unaffected') return NO.withFixed(fixed);
  }
  if (undecidable) return given(a, f, 1, 'undecidable', `version ${f.version} cannot be compared with ${a.versions.map(describe).join('; ')}`, fixed);
  if (a.defaultStatus === 'affected') return given(a, f, 2, 'model-only', `${a.product} is affected unless listed otherwise, and ${f.version} is not listed`, fixed);
  return NO.withFixed(fixed);
}

function given(a: Cve5Affected, f: Fact, r: Tri, conf: MatchConfidence, why: string, fixed: string | undefined): LeafResult {
  const criteria = `${a.vendor} ${a.product} (CVE 5 ${a.from})`;
  const matched = [f.version ? { criteria, fact: f.from, version: f.version } : { criteria, fact: f.from }];
  return new LeafResult(r, conf, r > 0, fixed || undefined, Why.Given, null, f, false, null, [why], matched);
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
  return confRank(a.conf) > confRank(b.conf);
}

/** The AND of parts that all hold: the weakest answer and confidence, every part's reasons. */
function all(parts: LeafResult[]): LeafResult {
  if (parts.length === 1) return parts[0]!;
  let r: Tri = 2;
  let conf: MatchConfidence | null = null;
  let vulnerableHit = false;
  let fixed: string | undefined;
  for (const x of parts) {
    if (x.r < r) r = x.r;
    conf = worseConf(conf, x.conf);
    vulnerableHit ||= x.vulnerableHit;
    fixed ??= x.fixed;
  }
  return new LeafResult(r, conf, vulnerableHit, fixed || undefined, Why.All, null, null, false, parts);
}

function negate(r: LeafResult): LeafResult {
  if (r.r === 1) return r;
  if (r.r === 2) return NO;
  return NEGATED;
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
