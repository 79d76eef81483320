// Stage: imports (foreign files → observations). Shadowserver's published report schema, read as data: which
// columns each report type has (reports.json), its IntelMQ classification and application protocol
// (intelmq.json), and its default severity (severity.md, types.md). Users point --schema at a copy (a folder holding those
// files, or one of the JSON files); nothing of it is compiled in.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ImportError } from './errors.ts';
import { type EventSeverity, severity } from './events.ts';
import { isObject } from './importer.ts';

export interface ShadowserverReportType {
  type: string;
  name?: string;
  fields?: string[];
  taxonomy?: string;
  classificationType?: string;
  identifier?: string;
  /** IntelMQ's protocol.application constant for the report, where Shadowserver gives one */
  application?: string;
  defaultSeverity?: EventSeverity;
  url?: string;
}

export interface ShadowserverSchema {
  /** where it was read from, for messages */
  source: string;
  reports: Map<string, ShadowserverReportType>;
}

function entry(map: Map<string, ShadowserverReportType>, type: string): ShadowserverReportType {
  let r = map.get(type);
  if (!r) map.set(type, (r = { type }));
  return r;
}

function readReportsJson(doc: unknown, map: Map<string, ShadowserverReportType>): number {
  if (!isObject(doc)) return 0;
  let n = 0;
  for (const [type, v] of Object.entries(doc)) {
    if (type.startsWith('_') || !isObject(v) || !Array.isArray(v.fields)) continue;
    const r = entry(map, type);
    r.fields = v.fields.filter((f): f is string => typeof f === 'string');
    if (typeof v.name === 'string') r.name = v.name;
    if (typeof v['classification.taxonomy'] === 'string') r.taxonomy = v['classification.taxonomy'];
    if (typeof v['classification.type'] === 'string') r.classificationType = v['classification.type'];
    if (typeof v.url === 'string') r.url = v.url;
    n++;
  }
  return n;
}

function readIntelmqJson(doc: unknown, map: Map<string, ShadowserverReportType>): number {
  if (!isObject(doc)) return 0;
  let n = 0;
  for (const [key, v] of Object.entries(doc)) {
    if (key.startsWith('_') || !isObject(v) || !isObject(v.constant_fields)) continue;
    const type = typeof v.file_name === 'string' ? v.file_name : key;
    const r = entry(map, type);
    const c = v.constant_fields;
    if (typeof c['classification.identifier'] === 'string') r.identifier = c['classification.identifier'];
    if (typeof c['classification.taxonomy'] === 'string') r.taxonomy ??= c['classification.taxonomy'];
    if (typeof c['classification.type'] === 'string') r.classificationType ??= c['classification.type'];
    if (typeof c['protocol.application'] === 'string') r.application = c['protocol.application'];
    if (typeof v.feed_name === 'string') r.name ??= v.feed_name;
    n++;
  }
  return n;
}

/** The "| report | subject | level |" tables of severity.md. */
function readSeverityMd(md: string, map: Map<string, ShadowserverReportType>): number {
  let n = 0;
  for (const line of md.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    // | type | subject | level |
    if (cells.length < 5) continue;
    const type = cells[1]!;
    const level = severity(cells[3]);
    if (!/^[a-z0-9_]+$/.test(type) || !level) continue;
    entry(map, type).defaultSeverity = level;
    n++;
  }
  return n;
}

async function readJson(path: string): Promise<unknown> {
  const text = await readFile(path, 'utf8');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ImportError(path, {}, `schema is not valid JSON: ${(e as Error).message.slice(0, 200)}`);
  }
}

export async function loadShadowserverSchema(path: string): Promise<ShadowserverSchema> {
  const map = new Map<string, ShadowserverReportType>();
  let st;
  try {
    st = await stat(path);
  } catch (e) {
    throw new ImportError(path, {}, `cannot read the Shadowserver schema: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let found = 0;
  if (st.isDirectory()) {
    for (const [file, reader] of [
      ['reports.json', (d: unknown) => readReportsJson(d, map)],
      ['intelmq.json', (d: unknown) => readIntelmqJson(d, map)],
    ] as const) {
      try {
        found += reader(await readJson(join(path, file)));
      } catch (e) {
        if (e instanceof ImportError) throw e;
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new ImportError(join(path, file), {}, (e as Error).message);
      }
    }
    // severity.md and types.md both hold "| type | subject | default severity |" tables
    for (const file of ['severity.md', 'types.md']) {
      try {
        readSeverityMd(await readFile(join(path, file), 'utf8'), map);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new ImportError(join(path, file), {}, (e as Error).message);
      }
    }
  } else if (path.endsWith('.md')) {
    found += readSeverityMd(await readFile(path, 'utf8'), map);
  } else {
    const doc = await readJson(path);
    found += readReportsJson(doc, map) + readIntelmqJson(doc, map);
  }
  if (!found) throw new ImportError(path, {}, 'no Shadowserver report types found (expected reports.json, intelmq.json or a folder holding them)');
  return { source: path, reports: map };
}

/** The report type in a Shadowserver file name: "2024-05-01-scan_telnet-some-org-asn.csv" → "scan_telnet". */
export function reportTypeFromFileName(fileName: string, schema: ShadowserverSchema | null): string | undefined {
  const m = /^(\d{4}-\d{2}-\d{2})-([^-]+)-.+\.csv$/i.exec(fileName) ?? /^(\d{4}-\d{2}-\d{2})-([^-.]+)\.csv$/i.exec(fileName);
  if (m) return m[2]!.toLowerCase();
  if (schema) {
    // renamed files: the longest known type the name contains
    let best: string | undefined;
    for (const t of schema.reports.keys()) if (fileName.includes(t) && (!best || t.length > best.length)) best = t;
    return best;
  }
  return undefined;
}
