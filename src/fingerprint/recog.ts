// Stage: fingerprint (import). Reads Rapid7 Recog XML databases from a user-given folder and turns each fingerprint
// into a rule of ours: pattern translated to JavaScript, params mapped onto device/os/software identities, examples
// kept as tests. What does not translate is skipped and reported, never guessed.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { cpeTemplateError, uriToTemplate } from './cpe.ts';
import { translateRubyRegex } from './recog-regex.ts';
import type { Identity, Rule, RuleExample } from './types.ts';
import type { Vocabulary } from './vocabulary.ts';

/**
 * Which observation fields each Recog database is written against. Databases not listed here answer questions no
 * probe of ours asks (SMTP VRFY, DHCP vendor classes, …) and are reported as unmapped.
 */
export const RECOG_DATABASES: Record<string, { fields: string[]; iot: boolean }> = {
  'http_servers.xml': { fields: ['http.server'], iot: true },
  'http_wwwauth.xml': { fields: ['http.headers.www-authenticate'], iot: true },
  'html_title.xml': { fields: ['http.title'], iot: true },
  'http_cookies.xml': { fields: ['http.cookie'], iot: false },
  'http_xpoweredby.xml': { fields: ['http.poweredBy'], iot: false },
  'apache_os.xml': { fields: ['http.server'], iot: false },
  'favicons.xml': { fields: ['http.faviconMd5'], iot: true },
  'ssh_banners.xml': { fields: ['ssh.software'], iot: true },
  'telnet_banners.xml': { fields: ['telnet.banner'], iot: true },
  // Most entries omit the reply code, a few include it.
  'ftp_banners.xml': { fields: ['ftp.text', 'ftp.banner'], iot: true },
  'snmp_sysdescr.xml': { fields: ['snmp.sysDescr'], iot: true },
  'snmp_sysobjid.xml': { fields: ['snmp.sysObjectID'], iot: true },
  'rtsp_servers.xml': { fields: ['rtsp.server'], iot: true },
  'upnp_banners.xml': { fields: ['ssdp.server'], iot: true },
  'x509_subjects.xml': { fields: ['tls.subject'], iot: true },
  'x509_issuers.xml': { fields: ['tls.issuer'], iot: true },
  'smtp_banners.xml': { fields: ['banner.text'], iot: false },
  'pop_banners.xml': { fields: ['banner.text'], iot: false },
  'imap_banners.xml': { fields: ['banner.text'], iot: false },
  'nntp_banners.xml': { fields: ['banner.text'], iot: false },
};

/** Hostile-input caps: a database file, a pattern, an example. */
const FILE_CAP = 16 * 1024 * 1024;
const PATTERN_CAP = 4096;
const EXAMPLE_CAP = 16 * 1024;
/** Recog fingerprints without a certainty of their own. */
const DEFAULT_CERTAINTY = 0.8;

export interface SkippedFingerprint {
  database: string;
  /** position of the fingerprint in its file, 1-based */
  index: number;
  pattern: string;
  reason: string;
}

export interface RecogDatabaseReport {
  database: string;
  fields: string[];
  fingerprints: number;
  translated: number;
  skipped: number;
  /** translated with a documented approximation (possessive quantifiers, atomic groups) */
  approximated: number;
  examples: number;
}

export interface RecogImport {
  rules: Rule[];
  report: {
    databases: RecogDatabaseReport[];
    /** files present but not mapped to any observation field */
    unmapped: string[];
    skipped: SkippedFingerprint[];
    translated: number;
    total: number;
  };
}

interface XmlParam {
  pos?: string;
  name?: string;
  value?: string;
}
interface XmlExample {
  '#text'?: string;
  _encoding?: string;
  _filename?: string;
  [attr: string]: unknown;
}
interface XmlFingerprint {
  pattern?: string;
  flags?: string;
  certainty?: string;
  description?: unknown;
  example?: (XmlExample | string)[];
  param?: XmlParam[];
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: true,
  isArray: (name) => name === 'fingerprint' || name === 'example' || name === 'param',
});

