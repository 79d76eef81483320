// Stage: knowledge (storage). The KnowledgeBase interface the ingest, update and match code talk to, and its
// SQLite implementation keeping kb_* tables in the store's own file. Writes are one transaction per batch (per file
// or per downloaded page) and upsert by CVE id, keeping the newer record (lastModified / dateUpdated).
import type Database from 'better-sqlite3';
import type { Cve5Record, EpssScore, KbBatch, KbSource, KevEntry, NvdCve } from './records.ts';

export interface KbCounts {
  nvd: number;
  cve5: number;
  kev: number;
  epss: number;
}

export interface SourceState {
  source: KbSource;
  lastSuccess: string | null;
  /** where an interrupted update stands (NVD: window and start index) */
  state: Record<string, unknown>;
}

export interface ImportedFile {
  path: string;
  size: number;
  mtimeMs: number;
  format: string;
  records: number;
}

export interface BatchResult {
  /** records inserted or replaced by a newer version */
  written: number;
  /** records already present in the same or a newer version */
  unchanged: number;
}

export interface KnowledgeBase {
  /** Store one parsed batch atomically; with `after`, run it inside the same transaction (file bookkeeping, cursor). */
  writeBatch(batch: KbBatch, after?: () => void): BatchResult;
  counts(): KbCounts;
  sourceState(source: KbSource): SourceState;
  setSourceState(source: KbSource, state: Record<string, unknown>, lastSuccess?: string): void;
  importedFile(path: string): ImportedFile | null;
  recordImportedFile(f: ImportedFile): void;
  /** Every NVD and CVE 5 record, for building the match index. */
  allNvd(): Iterable<NvdCve>;
  allCve5(): Iterable<Cve5Record>;
  nvd(id: string): NvdCve | null;
  cve5(id: string): Cve5Record | null;
  kev(id: string): KevEntry | null;
  allKev(): KevEntry[];
  epss(id: string): EpssScore | null;
  allEpss(): Map<string, EpssScore>;
}

export class SqliteKnowledgeBase implements KnowledgeBase {
  private readonly upsertNvd;
  private readonly upsertCve5;
  private readonly upsertKev;
  private readonly upsertEpss;
  constructor(private readonly db: Database.Database) {
    // Keep the newer record: the WHERE on the conflict branch makes an older or equal re-import a no-op.
    this.upsertNvd = db.prepare(
      `INSERT INTO kb_nvd (id, last_modified, record) VALUES (?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET last_modified = excluded.last_modified, record = excluded.record WHERE excluded.last_modified > kb_nvd.last_modified`,
    );
    this.upsertCve5 = db.prepare(
      `INSERT INTO kb_cve5 (id, date_updated, record) VALUES (?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET date_updated = excluded.date_updated, record = excluded.record WHERE excluded.date_updated > kb_cve5.date_updated`,
    );
    this.upsertKev = db.prepare(
      `INSERT INTO kb_kev (id, date_added, record) VALUES (?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET date_added = excluded.date_added, record = excluded.record WHERE excluded.record <> kb_kev.record`,
    );
    this.upsertEpss = db.prepare(
      `INSERT INTO kb_epss (id, score, percentile, score_date, model) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET score = excluded.score, percentile = excluded.percentile, score_date = excluded.score_date, model = excluded.model
       WHERE coalesce(excluded.score_date, '') >= coalesce(kb_epss.score_date, '') AND (excluded.score <> kb_epss.score OR excluded.percentile <> kb_epss.percentile OR coalesce(excluded.score_date, '') <> coalesce(kb_epss.score_date, ''))`,
    );
  }

  writeBatch(batch: KbBatch, after?: () => void): BatchResult {
    let written = 0;
    const run = this.db.transaction(() => {
      switch (batch.kind) {
        case 'nvd':
          for (const r of batch.records) written += this.upsertNvd.run(r.id, r.lastModified, JSON.stringify(r)).changes;
          break;
        case 'cve5':
          for (const r of batch.records) written += this.upsertCve5.run(r.id, r.dateUpdated, JSON.stringify(r)).changes;
          break;
        case 'kev':
          for (const r of batch.records) written += this.upsertKev.run(r.cveId, r.dateAdded, JSON.stringify(r)).changes;
          break;
        case 'epss':
          for (const r of batch.records) written += this.upsertEpss.run(r.cveId, r.score, r.percentile, r.date ?? null, r.model ?? null).changes;
          break;
      }
      after?.();
    });
    run();
    return { written, unchanged: batch.records.length - written };
  }

