// Stage: imports (foreign files → observations). The contract every format module fulfils, the per-import
// context (provenance, tolerance, counters), and small helpers the format modules share for turning hostile
// foreign values into bounded observation fields.
import type { Observation, ProbeStatus, Transport } from '../core/observation.ts';
import { ImportError, type ImportPosition } from './errors.ts';
import type { ImportInput } from './input.ts';
import type { ShadowserverSchema } from './shadowserver-schema.ts';

export const IMPORT_FORMATS = ['nmap', 'masscan', 'zgrab2', 'shodan', 'shadowserver', 'cowrie', 'intelmq'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

export interface ImportStats {
  /** observations produced */
  records: number;
  /** bad records skipped (only ever non-zero with skipBad) */
  bad: number;
  /** the first few skipped errors, for the summary */
  errors: ImportError[];
}

export interface ImportContext {
  /** name for messages */
  file: string;
  /** base name without .gz (Shadowserver report type lives there) */
  fileName: string;
  runId: string;
  skipBad: boolean;
  schema: ShadowserverSchema | null;
  /** time used for records that carry none: when the import started */
  importTime: string;
  stats: ImportStats;
  /** A record is bad: throw (default) or count it and go on (skipBad). */
  reject(pos: ImportPosition, reason: string): void;
  /** Same, for an error already built (e.g. by the XML tokenizer). Returns true when tolerated. */
  tolerate(err: ImportError): boolean;
}

export interface Importer {
  format: ImportFormat;
  description: string;
  /** How sure this importer is that the data (its first bytes, decoded) is its format: 0 = not, 1 = certain. */
  sniff(head: string, fileName: string): number;
  /** Observations in batches (one per chunk of input read): per-record async steps would cost more than parsing. */
  parse(input: ImportInput, ctx: ImportContext): AsyncIterable<Observation[]>;
}

const MAX_KEPT_ERRORS = 20;

export function createContext(input: Pick<ImportInput, 'name' | 'fileName'>, opts: { runId: string; skipBad?: boolean; schema?: ShadowserverSchema | null; importTime?: string; stats?: ImportStats }): ImportContext {
  const stats: ImportStats = opts.stats ?? { records: 0, bad: 0, errors: [] };
  const tolerate = (err: ImportError): boolean => {
    if (!opts.skipBad) return false;
    stats.bad++;
    if (stats.errors.length < MAX_KEPT_ERRORS) stats.errors.push(err);
    return true;
  };
  return {
    file: input.name,
    fileName: input.fileName,
    runId: opts.runId,
    skipBad: !!opts.skipBad,
    schema: opts.schema ?? null,
    importTime: opts.importTime ?? new Date().toISOString(),
    stats,
    tolerate,
    reject(pos, reason) {
      const err = new ImportError(input.name, pos, reason);
      if (!tolerate(err)) throw err;
    },
  };
}

/** A record-level problem inside a format module; the caller turns it into ctx.reject with the position. */
export class BadRecord extends Error {
  override name = 'BadRecord';
}

export function observation(ctx: ImportContext, format: ImportFormat, o: {
  ip: string;
  port: number;
  transport: Transport;
  protocol: string;
  time: string;
  status: ProbeStatus;
  data: Record<string, unknown>;
  extra?: Record<string, unknown>;
}): Observation {
  const obs: Observation = {
    ip: o.ip,
    port: o.port,
    transport: o.transport,
    protocol: o.protocol,
    source: `import:${format}`,
    runId: ctx.runId,
    time: o.time,
    status: o.status,
    data: o.data,
  };
  if (o.extra && Object.keys(o.extra).length) obs.extra = o.extra;
  return obs;
}

// ---- shared value helpers: foreign data is hostile, so everything is checked and capped -------------------

/** Cap for device-supplied text copied into `data` (banners, titles, bodies). */
export const TEXT_CAP = 4096;

export function text(v: unknown, cap = TEXT_CAP): string | undefined {
  if (typeof v !== 'string') {
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    return undefined;
  }
  return v.length > cap ? v.slice(0, cap) : v;
}

export function int(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) ? v : undefined;
  if (typeof v === 'string' && /^-?\d{1,15}$/.test(v.trim())) return Number(v.trim());
  return undefined;
}