function text(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && '#text' in v) return String((v as { '#text': unknown })['#text']);
  return '';
}

/** Params of a fingerprint as templates over positional captures: "{1}" for pos 1, the fixed value for pos 0. */
function paramTemplates(params: XmlParam[]): Record<string, string> | string {
  const out: Record<string, string> = {};
  for (const p of params) {
    if (!p.name) return 'a param without a name';
    const pos = Number(p.pos ?? 0);
    if (!Number.isInteger(pos) || pos < 0) return `param ${p.name} has a bad pos`;
    out[p.name] = pos > 0 ? `{${pos}}` : (p.value ?? '');
  }
  // Recog values may interpolate other params ("{os.version}"): resolve them to their templates.
  for (const [k, v] of Object.entries(out)) {
    out[k] = v.replace(/\{([a-z0-9_.]+)\}/gi, (whole, name: string) => (name in out && !/^\d+$/.test(name) ? out[name]! : whole));
  }
  return out;
}

function identity(parts: Partial<Record<keyof Identity, string | undefined>>): Identity | undefined {
  const out: Identity = {};
  for (const [k, v] of Object.entries(parts)) if (v) out[k as keyof Identity] = v;
  return Object.keys(out).length ? out : undefined;
}

/** Recog's words onto our layers: hw.* is the device, os.* the firmware/OS, service.* the server program. */
function identities(p: Record<string, string>, vocab: Vocabulary | undefined): { device?: Identity; os?: Identity; software?: Identity } {
  const vendor = (v: string | undefined) => (v && !v.includes('{') ? (vocab?.vendor(v) ?? v) : v);
  const typeWord = p['hw.device'] ?? p['os.device'] ?? p['service.device'];
  const type = typeWord && !typeWord.includes('{') ? vocab?.deviceType(typeWord) : undefined;
  return {
    device: identity({
      vendor: vendor(p['hw.vendor'] ?? (p['os.device'] ? p['os.vendor'] : undefined)),
      product: p['hw.family'] ?? p['hw.product'],
      model: p['hw.model'] ?? p['hw.product'],
      version: p['hw.version'],
      type,
    }),
    os: identity({ vendor: vendor(p['os.vendor']), product: p['os.product'] ?? p['os.family'], version: p['os.version'] }),
    software: identity({ vendor: vendor(p['service.vendor']), product: p['service.product'] ?? p['service.family'], version: p['service.version'] }),
  };
}

function certaintyOf(fp: XmlFingerprint, p: Record<string, string>): number | null {
  const given = ['hw.certainty', 'os.certainty', 'service.certainty'].map((k) => p[k]).filter((v): v is string => v !== undefined);
  if (given.length) {
    const max = Math.max(...given.map(Number).filter(Number.isFinite));
    return Number.isFinite(max) ? Math.min(1, Math.max(0, max)) : null;
  }
  const c = fp.certainty !== undefined ? Number(fp.certainty) : DEFAULT_CERTAINTY;
  return Number.isFinite(c) ? Math.min(1, Math.max(0, c)) : DEFAULT_CERTAINTY;
}

function exampleOf(ex: XmlExample | string): RuleExample | string {
  if (typeof ex === 'string') return { input: ex };
  if (ex._filename !== undefined) return 'example refers to a file outside the database';
  let input = text(ex);
  if (ex._encoding === 'base64') input = Buffer.from(input.trim(), 'base64').toString('latin1');
  if (input.length > EXAMPLE_CAP) return 'example too large';
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(ex)) if (k !== '#text' && !k.startsWith('_') && typeof v === 'string') params[k] = v;
  return Object.keys(params).length ? { input, params } : { input };
}

