// Stage: storage (network attribution). The prefix→ASN table a user loads (`iotscope networks import-asn`) from
// the iptoasn.com TSV or CAIDA pfx2as formats, and the look-ups that give an address its ASN: the most specific
// range of that table, else the ASN that an imported record (Shadowserver, Shodan, IntelMQ) reported for it.
import { open } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type Database from 'better-sqlite3';
import { keyOf, parseIp, parseRange } from '../../core/ipnum.ts';
import { StoreError } from '../store.ts';

/** A bad ASN table: the message names the file and line. The store is left as it was. */
export class AsnTableError extends StoreError {
  override name = 'AsnTableError';
}

export type AsnTableFormat = 'iptoasn' | 'pfx2as';

export interface AsnRange {
  startKey: string;
  endKey: string;
  asn: number;
  name: string | null;
  country: string | null;
}

export interface AsnOf {
  asn: number;
  name: string | null;
}

const MAX_LINE = 4096;
const MAX_NAME = 200;
const MAX_ASN = 4_294_967_295;

/** An AS number as imported data writes it: 8075, "8075", "AS8075", "as8075"; null when it is none. */
export function parseAsn(v: unknown): number | null {
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && /^\s*(?:AS)?\d{1,10}\s*$/i.test(v)) n = Number(v.trim().replace(/^AS/i, ''));
  else return null;
  return Number.isInteger(n) && n > 0 && n <= MAX_ASN ? n : null;
}

function spanOf(first: bigint, last: bigint): string {
  return (last - first).toString(16).padStart(32, '0');
}

/** Text from a table, kept as data: control characters dropped, length capped. */
function cleanText(s: string | undefined, max: number): string | null {
  if (s === undefined) return null;
  // eslint-disable-next-line no-control-regex
  const t = s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '').trim().slice(0, max);
  return t ? t : null;
}

/** One data line of either format; null for a line that carries no range (iptoasn's "Not routed", AS 0). */
export function parseAsnLine(line: string, format: AsnTableFormat): AsnRange | null {
  const fields = line.split(/\s+/);
  if (format === 'iptoasn') {
    // range_start range_end AS_number country AS_description (tab-separated; the description may hold spaces)
    const tabbed = line.split('\t');
    const f = tabbed.length >= 3 ? tabbed : fields;
    const a = parseIp(f[0] ?? '');
    const b = parseIp(f[1] ?? '');
    if (!a) throw new Error(`"${f[0] ?? ''}" is not an IP address`);
    if (!b) throw new Error(`"${f[1] ?? ''}" is not an IP address`);
    if (a.family !== b.family) throw new Error('range start and end are of different address families');
    if (b.value < a.value) throw new Error('range end is before its start');
    const asnText = (f[2] ?? '').trim();
    if (!/^(?:AS)?\d{1,10}$/i.test(asnText)) throw new Error(`"${asnText}" is not an AS number`);
    const asn = Number(asnText.replace(/^AS/i, ''));
    if (asn > MAX_ASN) throw new Error(`AS number ${asn} is out of range`);
    if (asn === 0) return null;
    const country = cleanText(f[3], 8);
    const name = cleanText(tabbed.length >= 3 ? tabbed.slice(4).join(' ') : f.slice(4).join(' '), MAX_NAME);
    return { startKey: keyOf(a.family, a.value), endKey: keyOf(b.family, b.value), asn, name, country: country === 'None' ? null : country };
  }
  // prefix length asn — asn may be a multi-origin set ("64500_64501") or an AS set ("64500,64501"): the first
  // origin is kept, as one group per network is what the dashboard shows.
  if (fields.length < 3) throw new Error('expected "prefix length asn"');
  const len = fields[1]!;
  if (!/^\d{1,3}$/.test(len)) throw new Error(`"${len}" is not a prefix length`);
  const r = parseRange(`${fields[0]}/${len}`);
  if (!r) throw new Error(`"${fields[0]}/${len}" is not a network prefix`);
  const first = fields[2]!.split(/[_,]/)[0]!;
  if (!/^\d{1,10}$/.test(first) || Number(first) > MAX_ASN) throw new Error(`"${fields[2]}" is not an AS number`);
  const asn = Number(first);
  if (asn === 0) return null;
  return { startKey: keyOf(r.family, r.first), endKey: keyOf(r.family, r.last), asn, name: null, country: null };
}

