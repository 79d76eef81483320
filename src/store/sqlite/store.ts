// Stage: storage. The embedded default: one SQLite file (better-sqlite3, WAL), nothing to install or start.
// Schema changes are numbered migrations applied at open, each in its own transaction.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { keyBounds, ipKey, parseRange } from '../../core/ipnum.ts';
import type { Observation, ProbeStatus } from '../../core/observation.ts';
import type { Device, DeviceEvent } from '../../fingerprint/types.ts';
import { type Finding, SEVERITIES, findingKey } from '../../core/finding.ts';
import { type AssessmentScope, type CountRow, type DeviceFilter, type FindingChanges, type FindingFilter, type HostObservations, type HostRow, type ImportOptions, type InventoryStats, type ObservationFilter, type Run, type RunProgress, type RunStatus, type ServiceRow, type Store, StoreError, type StoredObservation } from '../store.ts';
import { MIGRATIONS } from './migrations.ts';

type Row = Record<string, unknown>;

export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  private db: Database.Database;
  private insertObs: Database.Statement;

  private constructor(readonly location: string) {
    try {
      if (location !== ':memory:') mkdirSync(dirname(location), { recursive: true });
      this.db = new Database(location);
    } catch (e) {
      throw new StoreError(`cannot open the SQLite store ${location}: ${(e as Error).message}`);
    }
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.migrate();
    this.insertObs = this.prepared(
      `INSERT INTO observations (run_id, ip, ip_key, port, transport, protocol, source, time, status, data, raw, extra)
       VALUES (@runId, @ip, @ipKey, @port, @transport, @protocol, @source, @time, @status, @data, @raw, @extra)`,
    );
  }

  /**
   * Prepared statements by their SQL text. The later stages ask per address (observations of one host, its device
   * record), and preparing the same statement again for each of a hundred thousand addresses cost more than
   * running it. Bounded, because filters and pages make the text vary.
   */
  private readonly statements = new Map<string, Database.Statement>();

  private prepared(sql: string): Database.Statement {
    let st = this.statements.get(sql);
    if (!st) {
      if (this.statements.size >= 256) this.statements.clear();
      st = this.db.prepare(sql);
      this.statements.set(sql, st);
    }
    return st;
  }

  static open(location: string): SqliteStore {
    return new SqliteStore(location);
  }

  private migrate(): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
    const applied = new Set((this.db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version));
    const newest = Math.max(0, ...applied);
    const known = MIGRATIONS.length;
    if (newest > known) throw new StoreError(`${this.location} was written by a newer iotscope (schema ${newest}, this one knows ${known})`);
    MIGRATIONS.forEach((sql, i) => {
      const version = i + 1;
      if (applied.has(version)) return;
      this.db.transaction(() => {
        this.db.exec(sql);
        this.db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(version, new Date().toISOString());
      })();
    });
  }

  /** The underlying handle, for stages that keep their own tables in the same file (knowledge base, devices). */
  get handle(): Database.Database {
    return this.db;
  }

  async createRun(run: Omit<Run, 'finishedAt' | 'summary'> & Partial<Pick<Run, 'finishedAt' | 'summary'>>): Promise<void> {
    this
      .prepared('INSERT INTO runs (id, kind, status, started_at, finished_at, spec, progress, summary) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(run.id, run.kind, run.status, run.startedAt, run.finishedAt ?? null, JSON.stringify(run.spec), run.progress ? JSON.stringify(run.progress) : null, JSON.stringify(run.summary ?? {}));
  }

  async getRun(id: string): Promise<Run | null> {
    const r = this.prepared('SELECT * FROM runs WHERE id = ?').get(id) as Row | undefined;
    return r ? toRun(r) : null;
  }

  async listRuns(opts: { kind?: Run['kind']; limit?: number } = {}): Promise<Run[]> {
    const rows = opts.kind
      ? this.prepared('SELECT * FROM runs WHERE kind = ? ORDER BY started_at DESC LIMIT ?').all(opts.kind, opts.limit ?? 1000)
      : this.prepared('SELECT * FROM runs ORDER BY started_at DESC LIMIT ?').all(opts.limit ?? 1000);
    return (rows as Row[]).map(toRun);
  }

  async finishRun(id: string, status: RunStatus, summary: Record<string, unknown> = {}): Promise<void> {
    const r = this.prepared('UPDATE runs SET status = ?, finished_at = ?, summary = ? WHERE id = ?').run(status, new Date().toISOString(), JSON.stringify(summary), id);
    if (r.changes !== 1) throw new StoreError(`no run ${id}`);
  }

  async commitScanBatch(runId: string, observations: Observation[], progress: RunProgress): Promise<void> {
    this.db.transaction(() => {
      for (const o of observations) this.insertObs.run(obsParams(o));
      const r = this.prepared('UPDATE runs SET progress = ? WHERE id = ?').run(JSON.stringify(progress), runId);
      if (r.changes !== 1) throw new StoreError(`no run ${runId}`);
    })();
  }

  async importObservations(
    run: Omit<Run, 'status' | 'finishedAt' | 'progress' | 'summary'>,
    source: AsyncIterable<Observation | readonly Observation[]>,
    opts: ImportOptions = {},
  ): Promise<{ stored: number }> {
    const batchSize = opts.batchSize ?? 2000;
    let stored = 0;
    // One transaction spans the whole import: the iterable is consumed between statements, and nothing else uses
    // this connection meanwhile. A failure anywhere rolls everything back.
    this.db.exec('BEGIN IMMEDIATE');
    try {
      await this.createRun({ ...run, status: 'running', progress: null });
      let batch: Observation[] = [];
      const flush = () => {
        for (const o of batch) this.insertObs.run(obsParams(o));
        stored += batch.length;
        batch = [];
      };
      // importers hand over a chunk's worth of observations at a time; single ones are accepted too
      for await (const item of source) {
        if (Array.isArray(item)) for (const o of item as readonly Observation[]) batch.push(o);
        else batch.push(item as Observation);
        if (batch.length >= batchSize) flush();
      }
      flush();
      this.prepared('UPDATE runs SET status = ?, finished_at = ?, summary = ? WHERE id = ?').run('done', new Date().toISOString(), JSON.stringify({ ...opts.summary?.(), stored }), run.id);
      this.db.exec('COMMIT');
      return { stored };
    } catch (e) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      throw e;
    }
  }

  private where(f: ObservationFilter): { sql: string; params: unknown[] } {
    const clauses: string[] = [];
    const params: unknown[] = [];
    if (f.runId) clauses.push('run_id = ?'), params.push(f.runId);
    if (f.ip) clauses.push('ip_key = ?'), params.push(ipKey(f.ip));
    if (f.network) networkClause(f.network, clauses, params);
    if (f.port !== undefined) clauses.push('port = ?'), params.push(f.port);
    if (f.transport) clauses.push('transport = ?'), params.push(f.transport);
    if (f.protocol) clauses.push('protocol = ?'), params.push(f.protocol);
    if (f.status && f.status !== 'any') clauses.push('status = ?'), params.push(f.status);
    if (f.since) clauses.push('time >= ?'), params.push(f.since);
    if (f.until) clauses.push('time <= ?'), params.push(f.until);
    return { sql: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
  }

  private page(f: ObservationFilter): string {
    const limit = f.limit !== undefined ? Math.max(0, Math.floor(f.limit)) : -1;
    const offset = f.offset !== undefined ? Math.max(0, Math.floor(f.offset)) : 0;
    return ` LIMIT ${limit} OFFSET ${offset}`;
  }

  async observations(filter: ObservationFilter = {}): Promise<StoredObservation[]> {
    const w = this.where(filter);
    return (this.prepared(`SELECT * FROM observations ${w.sql} ORDER BY id${this.page(filter)}`).all(...w.params) as Row[]).map(toObservation);
  }

  async *iterateObservations(filter: ObservationFilter = {}): AsyncIterable<StoredObservation> {
    // Keyset pagination rather than one open cursor, so callers may write to the store between rows.
    let after = 0;
    const w = this.where(filter);
    const stmt = this.prepared(`SELECT * FROM observations ${w.sql ? `${w.sql} AND` : 'WHERE'} id > ? ORDER BY id LIMIT 1000`);
    for (;;) {
      const rows = stmt.all(...w.params, after) as Row[];
      if (!rows.length) return;
      for (const r of rows) yield toObservation(r);
      after = Number(rows[rows.length - 1]!.id);
    }
  }

  async *observationsByHost(filter: { ips?: Iterable<string>; status?: ProbeStatus | 'any' } = {}): AsyncIterable<HostObservations> {
    const status = filter.status ?? 'success';
    const statusSql = status === 'any' ? '' : ' AND status = ?';
    const statusParams = status === 'any' ? [] : [status];
    for (const keys of this.ipKeyChunks(filter.ips)) {
      const rows = this.prepared(`SELECT * FROM observations WHERE ip_key IN (${keys.map(() => '?').join(',')})${statusSql} ORDER BY ip_key, id`).all(...keys, ...statusParams) as Row[];
      let current: HostObservations | null = null;
      let currentKey: unknown = null;
      for (const r of rows) {
        if (!current || r.ip_key !== currentKey) {
          if (current) yield current;
          current = { ip: String(r.ip), observations: [] };
          currentKey = r.ip_key;
        }
        current.observations.push(toObservation(r));
      }
      if (current) yield current;
    }
  }

  /** Address keys a few hundred at a time, in order: of the given addresses, or of every address in the store. */
  private *ipKeyChunks(ips: Iterable<string> | undefined): Generator<string[]> {
    const CHUNK = 500;
    if (ips) {
      const keys = [...new Set([...ips].map(ipKey))].sort();
      for (let i = 0; i < keys.length; i += CHUNK) yield keys.slice(i, i + CHUNK);
      return;
    }
    // every address: the next few hundred distinct keys after the last one, straight off the address index
    const next = this.prepared(`SELECT DISTINCT ip_key FROM observations WHERE ip_key > ? ORDER BY ip_key LIMIT ${CHUNK}`);
    let after = '';
    for (;;) {
      const keys = (next.all(after) as { ip_key: string }[]).map((r) => r.ip_key);
      if (!keys.length) return;
      yield keys;
      after = keys[keys.length - 1]!;
    }
  }

  async countObservations(filter: ObservationFilter = {}): Promise<number> {
    const w = this.where(filter);
    return (this.prepared(`SELECT count(*) AS n FROM observations ${w.sql}`).get(...w.params) as { n: number }).n;
  }

  async services(filter: ObservationFilter = {}): Promise<ServiceRow[]> {
    const f = { status: 'success' as const, ...filter };
    const w = this.where(f);
    const rows = this.db
      .prepare(
        `WITH m AS (SELECT * FROM observations ${w.sql}),
              latest AS (SELECT ip_key, port, transport, max(id) AS id, min(time) AS first_seen, max(time) AS last_seen
                         FROM m GROUP BY ip_key, port, transport)
         SELECT o.*, latest.first_seen, latest.last_seen FROM latest JOIN observations o ON o.id = latest.id
         ORDER BY o.ip_key, o.transport, o.port${this.page(f)}`,
      )
      .all(...w.params) as Row[];
    return rows.map((r) => ({
      ip: String(r.ip),
      port: Number(r.port),
      transport: r.transport as ServiceRow['transport'],
      protocol: String(r.protocol),
      status: r.status as ServiceRow['status'],
      source: String(r.source),
      firstSeen: String(r.first_seen),
      lastSeen: String(r.last_seen),
      data: JSON.parse(String(r.data)) as Record<string, unknown>,
    }));
  }

  async hosts(filter: ObservationFilter = {}): Promise<HostRow[]> {
    const f = { status: 'success' as const, ...filter };
    const w = this.where(f);
    const rows = this.db
      .prepare(
        `SELECT ip, ip_key, count(DISTINCT transport || '/' || port) AS services,
                group_concat(DISTINCT port || '/' || transport) AS ports, group_concat(DISTINCT protocol) AS protocols,
                min(time) AS first_seen, max(time) AS last_seen
         FROM observations ${w.sql} GROUP BY ip_key ORDER BY ip_key${this.page(f)}`,
      )
      .all(...w.params) as Row[];
    const sortPorts = (s: string) => s.split(',').sort((a, b) => parseInt(a) - parseInt(b) || a.localeCompare(b));
    return rows.map((r) => ({
      ip: String(r.ip),
      services: Number(r.services),
      ports: r.ports ? sortPorts(String(r.ports)) : [],
      protocols: r.protocols ? String(r.protocols).split(',').sort() : [],
      firstSeen: String(r.first_seen),
      lastSeen: String(r.last_seen),
    }));
  }

  async saveDevices(devices: Device[], events: DeviceEvent[]): Promise<void> {
    const put = this.prepared(
      `INSERT INTO devices (ip, ip_key, vendor, product, model, firmware, device_type, confidence, noise, first_seen, last_seen, record)
       VALUES (@ip, @ipKey, @vendor, @product, @model, @firmware, @deviceType, @confidence, @noise, @firstSeen, @lastSeen, @record)
       ON CONFLICT (ip) DO UPDATE SET vendor = excluded.vendor, product = excluded.product, model = excluded.model,
         firmware = excluded.firmware, device_type = excluded.device_type, confidence = excluded.confidence,
         noise = excluded.noise, first_seen = excluded.first_seen, last_seen = excluded.last_seen, record = excluded.record`,
    );
    const ev = this.prepared('INSERT INTO device_events (ip, ip_key, time, kind, detail) VALUES (?, ?, ?, ?, ?)');
    this.db.transaction(() => {
      for (const d of devices)
        put.run({
          ip: d.ip,
          ipKey: ipKey(d.ip),
          vendor: d.vendor ?? null,
          product: d.product ?? null,
          model: d.model ?? null,
          firmware: d.firmware ?? null,
          deviceType: d.deviceType ?? null,
          confidence: d.confidence,
          noise: d.noise ? JSON.stringify(d.noise) : null,
          firstSeen: d.firstSeen,
          lastSeen: d.lastSeen,
          record: JSON.stringify(d),
        });
      for (const e of events) ev.run(e.ip, ipKey(e.ip), e.time, e.kind, JSON.stringify(e));
    })();
  }

  async getDevice(ip: string): Promise<Device | null> {
    const r = this.prepared('SELECT record FROM devices WHERE ip_key = ?').get(ipKey(ip)) as { record: string } | undefined;
    return r ? (JSON.parse(r.record) as Device) : null;
  }

  private deviceWhere(f: DeviceFilter): { sql: string; params: unknown[] } {
    const clauses: string[] = [];
    const params: unknown[] = [];
    if (f.vendor) clauses.push('vendor = ? COLLATE NOCASE'), params.push(f.vendor);
    if (f.type) clauses.push('device_type = ? COLLATE NOCASE'), params.push(f.type);
    if (f.model) clauses.push("model LIKE ? ESCAPE '\\'"), params.push(`%${likeEscape(f.model)}%`);
    if (f.firmware) clauses.push("firmware LIKE ? ESCAPE '\\'"), params.push(`${likeEscape(f.firmware)}%`);
    if (f.network) networkClause(f.network, clauses, params);
    const noise = f.noise ?? 'exclude';
    if (noise === 'exclude') clauses.push('noise IS NULL');
    if (noise === 'only') clauses.push('noise IS NOT NULL');
    return { sql: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
  }

  async devices(filter: DeviceFilter = {}): Promise<Device[]> {
    const w = this.deviceWhere(filter);
    const rows = this.prepared(`SELECT record FROM devices ${w.sql} ORDER BY ip_key${this.page(filter)}`).all(...w.params) as { record: string }[];
    return rows.map((r) => JSON.parse(r.record) as Device);
  }

  async deviceEvents(ip?: string): Promise<DeviceEvent[]> {
    const rows = (ip
      ? this.prepared('SELECT detail FROM device_events WHERE ip_key = ? ORDER BY time, id').all(ipKey(ip))
      : this.prepared('SELECT detail FROM device_events ORDER BY time, id').all()) as { detail: string }[];
    return rows.map((r) => JSON.parse(r.detail) as DeviceEvent);
  }

  async inventoryStats(filter: DeviceFilter = {}): Promise<InventoryStats> {
    const w = this.deviceWhere(filter);
    const top = 50;
    const count = (expr: string) =>
      this.db
        .prepare(`SELECT ${expr} AS key, count(*) AS count FROM devices ${w.sql} GROUP BY key ORDER BY count DESC, key LIMIT ${top}`)
        .all(...w.params) as CountRow[];
    const services = (expr: string) =>
      this.db
        .prepare(
          `SELECT ${expr} AS key, count(DISTINCT o.ip_key) AS count FROM observations o
           WHERE o.status = 'success' AND o.ip_key IN (SELECT ip_key FROM devices ${w.sql})
           GROUP BY key ORDER BY count DESC, key LIMIT ${top}`,
        )
        .all(...w.params) as CountRow[];
    const total = (this.prepared(`SELECT count(*) AS n FROM devices ${w.sql}`).get(...w.params) as { n: number }).n;
    const noiseW = this.deviceWhere({ ...filter, noise: 'only' });
    const noisy = filter.noise === 'exclude' || filter.noise === undefined ? (this.prepared(`SELECT count(*) AS n FROM devices ${noiseW.sql}`).get(...noiseW.params) as { n: number }).n : 0;
    return {
      devices: total,
      noiseExcluded: noisy,
      byType: count("coalesce(device_type, '(unknown)')"),
      byVendor: count("coalesce(vendor, '(unknown)')"),
      byModel: count("coalesce(vendor, '(unknown)') || ' ' || coalesce(model, product, '(unknown)')"),
      byFirmware: count("coalesce(vendor, '(unknown)') || ' ' || coalesce(model, product, '(unknown)') || ' ' || coalesce(firmware, '(unknown)')"),
      byPort: services("o.port || '/' || o.transport"),
      byProtocol: services('o.protocol'),
    };
  }

  async recordFindings(scope: AssessmentScope, findings: Omit<Finding, 'firstSeen' | 'lastSeen' | 'state' | 'fixedAt'>[]): Promise<FindingChanges> {
    const changes: FindingChanges = { opened: 0, stillOpen: 0, fixed: 0 };
    const get = this.prepared('SELECT state, first_seen, record FROM findings WHERE key = ?');
    const put = this.prepared(
      `INSERT INTO findings (key, ip, ip_key, port, transport, kind, finding_id, severity, state, first_seen, last_seen, fixed_at, record)
       VALUES (@key, @ip, @ipKey, @port, @transport, @kind, @id, @severity, @state, @firstSeen, @lastSeen, @fixedAt, @record)
       ON CONFLICT (key) DO UPDATE SET severity = excluded.severity, state = excluded.state, last_seen = excluded.last_seen,
         fixed_at = excluded.fixed_at, record = excluded.record`,
    );
    const fix = this.prepared(`UPDATE findings SET state = 'fixed', fixed_at = ?, record = json_set(record, '$.state', 'fixed', '$.fixedAt', ?) WHERE key = ?`);
    // sets, not the arrays: an assessment can cover a hundred thousand addresses
    const scopeIps = new Set(scope.ips);
    const scopeKinds = new Set(scope.kinds);
    this.db.transaction(() => {
      const seen = new Set<string>();
      for (const f of findings) {
        if (!scopeIps.has(f.ip) || !scopeKinds.has(f.kind)) throw new StoreError(`finding ${f.id} on ${f.ip} is outside the assessment it came with`);
        const key = findingKey(f);
        if (seen.has(key)) continue;
        seen.add(key);
        const prev = get.get(key) as { state: string; first_seen: string } | undefined;
        const state = prev?.state === 'accepted' ? 'accepted' : 'open';
        if (!prev || prev.state === 'fixed') changes.opened++;
        else changes.stillOpen++;
        const record: Finding = { ...f, firstSeen: prev && prev.state !== 'fixed' ? prev.first_seen : scope.time, lastSeen: scope.time, state };
        put.run({
          key,
          ip: f.ip,
          ipKey: ipKey(f.ip),
          port: f.port ?? null,
          transport: f.transport ?? null,
          kind: f.kind,
          id: f.id,
          severity: f.severity,
          state,
          firstSeen: record.firstSeen,
          lastSeen: scope.time,
          fixedAt: null,
          record: JSON.stringify(record),
        });
      }
      // Open findings of the assessed kinds on the assessed addresses that were not reported again: fixed.
      for (const chunk of this.ipKeyChunks(scope.ips)) {
        const rows = this
          .prepared(`SELECT key FROM findings WHERE state = 'open' AND ip_key IN (${chunk.map(() => '?').join(',')}) AND kind IN (${scope.kinds.map(() => '?').join(',')})`)
          .all(...chunk, ...scope.kinds) as { key: string }[];
        for (const r of rows)
          if (!seen.has(r.key)) {
            fix.run(scope.time, scope.time, r.key);
            changes.fixed++;
          }
      }
    })();
    return changes;
  }

  async findings(filter: FindingFilter = {}): Promise<Finding[]> {
    const clauses: string[] = [];
    const params: unknown[] = [];
    if (filter.ip) clauses.push('ip_key = ?'), params.push(ipKey(filter.ip));
    if (filter.network) networkClause(filter.network, clauses, params);
    if (filter.kind) clauses.push('kind = ?'), params.push(filter.kind);
    if (filter.id) clauses.push('finding_id = ? COLLATE NOCASE'), params.push(filter.id);
    if (filter.minSeverity) {
      const worse = SEVERITIES.slice(0, SEVERITIES.indexOf(filter.minSeverity) + 1);
      clauses.push(`severity IN (${worse.map(() => '?').join(',')})`);
      params.push(...worse);
    }
    const state = filter.state ?? 'open';
    if (state !== 'any') clauses.push('state = ?'), params.push(state);
    const where = clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
    const order = `CASE severity ${SEVERITIES.map((s, i) => `WHEN '${s}' THEN ${i}`).join(' ')} END, ip_key, port, finding_id`;
    const rows = this.prepared(`SELECT record FROM findings ${where} ORDER BY ${order}${this.page(filter)}`).all(...params) as { record: string }[];
    return rows.map((r) => JSON.parse(r.record) as Finding);
  }

  async setFindingState(key: string, state: 'open' | 'accepted'): Promise<void> {
    const r = this.prepared(`UPDATE findings SET state = ?, record = json_set(record, '$.state', ?) WHERE key = ?`).run(state, state, key);
    if (r.changes !== 1) throw new StoreError(`no finding ${key}`);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

/** "ip_key BETWEEN lo AND hi" for a CIDR or range filter: addresses sort by their key, so a network is a key range. */
function networkClause(network: string, clauses: string[], params: unknown[]): void {
  const r = parseRange(network);
  if (!r) throw new StoreError(`"${network}" is not a CIDR or range`);
  const [lo, hi] = keyBounds(r);
  clauses.push('ip_key BETWEEN ? AND ?');
  params.push(lo, hi);
}

function likeEscape(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function obsParams(o: Observation): Record<string, unknown> {
  return {
    runId: o.runId,
    ip: o.ip,
    ipKey: ipKey(o.ip),
    port: o.port,
    transport: o.transport,
    protocol: o.protocol,
    source: o.source,
    time: o.time,
    status: o.status,
    data: JSON.stringify(o.data ?? {}),
    raw: o.raw ? Buffer.from(o.raw) : null,
    extra: o.extra ? JSON.stringify(o.extra) : null,
  };
}

function toObservation(r: Row): StoredObservation {
  const o: StoredObservation = {
    id: Number(r.id),
    runId: String(r.run_id),
    ip: String(r.ip),
    port: Number(r.port),
    transport: r.transport as Observation['transport'],
    protocol: String(r.protocol),
    source: String(r.source),
    time: String(r.time),
    status: r.status as Observation['status'],
    data: JSON.parse(String(r.data)) as Record<string, unknown>,
  };
  if (r.raw) o.raw = new Uint8Array(r.raw as Buffer);
  if (r.extra) o.extra = JSON.parse(String(r.extra)) as Record<string, unknown>;
  return o;
}

function toRun(r: Row): Run {
  return {
    id: String(r.id),
    kind: r.kind as Run['kind'],
    status: r.status as Run['status'],
    startedAt: String(r.started_at),
    finishedAt: r.finished_at ? String(r.finished_at) : null,
    spec: JSON.parse(String(r.spec)) as Record<string, unknown>,
    progress: r.progress ? (JSON.parse(String(r.progress)) as RunProgress) : null,
    summary: JSON.parse(String(r.summary ?? '{}')) as Record<string, unknown>,
  };
}