/** Import every mapped Recog database of `dir`. */
export function importRecog(dir: string, vocabulary?: Vocabulary): RecogImport {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`${dir}: not a directory`);
  const rules: Rule[] = [];
  const report: RecogImport['report'] = { databases: [], unmapped: [], skipped: [], translated: 0, total: 0 };
  const files = readdirSync(dir).filter((f) => f.endsWith('.xml')).sort();
  for (const file of files) {
    const mapping = RECOG_DATABASES[file];
    if (!mapping) {
      report.unmapped.push(file);
      continue;
    }
    const path = join(dir, file);
    if (statSync(path).size > FILE_CAP) throw new Error(`${path}: larger than ${FILE_CAP} bytes; refusing to read it`);
    let doc: { fingerprints?: { fingerprint?: XmlFingerprint[] } };
    try {
      doc = parser.parse(readFileSync(path, 'utf8'));
    } catch (e) {
      throw new Error(`${path}: not a Recog XML database: ${(e as Error).message}`);
    }
    const fps = doc.fingerprints?.fingerprint;
    if (!Array.isArray(fps)) throw new Error(`${path}: no <fingerprints><fingerprint> elements`);
    const db = basename(file, '.xml');
    const dbReport: RecogDatabaseReport = { database: file, fields: mapping.fields, fingerprints: fps.length, translated: 0, skipped: 0, approximated: 0, examples: 0 };
    fps.forEach((fp, k) => {
      const index = k + 1;
      const pattern = fp.pattern ?? '';
      const skip = (reason: string) => {
        dbReport.skipped++;
        report.skipped.push({ database: file, index, pattern: pattern.slice(0, 200), reason });
      };
      if (!pattern) return skip('no pattern');
      if (pattern.length > PATTERN_CAP) return skip('pattern too long');
      const t = translateRubyRegex(pattern, fp.flags ?? '');
      if (!t.ok) return skip(t.reason);
      const params = paramTemplates(fp.param ?? []);
      if (typeof params === 'string') return skip(params);
      const groups = new RegExp(`${t.source}|`, t.flags).exec('')!.length - 1;
      for (const v of Object.values(params)) {
        for (const m of v.matchAll(/\{(\d+)\}/g)) if (Number(m[1]) > groups) return skip(`param refers to capture ${m[1]}, the pattern has ${groups}`);
      }
      const certainty = certaintyOf(fp, params);
      if (certainty === null) return skip('unreadable certainty');
      const ids = identities(params, vocabulary);
      if (!ids.device && !ids.os && !ids.software) return skip('says nothing about device, OS or software (an "assert nothing" entry)');
      const cpe: string[] = [];
      for (const key of ['hw.cpe23', 'os.cpe23', 'service.cpe23']) {
        const uri = params[key];
        if (!uri) continue;
        const tpl = uriToTemplate(uri);
        if (tpl && !cpeTemplateError(tpl)) cpe.push(tpl);
      }
      const examples: RuleExample[] = [];
      for (const ex of fp.example ?? []) {
        const e = exampleOf(ex);
        if (typeof e !== 'string') examples.push(e);
      }
      dbReport.translated++;
      if (t.approximations.length) dbReport.approximated++;
      dbReport.examples += examples.length;
      rules.push({
        id: `recog.${db}.${index}`,
        origin: `recog:${db}`,
        file,
        description: text(fp.description).trim().replace(/\s+/g, ' ').slice(0, 500),
        fields: mapping.fields,
        matcher: { kind: 'regex', regex: new RegExp(t.source, t.flags) },
        certainty,
        ...ids,
        cpe,
        params,
        examples,
        counterexamples: [],
      });
    });
    report.databases.push(dbReport);
    report.translated += dbReport.translated;
    report.total += dbReport.fingerprints;
  }
  return { rules, report };
}

/** Fill a rule's Recog params from a match's captures. */
export function fillParams(params: Record<string, string>, captures: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) out[k] = v.replace(/\{(\d+)\}/g, (_, n: string) => captures[n] ?? '');
  return out;
}