/** The format of a data line: two addresses first → iptoasn, an address and a prefix length → pfx2as. */
export function detectAsnFormat(line: string): AsnTableFormat | null {
  const f = line.split(/\s+/);
  if (f.length >= 3 && parseIp(f[0]!) && parseIp(f[1]!)) return 'iptoasn';
  if (f.length >= 3 && parseIp(f[0]!) && /^\d{1,3}$/.test(f[1]!)) return 'pfx2as';
  return null;
}

async function openLines(path: string): Promise<AsyncIterable<string>> {
  const fh = await open(path, 'r').catch((e: NodeJS.ErrnoException) => {
    throw new AsnTableError(`${path}: cannot open (${e.code ?? e.message})`);
  });
  const magic = Buffer.alloc(2);
  const { bytesRead } = await fh.read(magic, 0, 2, 0);
  await fh.close();
  let stream: Readable = createReadStream(path);
  if (bytesRead === 2 && magic[0] === 0x1f && magic[1] === 0x8b) {
    const gunzip = createGunzip();
    stream.on('error', (e) => gunzip.destroy(e));
    stream = stream.pipe(gunzip);
  }
  return createInterface({ input: stream, crlfDelay: Infinity });
}

/** Reads a whole prefix→ASN file (plain or gzip); the first bad line fails it with file:line. */
export async function readAsnTable(path: string, opts: { format?: AsnTableFormat } = {}): Promise<{ ranges: AsnRange[]; skipped: number; format: AsnTableFormat }> {
  let format = opts.format ?? null;
  const ranges: AsnRange[] = [];
  let skipped = 0;
  let lineNo = 0;
  try {
    for await (const raw of await openLines(path)) {
      lineNo++;
      if (raw.length > MAX_LINE) throw new AsnTableError(`${path}:${lineNo}: line longer than ${MAX_LINE} characters`);
      const line = raw.trim();
      if (!line || line.startsWith('#')) continue;
      if (!format) {
        format = detectAsnFormat(line);
        if (!format) throw new AsnTableError(`${path}:${lineNo}: neither an iptoasn line (range_start range_end AS_number country description) nor a pfx2as line (prefix length asn)`);
      }
      let r: AsnRange | null;
      try {
        r = parseAsnLine(line, format);
      } catch (e) {
        throw new AsnTableError(`${path}:${lineNo}: ${(e as Error).message}`);
      }
      if (r) ranges.push(r);
      else skipped++;
    }
  } catch (e) {
    if (e instanceof AsnTableError) throw e;
    throw new AsnTableError(`${path}:${lineNo + 1}: cannot read (${(e as Error).message})`);
  }
  if (!format) throw new AsnTableError(`${path}: no data lines`);
  return { ranges, skipped, format };
}

/**
 * Stores ranges in one transaction. Ranges already in the table are kept unless `replace` clears it first; a
 * range that is already there (same start and end) is overwritten.
 */
export function storeAsnRanges(db: Database.Database, ranges: AsnRange[], opts: { replace?: boolean } = {}): void {
  const insert = db.prepare('INSERT OR REPLACE INTO asn_ranges (start_key, end_key, span, asn, name, country) VALUES (?, ?, ?, ?, ?, ?)');
  db.transaction(() => {
    if (opts.replace) db.prepare('DELETE FROM asn_ranges').run();
    for (const r of ranges) {
      const first = BigInt(`0x${r.startKey.slice(2)}`);
      const last = BigInt(`0x${r.endKey.slice(2)}`);
      insert.run(r.startKey, r.endKey, spanOf(first, last), r.asn, r.name, r.country);
    }
  })();
}

