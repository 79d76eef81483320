// Stage: knowledge (ingest). `kb update --from PATH`: imports local files or folders (NVD API 2.0 pages or records,
// NVD 1.1 feeds, CVE JSON 5 records such as a cvelistV5 or vulnrichment checkout, CISA KEV JSON/CSV, EPSS CSV, each
// optionally gzipped), format detected per file. One transaction per file: a bad file is reported with its position
// and changes nothing. Files already imported unchanged (same size and mtime) are skipped, so a re-run resumes.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { KbFormatError, parseKbText } from './formats.ts';
import type { KnowledgeBase } from './kb.ts';
import type { KbBatch, KbSource } from './records.ts';

const MAX_FILE_BYTES = 1 << 30;
const MAX_DEPTH = 8;
const DATA_FILE = /\.(json|csv)(\.gz)?$/i;

export interface FileOutcome {
  file: string;
  status: 'imported' | 'skipped-unchanged' | 'skipped-unknown' | 'skipped-source' | 'failed';
  format?: string;
  records?: number;
  written?: number;
  error?: string;
}

export interface ImportSummary {
  files: FileOutcome[];
  records: number;
  written: number;
  failed: number;
  bySource: Record<KbSource, number>;
}

export interface ImportFromOptions {
  /** only these sources (others' files are skipped) */
  sources?: KbSource[];
  /** re-import files even when unchanged since the last import */
  force?: boolean;
  onFile?: (done: number, total: number, outcome: FileOutcome) => void;
}

/** Every data file under a path (a file, or a folder walked to a bounded depth), sorted for a stable order. */
export function listDataFiles(path: string): string[] {
  const st = statSync(path);
  if (st.isFile()) return [resolve(path)];
  const out: string[] = [];
  const walk = (dir: string, depth: number) => {
    if (depth > MAX_DEPTH) return;
    for (const name of readdirSync(dir).sort()) {
      if (name.startsWith('.')) continue;
      const p = join(dir, name);
      const s = statSync(p);
      if (s.isDirectory()) walk(p, depth + 1);
      else if (s.isFile() && DATA_FILE.test(name)) out.push(resolve(p));
    }
  };
  walk(path, 0);
  return out;
}

/** Read and parse one file into a batch; throws KbFormatError with the file and position. */
export function readKbFile(file: string): KbBatch {
  let buf = readFileSync(file);
  if (buf.length > MAX_FILE_BYTES) throw new KbFormatError(`file larger than ${MAX_FILE_BYTES} bytes`, '', file);
  if (buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      buf = gunzipSync(buf, { maxOutputLength: MAX_FILE_BYTES });
    } catch (e) {
      throw new KbFormatError(`bad gzip data: ${(e as Error).message}`, 'byte 0', file);
    }
  }
  try {
    return parseKbText(buf.toString('utf8'), file.replace(/\.gz$/i, ''));
  } catch (e) {
    if (e instanceof KbFormatError) throw e.withFile(file);
    throw e;
  }
}

export function importFrom(kb: KnowledgeBase, path: string, opts: ImportFromOptions = {}): ImportSummary {
  const files = listDataFiles(path);
  const walking = statSync(path).isDirectory();
  const summary: ImportSummary = { files: [], records: 0, written: 0, failed: 0, bySource: { nvd: 0, cve5: 0, kev: 0, epss: 0 } };
  files.forEach((file, i) => {
    const outcome = importOneFile(kb, file, opts, walking);
    summary.files.push(outcome);
    if (outcome.status === 'failed') summary.failed++;
    if (outcome.status === 'imported') {
      summary.records += outcome.records ?? 0;
      summary.written += outcome.written ?? 0;
    }
    opts.onFile?.(i + 1, files.length, outcome);
  });
  for (const f of summary.files) if (f.status === 'imported' && f.format) summary.bySource[sourceOfFormat(f.format)] += f.records ?? 0;
  return summary;
}

export function sourceOfFormat(format: string): KbSource {
  if (format.startsWith('nvd')) return 'nvd';
  if (format.startsWith('cve')) return 'cve5';
  if (format.startsWith('cisa-kev')) return 'kev';
  return 'epss';
}

function importOneFile(kb: KnowledgeBase, file: string, opts: ImportFromOptions, walking: boolean): FileOutcome {
  const st = statSync(file);
  const seen = kb.importedFile(file);
  if (!opts.force && seen && seen.size === st.size && seen.mtimeMs === st.mtimeMs) return { file, status: 'skipped-unchanged', format: seen.format, records: seen.records };
  let batch: KbBatch;
  try {
    batch = readKbFile(file);
  } catch (e) {
    if (e instanceof KbFormatError) {
      // Other files in a walked folder (cvelistV5's delta.json, schemas, unrelated CSVs) are not data: skipped.
      if (walking && e.reason.startsWith('not a known')) return { file, status: 'skipped-unknown', error: e.message };
      return { file, status: 'failed', error: e.message };
    }
    return { file, status: 'failed', error: `${file}: ${(e as Error).message}` };
  }
  if (opts.sources && !opts.sources.includes(batch.kind)) return { file, status: 'skipped-source', format: batch.format };
  const r = kb.writeBatch(batch, () => kb.recordImportedFile({ path: file, size: st.size, mtimeMs: st.mtimeMs, format: batch.format, records: batch.records.length }));
  return { file, status: 'imported', format: batch.format, records: batch.records.length, written: r.written };
}
