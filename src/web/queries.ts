// Stage: statistics (read side of the dashboard, API and report). Aggregates over devices, findings and runs that
// the Store interface does not offer as such (search, per-CVE and per-network rollups, trends across runs), as
// SQL on the SQLite handle; plain lists go through the Store. Device text is returned as data, never formatted.
import type Database from 'better-sqlite3';
import { formatIp, keyBounds, parseRange } from '../core/ipnum.ts';
import { SEVERITIES, type Finding, type FindingKind, type Severity } from '../core/finding.ts';
import type { Device, DeviceEvent } from '../fingerprint/types.ts';
import type { CountRow, FindingFilter, InventoryStats, Run, ServiceRow, Store } from '../store/store.ts';
import { StoreError } from '../store/store.ts';
import { asnNames, importedAsnOfKeys, tableAsnOfKeys } from '../store/sqlite/asn.ts';

type Row = Record<string, unknown>;

export interface Scope {
  /** CIDR or range */
  network?: string;
  /** ISO date/time bounds on when a device or finding was last seen */
  from?: string;
  to?: string;
}

function networkClause(network: string | undefined, column = 'ip_key'): { sql: string; params: unknown[] } {
  if (!network) return { sql: '', params: [] };
  const r = parseRange(network);
  if (!r) throw new StoreError(`"${network}" is not a CIDR or range`);
  const [lo, hi] = keyBounds(r);
  return { sql: `${column} BETWEEN ? AND ?`, params: [lo, hi] };
}

function whereOf(parts: { sql: string; params: unknown[] }[]): { sql: string; params: unknown[] } {
  const used = parts.filter((p) => p.sql);
  return { sql: used.length ? `WHERE ${used.map((p) => p.sql).join(' AND ')}` : '', params: used.flatMap((p) => p.params) };
}

/** A record with a first and last sighting is in the window when the two overlap: last seen on or after `from`,
 *  first seen on or before `to`. */
function seenIn(s: Scope, firstColumn: string, lastColumn: string): { sql: string; params: unknown[] }[] {
  const out: { sql: string; params: unknown[] }[] = [];
  if (s.from) out.push({ sql: `${lastColumn} >= ?`, params: [s.from] });
  if (s.to) out.push({ sql: `${firstColumn} <= ?`, params: [s.to.length === 10 ? `${s.to}T23:59:59.999Z` : s.to] });
  return out;
}

function timeClauses(s: Scope, column: string): { sql: string; params: unknown[] }[] {
  const out: { sql: string; params: unknown[] }[] = [];
  if (s.from) out.push({ sql: `${column} >= ?`, params: [s.from] });
  if (s.to) out.push({ sql: `${column} <= ?`, params: [s.to.length === 10 ? `${s.to}T23:59:59.999Z` : s.to] });
  return out;
}

export interface RunTrend {
  runId: string;
  kind: string;
  status: string;
  startedAt: string;
  observations: number;
  services: number;
  hosts: number;
}

export interface DayCount {
  day: string;
  opened: number;
  fixed: number;
}

export interface Overview {
  devices: number;
  noiseExcluded: number;
  /** devices with at least one open finding that is not a CVE (exposure, no-auth, cleartext, weak TLS, credentials) */
  exposedDevices: number;
  exposureFindings: number;
  vulnerableDevices: number;
  vulnerabilityFindings: number;
  kevDevices: number;
  kevCves: number;
  bySeverity: { key: Severity; count: number }[];
  byKind: { key: string; count: number }[];
  stats: InventoryStats;
  runs: RunTrend[];
  findingDays: DayCount[];
  /** median days from first seen to fixed, over findings fixed in the window; null when none was fixed */
  medianDaysToFix: number | null;
}

export interface DeviceRow {
  ip: string;
  vendor: string | null;
  product: string | null;
  model: string | null;
  firmware: string | null;
  deviceType: string | null;
  confidence: number;
  firstSeen: string;
  lastSeen: string;
  openFindings: number;
  cves: number;
  kev: number;
  noise: string | null;
}

export interface DeviceQuery extends Scope {
  /** free text: address prefix, vendor, product or model */
  q?: string;
  vendor?: string;
  type?: string;
  model?: string;
  firmware?: string;
  includeNoise?: boolean;
  sort?: string;
  dir?: 'asc' | 'desc';
  limit?: number;
  offset?: number;
}

export const DEVICE_SORTS: Record<string, string> = {
  ip: 'd.ip_key',
  vendor: 'd.vendor',
  model: 'd.model',
  firmware: 'd.firmware',
  type: 'd.device_type',
  lastSeen: 'd.last_seen',
  findings: 'open_findings',
  cves: 'cves',
  kev: 'kev',
};