  counts(): KbCounts {
    const c = (t: string) => (this.db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n;
    return { nvd: c('kb_nvd'), cve5: c('kb_cve5'), kev: c('kb_kev'), epss: c('kb_epss') };
  }

  sourceState(source: KbSource): SourceState {
    const r = this.db.prepare('SELECT last_success, state FROM kb_sources WHERE source = ?').get(source) as { last_success: string | null; state: string } | undefined;
    return { source, lastSuccess: r?.last_success ?? null, state: r ? (JSON.parse(r.state) as Record<string, unknown>) : {} };
  }

  setSourceState(source: KbSource, state: Record<string, unknown>, lastSuccess?: string): void {
    this.db
      .prepare(
        `INSERT INTO kb_sources (source, last_success, state) VALUES (?, ?, ?)
         ON CONFLICT(source) DO UPDATE SET state = excluded.state, last_success = coalesce(excluded.last_success, kb_sources.last_success)`,
      )
      .run(source, lastSuccess ?? null, JSON.stringify(state));
  }

  importedFile(path: string): ImportedFile | null {
    const r = this.db.prepare('SELECT path, size, mtime_ms, format, records FROM kb_files WHERE path = ?').get(path) as
      | { path: string; size: number; mtime_ms: number; format: string; records: number }
      | undefined;
    return r ? { path: r.path, size: r.size, mtimeMs: r.mtime_ms, format: r.format, records: r.records } : null;
  }

  recordImportedFile(f: ImportedFile): void {
    this.db
      .prepare(
        `INSERT INTO kb_files (path, size, mtime_ms, format, records, imported_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(path) DO UPDATE SET size = excluded.size, mtime_ms = excluded.mtime_ms, format = excluded.format, records = excluded.records, imported_at = excluded.imported_at`,
      )
      .run(f.path, f.size, f.mtimeMs, f.format, f.records, new Date().toISOString());
  }

  *allNvd(): Iterable<NvdCve> {
    for (const r of this.db.prepare('SELECT record FROM kb_nvd').raw().iterate()) yield JSON.parse((r as [string])[0]) as NvdCve;
  }
  *allCve5(): Iterable<Cve5Record> {
    for (const r of this.db.prepare('SELECT record FROM kb_cve5').raw().iterate()) yield JSON.parse((r as [string])[0]) as Cve5Record;
  }
  private one<T>(table: string, id: string): T | null {
    const r = this.db.prepare(`SELECT record FROM ${table} WHERE id = ?`).get(id) as { record: string } | undefined;
    return r ? (JSON.parse(r.record) as T) : null;
  }
  nvd(id: string): NvdCve | null {
    return this.one('kb_nvd', id);
  }
  cve5(id: string): Cve5Record | null {
    return this.one('kb_cve5', id);
  }
  kev(id: string): KevEntry | null {
    return this.one('kb_kev', id);
  }
  allKev(): KevEntry[] {
    return (this.db.prepare('SELECT record FROM kb_kev').all() as { record: string }[]).map((r) => JSON.parse(r.record) as KevEntry);
  }
  epss(id: string): EpssScore | null {
    const r = this.db.prepare('SELECT id, score, percentile, score_date, model FROM kb_epss WHERE id = ?').get(id) as EpssRow | undefined;
    return r ? epssOf(r) : null;
  }
  allEpss(): Map<string, EpssScore> {
    const m = new Map<string, EpssScore>();
    for (const r of this.db.prepare('SELECT id, score, percentile, score_date, model FROM kb_epss').all() as EpssRow[]) m.set(r.id, epssOf(r));
    return m;
  }
}

interface EpssRow {
  id: string;
  score: number;
  percentile: number;
  score_date: string | null;
  model: string | null;
}
function epssOf(r: EpssRow): EpssScore {
  return { cveId: r.id, score: r.score, percentile: r.percentile, ...(r.score_date ? { date: r.score_date } : {}), ...(r.model ? { model: r.model } : {}) };
}