/** Reads every file, then stores all their ranges in one transaction: with one bad file, nothing is stored. */
export async function importAsnTables(db: Database.Database, paths: string[], opts: { format?: AsnTableFormat; replace?: boolean } = {}): Promise<{ path: string; ranges: number; skipped: number; format: AsnTableFormat }[]> {
  const read = [];
  for (const path of paths) read.push({ path, ...(await readAsnTable(path, opts)) });
  storeAsnRanges(db, read.flatMap((r) => r.ranges), opts);
  return read.map((r) => ({ path: r.path, ranges: r.ranges.length, skipped: r.skipped, format: r.format }));
}

export function asnRangeCount(db: Database.Database): number {
  return Number((db.prepare('SELECT count(*) AS n FROM asn_ranges').get() as { n: number }).n);
}

/**
 * The most specific table range of each address key. One pass over the ranges in start order beside the sorted
 * keys (a sweep), so a /8 that starts long before a key is still found, at the cost of reading the ranges up to
 * the last key once.
 */
export function tableAsnOfKeys(db: Database.Database, keys: string[]): Map<string, AsnOf> {
  const out = new Map<string, AsnOf>();
  if (!keys.length) return out;
  const sorted = [...keys].sort();
  const last = sorted[sorted.length - 1]!;
  const rows = db.prepare('SELECT start_key, end_key, span, asn, name FROM asn_ranges WHERE start_key <= ? ORDER BY start_key').raw().iterate(last) as IterableIterator<[string, string, string, number, string | null]>;
  let active: [string, string, string, number, string | null][] = [];
  let next = rows.next();
  for (const key of sorted) {
    while (!next.done && next.value[0] <= key) {
      active.push(next.value);
      next = rows.next();
    }
    active = active.filter((r) => r[1] >= key);
    let best: (typeof active)[number] | undefined;
    for (const r of active) if (r[0].slice(0, 1) === key.slice(0, 1) && (!best || r[2] < best[2])) best = r;
    if (best) out.set(key, { asn: Number(best[3]), name: best[4] });
  }
  if (!next.done) rows.return?.();
  return out;
}

/**
 * The ASN each address's imported records report, the latest record winning: Shadowserver scan reports and
 * Shodan banners keep it under extra.asn (Shodan host JSON under extra.host.asn), event observations
 * (Shadowserver event reports, IntelMQ) as data.src.asn.
 */
export function importedAsnOfKeys(db: Database.Database, lo?: string, hi?: string): Map<string, number> {
  const range = lo && hi ? 'AND ip_key BETWEEN ? AND ?' : '';
  const rows = db
    .prepare(
      `SELECT ip_key, CASE WHEN protocol = 'event' THEN json_extract(data, '$.src.asn')
                          ELSE coalesce(json_extract(extra, '$.asn'), json_extract(extra, '$.host.asn')) END AS asn
       FROM observations WHERE (extra IS NOT NULL OR protocol = 'event') ${range} ORDER BY time`,
    )
    .raw()
    .iterate(...(range ? [lo, hi] : [])) as IterableIterator<[string, unknown]>;
  const out = new Map<string, number>();
  for (const [key, v] of rows) {
    const asn = parseAsn(v);
    if (asn !== null) out.set(key, asn);
  }
  return out;
}

/** The names the table gives the AS numbers (any range of the AS that carries one). */
export function asnNames(db: Database.Database, asns: number[]): Map<number, string> {
  const out = new Map<number, string>();
  const q = db.prepare('SELECT name FROM asn_ranges WHERE asn = ? AND name IS NOT NULL LIMIT 1').pluck();
  for (const a of new Set(asns)) {
    const n = q.get(a) as string | undefined;
    if (n) out.set(a, n);
  }
  return out;
}