export interface CveRow {
  cve: string;
  title: string;
  severity: Severity;
  cvss: number | null;
  kev: boolean;
  epss: number | null;
  devices: number;
}

export interface VendorVulnRow {
  vendor: string;
  model?: string;
  devices: number;
  vulnerableDevices: number;
  cves: number;
  kevCves: number;
  findings: number;
}

export interface ProblemRow {
  id: string;
  kind: string;
  title: string;
  severity: Severity;
  openDevices: number;
  fixed: number;
  accepted: number;
  remediation: string;
}

export interface EventSummary {
  byFeed: { feed: string; category: string; events: number; addresses: number }[];
  addresses: number;
  inInventory: number;
  withOpenFindings: number;
}

export interface NetworkRow {
  prefix: string;
  devices: number;
  exposedDevices: number;
  vulnerableDevices: number;
  kevDevices: number;
  openFindings: number;
}

export interface AsnRow {
  /** null: no loaded table range and no imported record names the address's AS */
  asn: number | null;
  name: string | null;
  devices: number;
  exposedDevices: number;
  vulnerableDevices: number;
  kevDevices: number;
  openFindings: number;
}

function likeEscape(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

const KEV_EXPR = "json_extract(f.record, '$.details.kev') IS NOT NULL";

export const PREFIX_LENGTHS = { v4: [8, 16, 24], v6: [32, 40, 48, 56, 64] } as const;

/** The prefix of an address key as SQL: "4:" or "6:" and the first len/4 hex digits of the address. */
function prefixExpr(v4: number, v6: number): string {
  return `CASE WHEN substr(ip_key, 1, 1) = '4' THEN substr(ip_key, 1, ${2 + v4 / 4}) ELSE substr(ip_key, 1, ${2 + v6 / 4}) END`;
}

export function prefixOfKey(key: string, v4 = 24, v6 = 48): string {
  const family = key.startsWith('4:') ? 4 : 6;
  const hex = key.slice(2).padEnd(family === 4 ? 8 : 32, '0');
  return `${formatIp(family, BigInt(`0x${hex}`))}/${family === 4 ? v4 : v6}`;
}

export class DashboardQueries {
  private cache = new Map<string, { version: string; value: unknown }>();
  private sorted = new Map<string, { version: string; keys: string[] }>();

  constructor(
    readonly store: Store,
    private readonly db: Database.Database,
  ) {}

  /**
   * A key that changes whenever the data may have: another process's commit moves data_version, this
   * connection's own writes move total_changes(). Aggregates are cached against it, so they are recomputed only
   * after a scan, import or state change, never served stale.
   */
  private dataVersion(): string {
    const v = this.db.pragma('data_version', { simple: true });
    const t = (this.db.prepare('SELECT total_changes() AS n').get() as { n: number }).n;
    return `${v}/${t}`;
  }

  /**
   * Address keys of a filtered device list in count order, kept for paging through the same sort until the data
   * changes; few lists are kept (each can hold every device), the oldest dropped first.
   */
  private sortedKeys(key: string, compute: () => string[]): string[] {
    const version = this.dataVersion();
    const hit = this.sorted.get(key);
    if (hit && hit.version === version) return hit.keys;
    const keys = compute();
    this.sorted.delete(key);
    this.sorted.set(key, { version, keys });
    while (this.sorted.size > 16) this.sorted.delete(this.sorted.keys().next().value!);
    return keys;
  }

  private async cached<T>(key: string, compute: () => Promise<T> | T): Promise<T> {
    const version = this.dataVersion();
    const hit = this.cache.get(key);
    if (hit && hit.version === version) return hit.value as T;
    const value = await compute();
    if (this.cache.size > 200) this.cache.clear();
    this.cache.set(key, { version, value });
    return value;
  }

  async overview(scope: Scope = {}): Promise<Overview> {
    return this.cached(`overview:${JSON.stringify(scope)}`, () => this.computeOverview(scope));
  }

  private async computeOverview(scope: Scope): Promise<Overview> {
    const net = networkClause(scope.network, 'f.ip_key');
    const open = whereOf([{ sql: "f.state = 'open'", params: [] }, net, ...seenIn(scope, 'f.first_seen', 'f.last_seen'), { sql: 'f.ip_key NOT IN (SELECT ip_key FROM devices WHERE noise IS NOT NULL)', params: [] }]);
    const one = (sql: string, params: unknown[]) => Number((this.db.prepare(sql).get(...params) as { n: number }).n);
    const exposure = `${open.sql} AND f.kind <> 'vulnerability'`;
    const vuln = `${open.sql} AND f.kind = 'vulnerability'`;
    const bySeverity = this.db.prepare(`SELECT f.severity AS key, count(*) AS count FROM findings f ${open.sql} GROUP BY f.severity`).all(...open.params) as { key: Severity; count: number }[];
    bySeverity.sort((a, b) => SEVERITIES.indexOf(a.key) - SEVERITIES.indexOf(b.key));
    const byKind = this.db.prepare(`SELECT f.kind AS key, count(*) AS count FROM findings f ${open.sql} GROUP BY f.kind ORDER BY count DESC`).all(...open.params) as { key: string; count: number }[];
    const stats = scope.from || scope.to ? this.windowStats(scope) : await this.store.inventoryStats(scope.network ? { network: scope.network } : {});
    return {
      devices: stats.devices,
      noiseExcluded: stats.noiseExcluded,
      exposedDevices: one(`SELECT count(DISTINCT f.ip_key) AS n FROM findings f ${exposure}`, open.params),
      exposureFindings: one(`SELECT count(*) AS n FROM findings f ${exposure}`, open.params),
      vulnerableDevices: one(`SELECT count(DISTINCT f.ip_key) AS n FROM findings f ${vuln}`, open.params),
      vulnerabilityFindings: one(`SELECT count(*) AS n FROM findings f ${vuln}`, open.params),
      kevDevices: one(`SELECT count(DISTINCT f.ip_key) AS n FROM findings f ${vuln} AND ${KEV_EXPR}`, open.params),
      kevCves: one(`SELECT count(DISTINCT f.finding_id) AS n FROM findings f ${vuln} AND ${KEV_EXPR}`, open.params),
      bySeverity,
      byKind,
      stats,
      runs: this.runTrends(scope),
      findingDays: this.findingDays(scope),
      medianDaysToFix: this.medianDaysToFix(scope),
    };
  }

  /** The inventory counts of the Store, for devices seen in a date window and services observed in it. */
  private windowStats(scope: Scope): InventoryStats {
    const devW = whereOf([networkClause(scope.network), { sql: 'noise IS NULL', params: [] }, ...seenIn(scope, 'first_seen', 'last_seen')]);
    const noiseW = whereOf([networkClause(scope.network), { sql: 'noise IS NOT NULL', params: [] }, ...seenIn(scope, 'first_seen', 'last_seen')]);
    const obsW = whereOf([{ sql: "o.status = 'success'", params: [] }, ...timeClauses(scope, 'o.time'), { sql: `o.ip_key IN (SELECT ip_key FROM devices ${devW.sql})`, params: devW.params }]);
    const count = (expr: string) => this.db.prepare(`SELECT ${expr} AS key, count(*) AS count FROM devices ${devW.sql} GROUP BY key ORDER BY count DESC, key LIMIT 50`).all(...devW.params) as CountRow[];
    const services = (expr: string) => this.db.prepare(`SELECT ${expr} AS key, count(DISTINCT o.ip_key) AS count FROM observations o ${obsW.sql} GROUP BY key ORDER BY count DESC, key LIMIT 50`).all(...obsW.params) as CountRow[];
    const n = (w: { sql: string; params: unknown[] }) => Number((this.db.prepare(`SELECT count(*) AS n FROM devices ${w.sql}`).get(...w.params) as { n: number }).n);
    return {
      devices: n(devW),
      noiseExcluded: n(noiseW),
      byType: count("coalesce(device_type, '(unknown)')"),
      byVendor: count("coalesce(vendor, '(unknown)')"),
      byModel: count("coalesce(vendor, '(unknown)') || ' ' || coalesce(model, product, '(unknown)')"),
      byFirmware: count("coalesce(vendor, '(unknown)') || ' ' || coalesce(model, product, '(unknown)') || ' ' || coalesce(firmware, '(unknown)')"),
      byPort: services("o.port || '/' || o.transport"),
      byProtocol: services('o.protocol'),
    };
  }

  /** Per scan or import run: observations, successful services and distinct hosts, oldest first. */
  runTrends(scope: Scope = {}, limit = 60): RunTrend[] {
    const w = whereOf([networkClause(scope.network, 'o.ip_key')]);
    const runW = whereOf(timeClauses(scope, 'r.started_at'));
    const rows = this.db
      .prepare(
        `SELECT r.id, r.kind, r.status, r.started_at,
                (SELECT count(*) FROM observations o WHERE o.run_id = r.id ${w.sql ? `AND ${w.sql.slice(6)}` : ''}) AS observations,
                (SELECT count(*) FROM observations o WHERE o.run_id = r.id AND o.status = 'success' ${w.sql ? `AND ${w.sql.slice(6)}` : ''}) AS services,
                (SELECT count(DISTINCT o.ip_key) FROM observations o WHERE o.run_id = r.id AND o.status = 'success' ${w.sql ? `AND ${w.sql.slice(6)}` : ''}) AS hosts
         FROM (SELECT * FROM runs r ${runW.sql} ORDER BY r.started_at DESC LIMIT ${Math.max(1, Math.floor(limit))}) r
         ORDER BY r.started_at`,
      )
      .all(...w.params, ...w.params, ...w.params, ...runW.params) as Row[];
    return rows.map((r) => ({
      runId: String(r.id),
      kind: String(r.kind),
      status: String(r.status),
      startedAt: String(r.started_at),
      observations: Number(r.observations),
      services: Number(r.services),
      hosts: Number(r.hosts),
    }));
  }

  /** Findings opened and fixed per day. */
  findingDays(scope: Scope = {}): DayCount[] {
    const net = networkClause(scope.network, 'ip_key');
    const opened = whereOf([net, ...timeClauses(scope, 'first_seen')]);
    const fixed = whereOf([net, { sql: 'fixed_at IS NOT NULL', params: [] }, ...timeClauses(scope, 'fixed_at')]);
    const days = new Map<string, DayCount>();
    for (const r of this.db.prepare(`SELECT substr(first_seen, 1, 10) AS day, count(*) AS n FROM findings ${opened.sql} GROUP BY day`).all(...opened.params) as Row[])
      days.set(String(r.day), { day: String(r.day), opened: Number(r.n), fixed: 0 });
    for (const r of this.db.prepare(`SELECT substr(fixed_at, 1, 10) AS day, count(*) AS n FROM findings ${fixed.sql} GROUP BY day`).all(...fixed.params) as Row[]) {
      const d = days.get(String(r.day)) ?? { day: String(r.day), opened: 0, fixed: 0 };
      d.fixed = Number(r.n);
      days.set(d.day, d);
    }
    return [...days.values()].sort((a, b) => a.day.localeCompare(b.day));
  }

  medianDaysToFix(scope: Scope = {}): number | null {
    const w = whereOf([networkClause(scope.network, 'ip_key'), { sql: 'fixed_at IS NOT NULL', params: [] }, ...timeClauses(scope, 'fixed_at')]);
    const days = (this.db.prepare(`SELECT julianday(fixed_at) - julianday(first_seen) AS d FROM findings ${w.sql} ORDER BY d`).all(...w.params) as { d: number }[]).map((r) => r.d);
    if (!days.length) return null;
    const mid = Math.floor(days.length / 2);
    const m = days.length % 2 ? days[mid]! : (days[mid - 1]! + days[mid]!) / 2;
    return Math.round(m * 10) / 10;
  }

  private deviceWhere(q: DeviceQuery): { sql: string; params: unknown[] } {
    const parts: { sql: string; params: unknown[] }[] = [networkClause(q.network, 'd.ip_key')];
    if (!q.includeNoise) parts.push({ sql: 'd.noise IS NULL', params: [] });
    if (q.vendor) parts.push({ sql: 'd.vendor = ? COLLATE NOCASE', params: [q.vendor] });
    if (q.type) parts.push({ sql: 'd.device_type = ? COLLATE NOCASE', params: [q.type] });
    if (q.model) parts.push({ sql: "d.model LIKE ? ESCAPE '\\'", params: [`%${likeEscape(q.model)}%`] });
    if (q.firmware) parts.push({ sql: "d.firmware LIKE ? ESCAPE '\\'", params: [`${likeEscape(q.firmware)}%`] });
    if (q.q) {
      const t = q.q.trim().slice(0, 200);
      if (t) {
        const asRange = parseRange(t);
        if (asRange && /[/:-]|^\d+\.\d+\.\d+\.\d+$/.test(t)) {
          const [lo, hi] = keyBounds(asRange);
          parts.push({ sql: 'd.ip_key BETWEEN ? AND ?', params: [lo, hi] });
        } else {
          const like = `%${likeEscape(t)}%`;
          parts.push({
            sql: "(d.ip LIKE ? ESCAPE '\\' OR d.vendor LIKE ? ESCAPE '\\' OR d.product LIKE ? ESCAPE '\\' OR d.model LIKE ? ESCAPE '\\' OR d.firmware LIKE ? ESCAPE '\\')",
            params: [`${likeEscape(t)}%`, like, like, like, like],
          });
        }
      }
    }
    parts.push(...seenIn(q, 'd.first_seen', 'd.last_seen'));
    return whereOf(parts);
  }

  /**
   * Open findings, CVEs and KEV CVEs per device address key, from one pass over the open findings; cached until
   * the data changes, so device pages and count sorts need no per-device subqueries.
   */
  private async deviceCounts(): Promise<Map<string, [number, number, number]>> {
    return this.cached('device-counts', () => {
      const m = new Map<string, [number, number, number]>();
      const rows = this.db
        .prepare(
          `SELECT ip_key, count(*) AS open, sum(kind = 'vulnerability') AS cves,
                  sum(kind = 'vulnerability' AND json_extract(record, '$.details.kev') IS NOT NULL) AS kev
           FROM findings WHERE state = 'open' GROUP BY ip_key`,
        )
        .raw()
        .all() as [string, number, number, number][];
      for (const [k, open, cves, kev] of rows) m.set(k, [Number(open), Number(cves), Number(kev)]);
      return m;
    });
  }

  /** Devices matching a search, with their open finding, CVE and KEV counts; one page and the total. */
  async devices(q: DeviceQuery): Promise<{ total: number; rows: DeviceRow[] }> {
    const w = this.deviceWhere(q);
    const sort = q.sort && DEVICE_SORTS[q.sort] ? q.sort : 'ip';
    const dir = q.dir === 'desc' ? 'DESC' : 'ASC';
    const limit = Math.min(Math.max(1, Math.floor(q.limit ?? 50)), 100_000);
    const offset = Math.max(0, Math.floor(q.offset ?? 0));
    const total = await this.cached(`devcount:${w.sql}:${JSON.stringify(w.params)}`, () => Number((this.db.prepare(`SELECT count(*) AS n FROM devices d ${w.sql}`).get(...w.params) as { n: number }).n));
    const counts = await this.deviceCounts();
    const countIndex = { findings: 0, cves: 1, kev: 2 }[sort as 'findings'];
    let rows: Row[];
    if (countIndex !== undefined) {
      // Sort on a count: order the matching address keys by their counts in memory, then read the page's rows.
      const order = this.sortedKeys(`${w.sql}:${JSON.stringify(w.params)}:${sort}:${dir}`, () => {
        // Keys arrive in address order; the sort is stable, so equal counts stay in address order.
        const keys = (this.db.prepare(`SELECT d.ip_key FROM devices d ${w.sql} ORDER BY d.ip_key`).raw().all(...w.params) as [string][]).map((r) => r[0]);
        const sign = dir === 'DESC' ? -1 : 1;
        const decorated = keys.map((k, i) => ({ k, c: sign * (counts.get(k)?.[countIndex] ?? 0), i }));
        decorated.sort((a, b) => a.c - b.c || a.i - b.i);
        return decorated.map((x) => x.k);
      });
      const page = order.slice(offset, offset + limit);
      const byKey = new Map<string, Row>();
      for (let i = 0; i < page.length; i += 500) {
        const chunk = page.slice(i, i + 500);
        for (const r of this.db.prepare(`SELECT * FROM devices WHERE ip_key IN (${chunk.map(() => '?').join(',')})`).all(...chunk) as Row[]) byKey.set(String(r.ip_key), r);
      }
      rows = page.map((k) => byKey.get(k)!).filter(Boolean);
    } else {
      const order = sort === 'ip' ? `d.ip_key ${dir}` : `${DEVICE_SORTS[sort]} ${dir}, d.ip_key`;
      rows = this.db.prepare(`SELECT d.* FROM devices d ${w.sql} ORDER BY ${order} LIMIT ${limit} OFFSET ${offset}`).all(...w.params) as Row[];
    }
    return {
      total,
      rows: rows.map((r) => {
        const [open, cves, kev] = counts.get(String(r.ip_key)) ?? [0, 0, 0];
        return {
          ip: String(r.ip),
          vendor: (r.vendor as string | null) ?? null,
          product: (r.product as string | null) ?? null,
          model: (r.model as string | null) ?? null,
          firmware: (r.firmware as string | null) ?? null,
          deviceType: (r.device_type as string | null) ?? null,
          confidence: Number(r.confidence),
          firstSeen: String(r.first_seen),
          lastSeen: String(r.last_seen),
          openFindings: open,
          cves,
          kev,
          noise: r.noise ? (JSON.parse(String(r.noise)) as { kind: string }).kind : null,
        };
      }),
    };
  }

  async device(ip: string): Promise<{ device: Device; services: ServiceRow[]; findings: Finding[]; events: DeviceEvent[] } | null> {
    const device = await this.store.getDevice(ip);
    if (!device) return null;
    const [services, findings, events] = await Promise.all([this.store.services({ ip, limit: 500 }), this.store.findings({ ip, state: 'any', limit: 1000 }), this.store.deviceEvents(ip)]);
    return { device, services, findings, events: events.slice(-500) };
  }

  private vulnWhere(scope: Scope & { kevOnly?: boolean }): { sql: string; params: unknown[] } {
    return whereOf([
      { sql: "f.state = 'open' AND f.kind = 'vulnerability'", params: [] },
      networkClause(scope.network, 'f.ip_key'),
      ...seenIn(scope, 'f.first_seen', 'f.last_seen'),
      scope.kevOnly ? { sql: KEV_EXPR, params: [] } : { sql: '', params: [] },
    ]);
  }

  /** Open CVE findings per CVE: KEV first, then EPSS, CVSS and the number of devices. */
  async vulnerabilitiesByCve(scope: Scope & { kevOnly?: boolean; limit?: number; offset?: number } = {}): Promise<CveRow[]> {
    const w = this.vulnWhere(scope);
    const limit = Math.min(Math.max(1, Math.floor(scope.limit ?? 100_000)), 100_000);
    const rows = this.db
      .prepare(
        `SELECT f.finding_id AS cve, max(json_extract(f.record, '$.title')) AS title,
                min(CASE f.severity ${SEVERITIES.map((s, i) => `WHEN '${s}' THEN ${i}`).join(' ')} END) AS sev,
                max(json_extract(f.record, '$.details.cvss.score')) AS cvss, max(${KEV_EXPR}) AS kev,
                max(json_extract(f.record, '$.details.epss.score')) AS epss, count(DISTINCT f.ip_key) AS devices
         FROM findings f ${w.sql} GROUP BY f.finding_id
         ORDER BY kev DESC, epss IS NULL, epss DESC, cvss DESC, devices DESC, cve LIMIT ${limit} OFFSET ${Math.max(0, Math.floor(scope.offset ?? 0))}`,
      )
      .all(...w.params) as Row[];
    return rows.map((r) => ({
      cve: String(r.cve),
      title: String(r.title ?? ''),
      severity: SEVERITIES[Number(r.sev)] ?? 'info',
      cvss: r.cvss === null ? null : Number(r.cvss),
      kev: Number(r.kev) === 1,
      epss: r.epss === null ? null : Number(r.epss),
      devices: Number(r.devices),
    }));
  }

  /** Devices, vulnerable devices and CVEs per vendor (or per vendor and model). */
  async vulnerabilitiesByVendor(scope: Scope & { byModel?: boolean; limit?: number } = {}): Promise<VendorVulnRow[]> {
    const w = this.vulnWhere(scope);
    const devW = whereOf([networkClause(scope.network, 'd.ip_key'), { sql: 'd.noise IS NULL', params: [] }]);
    const key = scope.byModel ? "coalesce(d.vendor, '(unknown)'), coalesce(d.model, d.product, '(unknown)')" : "coalesce(d.vendor, '(unknown)')";
    const limit = Math.min(Math.max(1, Math.floor(scope.limit ?? 100_000)), 100_000);
    const rows = this.db
      .prepare(
        `SELECT coalesce(d.vendor, '(unknown)') AS vendor, coalesce(d.model, d.product, '(unknown)') AS model,
                count(DISTINCT d.ip_key) AS devices, count(DISTINCT v.ip_key) AS vulnerable,
                count(DISTINCT v.finding_id) AS cves, count(DISTINCT CASE WHEN v.kev THEN v.finding_id END) AS kev_cves,
                count(v.finding_id) AS findings
         FROM devices d LEFT JOIN (SELECT f.ip_key, f.finding_id, ${KEV_EXPR} AS kev FROM findings f ${w.sql}) v ON v.ip_key = d.ip_key
         ${devW.sql}
         GROUP BY ${key}
         HAVING vulnerable > 0
         ORDER BY kev_cves DESC, vulnerable DESC, cves DESC, vendor, model LIMIT ${limit}`,
      )
      .all(...w.params, ...devW.params) as Row[];
    return rows.map((r) => ({
      vendor: String(r.vendor),
      ...(scope.byModel ? { model: String(r.model) } : {}),
      devices: Number(r.devices),
      vulnerableDevices: Number(r.vulnerable),
      cves: Number(r.cves),
      kevCves: Number(r.kev_cves),
      findings: Number(r.findings),
    }));
  }

  /** Devices and open findings per prefix: /24 (IPv4) and /48 (IPv6) unless other lengths are asked for. */
  async networks(scope: Scope = {}, v4 = 24, v6 = 48): Promise<NetworkRow[]> {
    if (!(PREFIX_LENGTHS.v4 as readonly number[]).includes(v4) || !(PREFIX_LENGTHS.v6 as readonly number[]).includes(v6))
      throw new StoreError(`prefix lengths: IPv4 one of ${PREFIX_LENGTHS.v4.join(', ')}; IPv6 one of ${PREFIX_LENGTHS.v6.join(', ')}`);
    const PREFIX_EXPR = prefixExpr(v4, v6);
    return this.cached(`networks:${JSON.stringify(scope)}:${v4}:${v6}`, () => {
      const devW = whereOf([networkClause(scope.network), { sql: 'noise IS NULL', params: [] }, ...seenIn(scope, 'first_seen', 'last_seen')]);
      const fW = whereOf([{ sql: "state = 'open'", params: [] }, networkClause(scope.network), ...seenIn(scope, 'first_seen', 'last_seen')]);
      const rows = this.db
        .prepare(
          `WITH d AS (SELECT ${PREFIX_EXPR} AS pk, count(*) AS devices FROM devices ${devW.sql} GROUP BY pk),
                f AS (SELECT ${PREFIX_EXPR} AS pk, count(*) AS findings,
                             count(DISTINCT CASE WHEN kind <> 'vulnerability' THEN ip_key END) AS exposed,
                             count(DISTINCT CASE WHEN kind = 'vulnerability' THEN ip_key END) AS vulnerable,
                             count(DISTINCT CASE WHEN kind = 'vulnerability' AND json_extract(record, '$.details.kev') IS NOT NULL THEN ip_key END) AS kev
                      FROM findings ${fW.sql} GROUP BY pk)
           SELECT d.pk, d.devices, coalesce(f.findings, 0) AS findings, coalesce(f.exposed, 0) AS exposed,
                  coalesce(f.vulnerable, 0) AS vulnerable, coalesce(f.kev, 0) AS kev
           FROM d LEFT JOIN f ON f.pk = d.pk ORDER BY kev DESC, vulnerable DESC, exposed DESC, d.devices DESC, d.pk`,
        )
        .all(...devW.params, ...fW.params) as Row[];
      return rows.map((r) => ({
        prefix: prefixOfKey(String(r.pk), v4, v6),
        devices: Number(r.devices),
        exposedDevices: Number(r.exposed),
        vulnerableDevices: Number(r.vulnerable),
        kevDevices: Number(r.kev),
        openFindings: Number(r.findings),
      }));
    });
  }

  /**
   * Devices and open findings per autonomous system. An address's AS is the most specific range of the loaded
   * prefix→ASN table, else the latest imported record that reported one, else unknown (asn null).
   */
  async networksByAsn(scope: Scope = {}): Promise<AsnRow[]> {
    return this.cached(`networks-asn:${JSON.stringify(scope)}`, () => {
      const devW = whereOf([networkClause(scope.network), { sql: 'noise IS NULL', params: [] }, ...seenIn(scope, 'first_seen', 'last_seen')]);
      const fW = whereOf([{ sql: "state = 'open'", params: [] }, networkClause(scope.network), ...seenIn(scope, 'first_seen', 'last_seen')]);
      const deviceKeys = (this.db.prepare(`SELECT ip_key FROM devices ${devW.sql}`).raw().all(...devW.params) as [string][]).map((r) => r[0]);
      const perKey = this.db
        .prepare(
          `SELECT ip_key, count(*) AS findings, max(kind <> 'vulnerability') AS exposed, max(kind = 'vulnerability') AS vulnerable,
                  max(kind = 'vulnerability' AND json_extract(record, '$.details.kev') IS NOT NULL) AS kev
           FROM findings ${fW.sql} GROUP BY ip_key`,
        )
        .raw()
        .all(...fW.params) as [string, number, number, number, number][];
      const keys = [...new Set([...deviceKeys, ...perKey.map((r) => r[0])])];
      const fromTable = tableAsnOfKeys(this.db, keys);
      const bounds = scope.network ? networkClause(scope.network).params as [string, string] : [];
      const imported = importedAsnOfKeys(this.db, ...bounds);
      const asnOf = (k: string): number | null => fromTable.get(k)?.asn ?? imported.get(k) ?? null;
      const groups = new Map<number | null, AsnRow>();
      const group = (asn: number | null): AsnRow => {
        let g = groups.get(asn);
        if (!g) groups.set(asn, (g = { asn, name: null, devices: 0, exposedDevices: 0, vulnerableDevices: 0, kevDevices: 0, openFindings: 0 }));
        return g;
      };
      for (const k of deviceKeys) group(asnOf(k)).devices++;
      for (const [k, findings, exposed, vulnerable, kev] of perKey) {
        const g = group(asnOf(k));
        g.openFindings += Number(findings);
        g.exposedDevices += Number(exposed);
        g.vulnerableDevices += Number(vulnerable);
        g.kevDevices += Number(kev);
      }
      const names = asnNames(this.db, [...groups.keys()].filter((a): a is number => a !== null));
      for (const k of fromTable.values()) if (k.name && !names.has(k.asn)) names.set(k.asn, k.name);
      for (const g of groups.values()) if (g.asn !== null) g.name = names.get(g.asn) ?? null;
      return [...groups.values()].sort(
        (a, b) => b.kevDevices - a.kevDevices || b.vulnerableDevices - a.vulnerableDevices || b.exposedDevices - a.exposedDevices || b.devices - a.devices || (a.asn ?? Infinity) - (b.asn ?? Infinity),
      );
    });
  }

  /** Findings with filters; one page, and whether another follows. */
  async findings(filter: FindingFilter & { limit: number; offset: number }): Promise<{ rows: Finding[]; hasNext: boolean }> {
    const rows = await this.store.findings({ ...filter, limit: filter.limit + 1 });
    return { rows: rows.slice(0, filter.limit), hasNext: rows.length > filter.limit };
  }

  async runs(scope: Scope = {}): Promise<(RunTrend & { finishedAt: string | null; spec: Run['spec'] })[]> {
    const runs = await this.store.listRuns({ limit: 200 });
    const trends = new Map(this.runTrends(scope, 200).map((t) => [t.runId, t]));
    return runs
      .filter((r) => trends.has(r.id))
      .map((r) => ({ ...trends.get(r.id)!, finishedAt: r.finishedAt, spec: r.spec }));
  }

  /** The most frequent open problems other than CVEs (check ids), with their remediation and how many were fixed. */
  topProblems(scope: Scope = {}, limit = 20): ProblemRow[] {
    const w = whereOf([
      { sql: "kind <> 'vulnerability'", params: [] },
      { sql: 'ip_key NOT IN (SELECT ip_key FROM devices WHERE noise IS NOT NULL)', params: [] },
      networkClause(scope.network),
      ...seenIn(scope, 'first_seen', 'last_seen'),
    ]);
    const rows = this.db
      .prepare(
        `SELECT finding_id AS id, kind, max(json_extract(record, '$.title')) AS title,
                min(CASE severity ${SEVERITIES.map((s, i) => `WHEN '${s}' THEN ${i}`).join(' ')} END) AS sev,
                count(DISTINCT CASE WHEN state = 'open' THEN ip_key END) AS open_devices,
                sum(state = 'fixed') AS fixed, sum(state = 'accepted') AS accepted,
                max(json_extract(record, '$.remediation')) AS remediation
         FROM findings ${w.sql} GROUP BY finding_id, kind ORDER BY sev, open_devices DESC, id LIMIT ${Math.max(1, Math.floor(limit))}`,
      )
      .all(...w.params) as Row[];
    return rows.map((r) => ({
      id: String(r.id),
      kind: String(r.kind),
      title: String(r.title ?? ''),
      severity: SEVERITIES[Number(r.sev)] ?? 'info',
      openDevices: Number(r.open_devices),
      fixed: Number(r.fixed),
      accepted: Number(r.accepted),
      remediation: String(r.remediation ?? ''),
    }));
  }

  /** Event observations (honeypot, sinkhole and incident feeds) per feed and category, and how many of the
   *  reported addresses are devices in the inventory, and exposed or vulnerable ones. */
  eventSummary(scope: Scope = {}): EventSummary {
    const w = whereOf([{ sql: "o.protocol = 'event'", params: [] }, networkClause(scope.network, 'o.ip_key'), ...timeClauses(scope, 'o.time')]);
    const byFeed = (this.db
      .prepare(
        `SELECT coalesce(json_extract(o.data, '$.feed'), o.source) AS feed, coalesce(json_extract(o.data, '$.category'), '(none)') AS category,
                count(*) AS events, count(DISTINCT o.ip_key) AS addresses
         FROM observations o ${w.sql} GROUP BY feed, category ORDER BY events DESC LIMIT 50`,
      )
      .all(...w.params) as Row[]).map((r) => ({ feed: String(r.feed), category: String(r.category), events: Number(r.events), addresses: Number(r.addresses) }));
    const joined = this.db
      .prepare(
        `WITH a AS (SELECT DISTINCT o.ip_key FROM observations o ${w.sql})
         SELECT count(*) AS addresses,
                sum(EXISTS (SELECT 1 FROM devices d WHERE d.ip_key = a.ip_key)) AS devices,
                sum(EXISTS (SELECT 1 FROM findings f WHERE f.ip_key = a.ip_key AND f.state = 'open')) AS with_findings
         FROM a`,
      )
      .get(...w.params) as Row;
    return { byFeed, addresses: Number(joined.addresses ?? 0), inInventory: Number(joined.devices ?? 0), withOpenFindings: Number(joined.with_findings ?? 0) };
  }

  /** Findings that a later assessment no longer saw, in the window (the fix was verified by a re-scan). */
  fixedCount(scope: Scope = {}): number {
    const w = whereOf([{ sql: "state = 'fixed'", params: [] }, networkClause(scope.network), ...timeClauses(scope, 'fixed_at')]);
    return Number((this.db.prepare(`SELECT count(*) AS n FROM findings ${w.sql}`).get(...w.params) as { n: number }).n);
  }

  /** Finding kinds present in the store, for filter menus. */
  findingKinds(): FindingKind[] {
    return (this.db.prepare('SELECT DISTINCT kind FROM findings ORDER BY kind').all() as { kind: FindingKind }[]).map((r) => r.kind);
  }
}
