// Stage: knowledge (ingest). Parsers for the vulnerability data formats: NVD CVE API 2.0 (response pages and single
// `cve` objects), the legacy NVD 1.1 JSON feed, CVE JSON 5 records, the CISA KEV catalog (JSON and CSV) and the EPSS
// daily CSV. Each file's format is detected from its content; a malformed file fails with its position (JSON path,
// or line and byte offset), and nothing of it is kept.
import type { Configuration, ConfigNode, CpeMatch, Cve5Affected, Cve5Record, Cve5Version, Cvss, EpssScore, KbBatch, KevEntry, KevFacts, NvdCve, Reference } from './records.ts';

export class KbFormatError extends Error {
  override name = 'KbFormatError';
  constructor(
    readonly reason: string,
    /** where: "$.vulnerabilities[3].cve.id", "line 12", "byte 4096 (line 80, column 3)" */
    readonly position: string,
    public file?: string,
  ) {
    super(`${file ? `${file}: ` : ''}${position ? `at ${position}: ` : ''}${reason}`);
  }
  withFile(file: string): KbFormatError {
    return new KbFormatError(this.reason, this.position, file);
  }
}

const MAX_TEXT = 4000;
type Obj = Record<string, unknown>;

function fail(path: string, reason: string): never {
  throw new KbFormatError(reason, path);
}
function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function obj(v: unknown, path: string): Obj {
  if (!isObj(v)) fail(path, `expected an object, found ${kindOf(v)}`);
  return v;
}
function arr(v: unknown, path: string, optional = true): unknown[] {
  if (v === undefined || v === null) {
    if (optional) return [];
    fail(path, 'missing array');
  }
  if (!Array.isArray(v)) fail(path, `expected an array, found ${kindOf(v)}`);
  return v;
}
function str(v: unknown, path: string): string {
  if (typeof v !== 'string') fail(path, `expected a string, found ${kindOf(v)}`);
  return v;
}
function optStr(v: unknown, path: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  return str(v, path);
}
function num(v: unknown, path: string): number {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  fail(path, `expected a number, found ${kindOf(v)}`);
}
function bool(v: unknown, path: string, dflt: boolean): boolean {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'boolean') fail(path, `expected true or false, found ${kindOf(v)}`);
  return v;
}
function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v).slice(0, 40)}`;
}
function cap(s: string): string {
  return s.length > MAX_TEXT ? s.slice(0, MAX_TEXT) + '…' : s;
}
const CVE_ID = /^CVE-\d{4}-\d{4,}$/;
function cveId(v: unknown, path: string): string {
  const id = str(v, path);
  if (!CVE_ID.test(id)) fail(path, `not a CVE id: ${JSON.stringify(id.slice(0, 40))}`);
  return id;
}
function operator(v: unknown, path: string): 'AND' | 'OR' {
  if (v === undefined || v === null) return 'OR';
  if (v !== 'AND' && v !== 'OR') fail(path, `operator must be AND or OR, found ${kindOf(v)}`);
  return v;
}

/**
 * Where JSON text first stops being valid, and why: a small grammar walk run only after JSON.parse failed (V8's
 * messages do not always carry a position). Iterative, so hostile nesting cannot overflow the stack.
 */
export function jsonErrorAt(text: string): { offset: number; reason: string } {
  let i = 0;
  const n = text.length;
  const ws = () => {
    while (i < n && (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t')) i++;
  };
  const end = (what: string) => ({ offset: i, reason: i >= n ? `truncated JSON (input ends inside ${what})` : `unexpected ${JSON.stringify(text[i])} in ${what}` });
  // stack of open containers: '{' or '['
  const stack: string[] = [];
  // whether the innermost container still waits for its first member
  let first = false;
  const value = (): { offset: number; reason: string } | null => {
    ws();
    const c = text[i];
    if (c === '{' || c === '[') {
      stack.push(c);
      i++;
      ws();
      if (text[i] === (c === '{' ? '}' : ']')) {
        stack.pop();
        i++;
      } else first = true;
      return null;
    }
    if (c === '"') {
      i++;
      while (i < n && text[i] !== '"') {
        if (text[i] === '\\') i++;
        else if (text.charCodeAt(i) < 0x20) return end('a string');
        i++;
      }
      if (i >= n) return end('a string');
      i++;
      return null;
    }
    const lit = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 400));
    if (!lit) return end('a value');
    i += lit[0].length;
    return null;
  };
  let err = value();
  if (err) return err;
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    ws();
    // after a member value: "," or the closing bracket
    if (first) first = false;
    else if (text[i] === ',') {
      i++;
      ws();
    } else if (text[i] === (top === '{' ? '}' : ']')) {
      stack.pop();
      i++;
      continue;
    } else return end(top === '{' ? 'an object' : 'an array');
    if (top === '{') {
      if (text[i] !== '"') return end('an object (expected a key)');
      err = value();
      if (err) return err;
      ws();
      if (text[i] !== ':') return end('an object (expected ":")');
      i++;
    }
    err = value();
    if (err) return err;
  }
  ws();
  return i < n ? { offset: i, reason: `unexpected ${JSON.stringify(text[i])} after the end of the JSON value` } : { offset: n, reason: 'invalid JSON' };
}

/** Parse JSON text; a syntax error reports its byte offset, line and column. */
export function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    const { offset, reason } = jsonErrorAt(text);
    const before = text.slice(0, offset);
    const line = before.split('\n').length;
    const col = offset - before.lastIndexOf('\n');
    throw new KbFormatError(reason, `byte ${Buffer.byteLength(before)} (line ${line}, column ${col})`);
  }
}

// ---------- NVD API 2.0 ----------

function nvdCvss(metrics: unknown, path: string): Cvss[] {
  if (metrics === undefined || metrics === null) return [];
  const m = obj(metrics, path);
  const out: Cvss[] = [];
  for (const key of ['cvssMetricV40', 'cvssMetricV31', 'cvssMetricV30', 'cvssMetricV2']) {
    arr(m[key], `${path}.${key}`).forEach((e, i) => {
      const p = `${path}.${key}[${i}]`;
      const o = obj(e, p);
      const d = obj(o.cvssData, `${p}.cvssData`);
      out.push({
        version: str(d.version, `${p}.cvssData.version`),
        score: num(d.baseScore, `${p}.cvssData.baseScore`),
        vector: str(d.vectorString, `${p}.cvssData.vectorString`),
        severity: optStr(d.baseSeverity ?? o.baseSeverity, `${p}.baseSeverity`),
        source: optStr(o.source, `${p}.source`),
        type: optStr(o.type, `${p}.type`),
      });
    });
  }
  return out;
}

function nvdMatch(e: unknown, p: string, criteriaKey: 'criteria' | 'cpe23Uri'): CpeMatch {
  const o = obj(e, p);
  const m: CpeMatch = { vulnerable: bool(o.vulnerable, `${p}.vulnerable`, true), criteria: str(o[criteriaKey], `${p}.${criteriaKey}`) };
  const si = optStr(o.versionStartIncluding, `${p}.versionStartIncluding`);
  const se = optStr(o.versionStartExcluding, `${p}.versionStartExcluding`);
  const ei = optStr(o.versionEndIncluding, `${p}.versionEndIncluding`);
  const ee = optStr(o.versionEndExcluding, `${p}.versionEndExcluding`);
  if (si !== undefined) m.startIncluding = si;
  if (se !== undefined) m.startExcluding = se;
  if (ei !== undefined) m.endIncluding = ei;
  if (ee !== undefined) m.endExcluding = ee;
  return m;
}

function references(v: unknown, path: string, url = 'url'): Reference[] {
  return arr(v, path)
    .slice(0, 200)
    .map((e, i) => {
      const o = obj(e, `${path}[${i}]`);
      const tags = arr(o.tags, `${path}[${i}].tags`).map((t, j) => str(t, `${path}[${i}].tags[${j}]`));
      return { url: cap(str(o[url], `${path}[${i}].${url}`)), ...(tags.length ? { tags } : {}) };
    });
}

function english(v: unknown, path: string, valueKey = 'value'): string {
  const list = arr(v, path);
  let first = '';
  for (let i = 0; i < list.length; i++) {
    const o = obj(list[i], `${path}[${i}]`);
    const text = str(o[valueKey], `${path}[${i}].${valueKey}`);
    if (!first) first = text;
    if (o.lang === 'en' || o.lang === 'eng' || (typeof o.lang === 'string' && o.lang.startsWith('en'))) return cap(text);
  }
  return cap(first);
}

/** One `cve` object of the NVD API 2.0. */
export function parseNvdApiCve(v: unknown, path: string): NvdCve {
  const c = obj(v, path);
  const id = cveId(c.id, `${path}.id`);
  const configurations: Configuration[] = arr(c.configurations, `${path}.configurations`).map((cfg, i) => {
    const p = `${path}.configurations[${i}]`;
    const co = obj(cfg, p);
    return {
      operator: operator(co.operator, `${p}.operator`),
      negate: bool(co.negate, `${p}.negate`, false),
      nodes: arr(co.nodes, `${p}.nodes`).map((n, j) => {
        const q = `${p}.nodes[${j}]`;
        const no = obj(n, q);
        return {
          operator: operator(no.operator, `${q}.operator`),
          negate: bool(no.negate, `${q}.negate`, false),
          matches: arr(no.cpeMatch, `${q}.cpeMatch`).map((m, k) => nvdMatch(m, `${q}.cpeMatch[${k}]`, 'criteria')),
        };
      }),
    };
  });
  const cwes: string[] = [];
  arr(c.weaknesses, `${path}.weaknesses`).forEach((w, i) => {
    arr(obj(w, `${path}.weaknesses[${i}]`).description, `${path}.weaknesses[${i}].description`).forEach((d, j) => {
      const value = str(obj(d, `${path}.weaknesses[${i}].description[${j}]`).value, `${path}.weaknesses[${i}].description[${j}].value`);
      if (!cwes.includes(value)) cwes.push(value);
    });
  });
  const rec: NvdCve = {
    id,
    published: optStr(c.published, `${path}.published`),
    lastModified: str(c.lastModified, `${path}.lastModified`),
    vulnStatus: optStr(c.vulnStatus, `${path}.vulnStatus`),
    description: english(c.descriptions, `${path}.descriptions`),
    cvss: nvdCvss(c.metrics, `${path}.metrics`),
    cwes,
    configurations,
    references: references(c.references, `${path}.references`),
  };
  const added = optStr(c.cisaExploitAdd, `${path}.cisaExploitAdd`);
  if (added) {
    rec.kev = { dateAdded: added, source: 'nvd' };
    const action = optStr(c.cisaRequiredAction, `${path}.cisaRequiredAction`);
    const due = optStr(c.cisaActionDue, `${path}.cisaActionDue`);
    const name = optStr(c.cisaVulnerabilityName, `${path}.cisaVulnerabilityName`);
    if (action) rec.kev.requiredAction = action;
    if (due) rec.kev.dueDate = due;
    if (name) rec.kev.name = name;
  }
  return rec;
}

// ---------- NVD 1.1 feed ----------

function legacyNode(n: unknown, q: string, depth: number): ConfigNode {
  if (depth > 8) fail(q, 'configuration nodes nested too deep');
  const no = obj(n, q);
  const children = arr(no.children, `${q}.children`).map((c, i) => legacyNode(c, `${q}.children[${i}]`, depth + 1));
  return {
    operator: operator(no.operator, `${q}.operator`),
    negate: bool(no.negate, `${q}.negate`, false),
    matches: arr(no.cpe_match, `${q}.cpe_match`).map((m, k) => nvdMatch(m, `${q}.cpe_match[${k}]`, 'cpe23Uri')),
    ...(children.length ? { children } : {}),
  };
}

function legacyCvss(impact: unknown, path: string): Cvss[] {
  if (!isObj(impact)) return [];
  const out: Cvss[] = [];
  for (const [key, inner] of [
    ['baseMetricV3', 'cvssV3'],
    ['baseMetricV2', 'cvssV2'],
  ] as const) {
    if (!isObj(impact[key])) continue;
    const d = obj(impact[key][inner], `${path}.${key}.${inner}`);
    out.push({
      version: str(d.version, `${path}.${key}.${inner}.version`),
      score: num(d.baseScore, `${path}.${key}.${inner}.baseScore`),
      vector: str(d.vectorString, `${path}.${key}.${inner}.vectorString`),
      severity: optStr(d.baseSeverity ?? impact[key].severity, `${path}.${key}.severity`),
      source: 'nvd@nist.gov',
      type: 'Primary',
    });
  }
  return out;
}

/** One `CVE_Items[]` element of the legacy 1.1 feed. */
export function parseNvdLegacyItem(v: unknown, path: string): NvdCve {
  const it = obj(v, path);
  const cve = obj(it.cve, `${path}.cve`);
  const meta = obj(cve.CVE_data_meta, `${path}.cve.CVE_data_meta`);
  const cwes: string[] = [];
  if (isObj(cve.problemtype))
    arr(cve.problemtype.problemtype_data, `${path}.cve.problemtype.problemtype_data`).forEach((pt, i) => {
      arr(obj(pt, `${path}.cve.problemtype.problemtype_data[${i}]`).description, `${path}.cve.problemtype.problemtype_data[${i}].description`).forEach((d, j) => {
        const value = str(obj(d, `…description[${j}]`).value, `${path}.cve.problemtype.problemtype_data[${i}].description[${j}].value`);
        if (!cwes.includes(value)) cwes.push(value);
      });
    });
  const nodes = isObj(it.configurations) ? arr(it.configurations.nodes, `${path}.configurations.nodes`).map((n, i) => legacyNode(n, `${path}.configurations.nodes[${i}]`, 0)) : [];
  return {
    id: cveId(meta.ID, `${path}.cve.CVE_data_meta.ID`),
    published: optStr(it.publishedDate, `${path}.publishedDate`),
    lastModified: str(it.lastModifiedDate, `${path}.lastModifiedDate`),
    description: isObj(cve.description) ? english(cve.description.description_data, `${path}.cve.description.description_data`) : '',
    cvss: legacyCvss(it.impact, `${path}.impact`),
    cwes,
    // Each top-level 1.1 node is its own configuration, as the 2.0 API later split them.
    configurations: nodes.map((n) => (n.children ? { operator: n.operator, negate: n.negate, nodes: n.children } : { operator: 'OR' as const, negate: false, nodes: [n] })),
    references: isObj(cve.references) ? references(cve.references.reference_data, `${path}.cve.references.reference_data`) : [],
  };
}

// ---------- CVE JSON 5 ----------

const STATUSES = new Set(['affected', 'unaffected', 'unknown']);
function status(v: unknown, path: string): 'affected' | 'unaffected' | 'unknown' {
  const s = str(v, path);
  if (!STATUSES.has(s)) fail(path, `status must be affected, unaffected or unknown, found ${JSON.stringify(s.slice(0, 40))}`);
  return s as 'affected';
}

function cve5Metrics(v: unknown, path: string, source: string, into: Cvss[], kev: { value?: KevFacts }, ssvc: { value?: Record<string, string> }): void {
  arr(v, path).forEach((m, i) => {
    const p = `${path}[${i}]`;
    const o = obj(m, p);
    for (const key of ['cvssV4_0', 'cvssV3_1', 'cvssV3_0', 'cvssV2_0']) {
      if (o[key] === undefined) continue;
      const d = obj(o[key], `${p}.${key}`);
      into.push({ version: str(d.version, `${p}.${key}.version`), score: num(d.baseScore, `${p}.${key}.baseScore`), vector: str(d.vectorString, `${p}.${key}.vectorString`), severity: optStr(d.baseSeverity, `${p}.${key}.baseSeverity`), source, type: source === 'cna' ? 'Secondary' : 'ADP' });
    }
    if (isObj(o.other)) {
      const content = isObj(o.other.content) ? o.other.content : {};
      if (o.other.type === 'kev' && typeof content.dateAdded === 'string') kev.value = { dateAdded: content.dateAdded, source: 'cve5-adp' };
      if (o.other.type === 'ssvc' && Array.isArray(content.options)) {
        const out: Record<string, string> = {};
        for (const opt of content.options) if (isObj(opt)) for (const [k, val] of Object.entries(opt)) if (typeof val === 'string') out[k] = val;
        ssvc.value = out;
      }
    }
  });
}

function cve5Affected(v: unknown, path: string, from: string): Cve5Affected[] {
  return arr(v, path).map((a, i) => {
    const p = `${path}[${i}]`;
    const o = obj(a, p);
    const versions: Cve5Version[] = arr(o.versions, `${p}.versions`).map((ver, j) => {
      const q = `${p}.versions[${j}]`;
      const vo = obj(ver, q);
      const out: Cve5Version = { version: cap(str(vo.version, `${q}.version`)), status: status(vo.status, `${q}.status`) };
      const lt = optStr(vo.lessThan, `${q}.lessThan`);
      const le = optStr(vo.lessThanOrEqual, `${q}.lessThanOrEqual`);
      const vt = optStr(vo.versionType, `${q}.versionType`);
      if (lt !== undefined) out.lessThan = lt;
      if (le !== undefined) out.lessThanOrEqual = le;
      if (vt !== undefined) out.versionType = vt;
      const changes = arr(vo.changes, `${q}.changes`).map((c, k) => {
        const co = obj(c, `${q}.changes[${k}]`);
        return { at: str(co.at, `${q}.changes[${k}].at`), status: status(co.status, `${q}.changes[${k}].status`) };
      });
      if (changes.length) out.changes = changes;
      return out;
    });
    const ds = o.defaultStatus === undefined ? undefined : status(o.defaultStatus, `${p}.defaultStatus`);
    return {
      vendor: cap(optStr(o.vendor, `${p}.vendor`) ?? ''),
      product: cap(optStr(o.product, `${p}.product`) ?? optStr(o.packageName, `${p}.packageName`) ?? ''),
      versions,
      ...(ds ? { defaultStatus: ds } : {}),
      cpes: arr(o.cpes, `${p}.cpes`).map((c, k) => str(c, `${p}.cpes[${k}]`)),
      from,
    };
  });
}

export function parseCve5(v: unknown, path: string): Cve5Record {
  const r = obj(v, path);
  const meta = obj(r.cveMetadata, `${path}.cveMetadata`);
  const containers = obj(r.containers, `${path}.containers`);
  const cna = obj(containers.cna, `${path}.containers.cna`);
  const cvss: Cvss[] = [];
  const kev: { value?: KevFacts } = {};
  const ssvc: { value?: Record<string, string> } = {};
  cve5Metrics(cna.metrics, `${path}.containers.cna.metrics`, 'cna', cvss, kev, ssvc);
  const affected = cve5Affected(cna.affected, `${path}.containers.cna.affected`, 'cna');
  const refs = references(cna.references, `${path}.containers.cna.references`);
  arr(containers.adp, `${path}.containers.adp`).forEach((a, i) => {
    const p = `${path}.containers.adp[${i}]`;
    const ao = obj(a, p);
    const pm = isObj(ao.providerMetadata) ? ao.providerMetadata : {};
    const name = typeof pm.shortName === 'string' ? pm.shortName : `adp${i}`;
    cve5Metrics(ao.metrics, `${p}.metrics`, name, cvss, kev, ssvc);
    affected.push(...cve5Affected(ao.affected, `${p}.affected`, name));
    for (const ref of references(ao.references, `${p}.references`)) if (!refs.some((x) => x.url === ref.url)) refs.push(ref);
  });
  return {
    id: cveId(meta.cveId, `${path}.cveMetadata.cveId`),
    state: str(meta.state, `${path}.cveMetadata.state`),
    dateUpdated: optStr(meta.dateUpdated, `${path}.cveMetadata.dateUpdated`) ?? optStr(meta.datePublished, `${path}.cveMetadata.datePublished`) ?? '',
    description: english(cna.descriptions, `${path}.containers.cna.descriptions`),
    cvss,
    affected,
    references: refs,
    ...(kev.value ? { kev: kev.value } : {}),
    ...(ssvc.value ? { ssvc: ssvc.value } : {}),
  };
}

// ---------- CISA KEV ----------

function kevEntry(o: Obj, p: string): KevEntry {
  const e: KevEntry = { cveId: cveId(o.cveID, `${p}.cveID`), dateAdded: str(o.dateAdded, `${p}.dateAdded`), source: 'kev-catalog' };
  const opt = (k: string) => optStr(o[k], `${p}.${k}`);
  const fields = { vendorProject: opt('vendorProject'), product: opt('product'), name: opt('vulnerabilityName'), requiredAction: opt('requiredAction'), dueDate: opt('dueDate'), knownRansomwareCampaignUse: opt('knownRansomwareCampaignUse') };
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) (e as unknown as Record<string, string>)[k] = cap(v);
  return e;
}

// ---------- CSV (KEV, EPSS) ----------

/** RFC 4180 rows with their starting line numbers. Quoted fields may hold commas, quotes ("") and newlines. */
export function* csvRows(text: string): Generator<{ line: number; fields: string[] }> {
  let i = 0;
  let line = 1;
  const n = text.length;
  while (i < n) {
    const startLine = line;
    const fields: string[] = [];
    let field = '';
    let quoted = false;
    let atStart = true;
    for (; i < n; i++) {
      const c = text[i]!;
      if (quoted) {
        if (c === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i++;
          } else quoted = false;
        } else {
          if (c === '\n') line++;
          field += c;
        }
      } else if (c === '"' && atStart) {
        quoted = true;
        atStart = false;
      } else if (c === ',') {
        fields.push(field);
        field = '';
        atStart = true;
      } else if (c === '\n' || c === '\r') {
        if (c === '\r' && text[i + 1] === '\n') i++;
        i++;
        line++;
        break;
      } else {
        field += c;
        atStart = false;
      }
    }
    if (quoted) throw new KbFormatError('unterminated quoted field (truncated file?)', `line ${startLine}`);
    fields.push(field);
    if (fields.length === 1 && fields[0] === '') continue;
    yield { line: startLine, fields };
  }
}

function kevCsv(text: string): KevEntry[] {
  const rows = csvRows(text);
  const head = rows.next();
  if (head.done) fail('line 1', 'empty KEV CSV');
  const cols = head.value.fields.map((f) => f.replace(/^\uFEFF/, ''));
  const out: KevEntry[] = [];
  for (const r of rows) {
    if (r.fields.length !== cols.length) fail(`line ${r.line}`, `${r.fields.length} fields where the header has ${cols.length}`);
    const o: Obj = {};
    cols.forEach((c, i) => (o[c] = r.fields[i]));
    out.push(kevEntry(o, `line ${r.line}`));
  }
  return out;
}

function epssCsv(text: string): EpssScore[] {
  let model: string | undefined;
  let date: string | undefined;
  const out: EpssScore[] = [];
  let header: string[] | null = null;
  for (const r of csvRows(text)) {
    if (r.fields[0]!.startsWith('#')) {
      // "#model_version:v2025.03.14,score_date:2025-08-15T00:00:00Z", split by the CSV reader at the comma
      for (const f of r.fields) {
        const m = /^#?\s*(model_version|score_date):(.*)$/.exec(f.trim());
        if (m?.[1] === 'model_version') model = m[2];
        if (m?.[1] === 'score_date') date = m[2];
      }
      continue;
    }
    if (!header) {
      header = r.fields.map((f) => f.trim().toLowerCase());
      if (header[0] !== 'cve' || !header.includes('epss')) fail(`line ${r.line}`, 'EPSS header must be "cve,epss,percentile"');
      continue;
    }
    const o: Obj = {};
    header.forEach((c, i) => (o[c] = r.fields[i]));
    const p = `line ${r.line}`;
    const score = num(o.epss, `${p} (epss)`);
    const percentile = num(o.percentile, `${p} (percentile)`);
    if (score < 0 || score > 1 || percentile < 0 || percentile > 1) fail(p, 'EPSS score and percentile must be between 0 and 1');
    out.push({ cveId: cveId(o.cve, `${p} (cve)`), score, percentile, ...(date ? { date } : {}), ...(model ? { model } : {}) });
  }
  if (!header) fail('line 1', 'no EPSS header line');
  return out;
}

// ---------- detection ----------

/** Recognise a file's format from its text and parse it. The name only breaks ties (".csv"). */
export function parseKbText(text: string, name = ''): KbBatch {
  const head = text.replace(/^\uFEFF/, '').trimStart();
  if (head.startsWith('{') || head.startsWith('[')) {
    const doc = parseJsonText(text);
    if (Array.isArray(doc)) {
      // a bare list of NVD `cve` objects or CVE 5 records
      if (doc.length && isObj(doc[0]) && 'cveMetadata' in doc[0]) return { kind: 'cve5', format: 'cve-json-5', records: doc.map((d, i) => parseCve5(d, `$[${i}]`)) };
      return { kind: 'nvd', format: 'nvd-api-2.0', records: doc.map((d, i) => parseNvdApiCve(isObj(d) && 'cve' in d ? d.cve : d, `$[${i}]`)) };
    }
    const d = obj(doc, '$');
    if (Array.isArray(d.vulnerabilities) && (d.format === 'NVD_CVE' || 'resultsPerPage' in d || 'totalResults' in d || (d.vulnerabilities.length > 0 && isObj(d.vulnerabilities[0]) && 'cve' in d.vulnerabilities[0]))) {
      return { kind: 'nvd', format: 'nvd-api-2.0', records: d.vulnerabilities.map((v, i) => parseNvdApiCve(obj(v, `$.vulnerabilities[${i}]`).cve, `$.vulnerabilities[${i}].cve`)) };
    }
    if (Array.isArray(d.vulnerabilities) && ('catalogVersion' in d || (d.vulnerabilities.length > 0 && isObj(d.vulnerabilities[0]) && 'cveID' in d.vulnerabilities[0]))) {
      return { kind: 'kev', format: 'cisa-kev-json', records: d.vulnerabilities.map((v, i) => kevEntry(obj(v, `$.vulnerabilities[${i}]`), `$.vulnerabilities[${i}]`)) };
    }
    if ('CVE_Items' in d) return { kind: 'nvd', format: 'nvd-json-1.1', records: arr(d.CVE_Items, '$.CVE_Items', false).map((it, i) => parseNvdLegacyItem(it, `$.CVE_Items[${i}]`)) };
    if ('cve' in d && 'configurations' in d && isObj(d.cve) && 'CVE_data_meta' in d.cve) return { kind: 'nvd', format: 'nvd-json-1.1', records: [parseNvdLegacyItem(d, '$')] };
    if ('cveMetadata' in d || d.dataType === 'CVE_RECORD') return { kind: 'cve5', format: 'cve-json-5', records: [parseCve5(d, '$')] };
    if (typeof d.id === 'string' && ('lastModified' in d || 'configurations' in d || 'descriptions' in d)) return { kind: 'nvd', format: 'nvd-api-2.0', records: [parseNvdApiCve(d, '$')] };
    fail('$', 'not a known vulnerability data format (NVD API 2.0, NVD 1.1 feed, CVE JSON 5, CISA KEV)');
  }
  if (/^#model_version|^cve,epss/i.test(head)) return { kind: 'epss', format: 'epss-csv', records: epssCsv(text) };
  if (/^cveID,vendorProject/.test(head)) return { kind: 'kev', format: 'cisa-kev-csv', records: kevCsv(text) };
  fail(name.endsWith('.csv') ? 'line 1' : 'byte 0', 'not a known vulnerability data format (expected JSON, an EPSS CSV or a KEV CSV)');
}