export function port(v: unknown): number | undefined {
  const n = int(v);
  return n !== undefined && n >= 0 && n <= 65535 ? n : undefined;
}

export function strings(v: unknown, capItems = 256): string[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out: string[] = [];
  for (const x of v) {
    const t = text(x, 1024);
    if (t !== undefined) out.push(t);
    if (out.length >= capItems) break;
  }
  return out;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const IPV4_RE = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6_RE = /^[0-9A-Fa-f:.]{2,45}$/;

/** A textual IP address, normalised (IPv6 lower-case, zone stripped); undefined if it is not one. */
export function ipAddress(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const s = v.trim();
  if (IPV4_RE.test(s)) return s;
  const bare = s.replace(/%.*$/, '').replace(/^\[|\]$/g, '');
  if (bare.includes(':') && IPV6_RE.test(bare)) {
    try {
      return new URL(`http://[${bare}]/`).hostname.slice(1, -1);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Seconds since the epoch (number or digits) or an ISO-ish date → ISO 8601; undefined when unreadable. */
export function isoTime(v: unknown): string | undefined {
  if (typeof v === 'number' && Number.isFinite(v) && v > 0) return new Date(v < 1e11 ? v * 1000 : v).toISOString();
  if (typeof v !== 'string') return undefined;
  // records of one scan repeat their time stamps (a host's ports, a batch of one second): remember the last one
  if (v === lastTimeText) return lastTimeIso;
  const iso = parseTimeText(v);
  lastTimeText = v;
  lastTimeIso = iso;
  return iso;
}

let lastTimeText: string | undefined;
let lastTimeIso: string | undefined;

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Two ASCII digits at s[i], or -1. */
function digits2(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/**
 * The form scanners write most ("2026-11-25T02:00:00Z", "…:00.123456789Z", also with a space for the T) checked
 * and rewritten character by character: no Date, no regular expression. Anything else (offsets, no zone, odd
 * dates) is left to the general path.
 */
function utcTimeFast(s: string): string | undefined {
  const n = s.length;
  if (n < 20 || n > 30 || s.charCodeAt(n - 1) !== 90 /* Z */) return undefined;
  if (s[4] !== '-' || s[7] !== '-' || (s[10] !== 'T' && s[10] !== ' ') || s[13] !== ':' || s[16] !== ':') return undefined;
  const y = digits2(s, 0) * 100 + digits2(s, 2);
  const mo = digits2(s, 5);
  const d = digits2(s, 8);
  const h = digits2(s, 11);
  const mi = digits2(s, 14);
  const se = digits2(s, 17);
  if (y < 1970 || y >= 3000 || mo < 1 || mo > 12 || d < 1 || d > DAYS_IN_MONTH[mo - 1]! || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 59) return undefined;
  if (mo === 2 && d === 29 && (y % 4 !== 0 || (y % 100 === 0 && y % 400 !== 0))) return undefined;
  let ms = '000';
  if (n > 20) {
    if (s[19] !== '.' || n === 21) return undefined;
    for (let i = 20; i < n - 1; i++) {
      const c = s.charCodeAt(i);
      if (c < 48 || c > 57) return undefined;
    }
    ms = (s.slice(20, Math.min(23, n - 1)) + '00').slice(0, 3);
  }
  return `${s.slice(0, 10)}T${s.slice(11, 19)}.${ms}Z`;
}

/** Whole seconds since the epoch written as 9 to 11 digits (Nmap's starttime), without a regular expression. */
function epochSecondsFast(s: string): string | undefined {
  const n = s.length;
  if (n < 9 || n > 11) return undefined;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
  }
  return new Date(Number(s) * 1000).toISOString();
}

function parseTimeText(v: string): string | undefined {
  const fast = utcTimeFast(v) ?? epochSecondsFast(v);
  if (fast) return fast;
  const s = v.trim();
  if (!s) return undefined;
  if (/^\d{9,11}(\.\d+)?$/.test(s)) return new Date(Number(s) * 1000).toISOString();
  // "2024-05-01 12:00:00" and Shodan's "2024-05-01T12:00:00.123456" (no zone) are UTC
  let iso = s.replace(' ', 'T');
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(iso)) iso += 'Z';
  iso = iso.replace(/(\.\d{3})\d+/, '$1');
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return undefined;
  const d = new Date(t);
  return d.getUTCFullYear() >= 1970 && d.getUTCFullYear() < 3000 ? d.toISOString() : undefined;
}

/** The members that are not undefined, so the stored JSON is tidy. A new object rather than `delete` on the old one:
 *  deleting members turns V8 objects into slow dictionaries, and every observation passes through here. */
export function compact<T extends Record<string, unknown>>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const k in o) {
    const v = o[k];
    if (v !== undefined) out[k] = v;
  }
  return out as T;
}

/** The protocol names iotscope's probes use, for a foreign service name. */
const PROTOCOL_ALIASES: Record<string, string> = {
  http: 'http',
  'http-alt': 'http',
  'http-proxy': 'http',
  'http-mgmt': 'http',
  'upnp': 'http',
  www: 'http',
  https: 'https',
  'https-alt': 'https',
  'ssl/http': 'https',
  ssh: 'ssh',
  telnet: 'telnet',
  ftp: 'ftp',
  rtsp: 'rtsp',
  mqtt: 'mqtt',
  'secure-mqtt': 'mqtts',
  mqtts: 'mqtts',
  mosquitto: 'mqtt',
  snmp: 'snmp',
  ssdp: 'ssdp',
  coap: 'coap',
  modbus: 'modbus',
  'mbap': 'modbus',
  banner: 'banner',
};

export function protocolName(foreign: string | undefined, tls = false): string {
  if (!foreign) return 'unknown';
  // nmap sometimes names a service by its product ("mosquitto version 2.0.11"): the first word decides
  const k = foreign.toLowerCase().trim().split(/\s+/, 1)[0] ?? '';
  const p = PROTOCOL_ALIASES[k];
  if (!p) return k.replace(/[^a-z0-9._/-]/g, '').slice(0, 32) || 'unknown';
  if (tls && p === 'http') return 'https';
  if (tls && p === 'mqtt') return 'mqtts';
  return p;
}

/**
 * A copy of `obj` without the dotted paths an importer mapped into `data`, empty objects pruned: what remains
 * is what iotscope does not model, kept verbatim under `extra`. Importers pass module-level path lists, so the
 * path tree is built once per list (keyed by the array itself, with the joined text as a fallback).
 */
type PathTree = { [k: string]: PathTree | true };
const TREES_BY_LIST = new WeakMap<readonly string[], PathTree>();
const TREES_BY_TEXT = new Map<string, PathTree>();

function pathTree(paths: readonly string[]): PathTree {
  let tree = TREES_BY_LIST.get(paths);
  if (tree) return tree;
  const key = paths.join('|');
  tree = TREES_BY_TEXT.get(key);
  if (!tree) {
    tree = Object.create(null) as PathTree;
    for (const p of paths) {
      let node = tree;
      const parts = p.split('.');
      for (let i = 0; i < parts.length; i++) {
        const part = parts[i]!;
        if (i === parts.length - 1) node[part] = true;
        else {
          const next = node[part];
          node = node[part] = typeof next === 'object' ? next : (Object.create(null) as PathTree);
        }
      }
    }
    // importers use a handful of fixed path lists; the bound only guards against misuse
    if (TREES_BY_TEXT.size < 256) TREES_BY_TEXT.set(key, tree);
  }
  TREES_BY_LIST.set(paths, tree);
  return tree;
}

function stripPaths(o: Record<string, unknown>, t: PathTree): Record<string, unknown> | undefined {
  let out: Record<string, unknown> | undefined;
  for (const k in o) {
    let v = o[k];
    const rule = t[k];
    if (rule === true) continue;
    if (rule !== undefined && isObject(v)) {
      v = stripPaths(v, rule);
      if (v === undefined) continue;
    }
    out ??= {};
    // a member named __proto__ (JSON allows it) is data: assigning it would replace the prototype instead
    if (k === '__proto__') Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
    else out[k] = v;
  }
  return out;
}

export function withoutPaths(obj: unknown, paths: readonly string[]): Record<string, unknown> | undefined {
  return isObject(obj) ? stripPaths(obj, pathTree(paths)) : undefined;
}
