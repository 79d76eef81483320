// Stage: CLI front-end for the importers: `iotscope import FILE... [--format …] [--skip-bad] [--schema PATH]`.
// Streams each file's observations into the store in one transaction per file (a failed file stores nothing),
// with a progress bar of bytes and records on a terminal. The store is injected, so the command stays testable.
import cliProgress from 'cli-progress';
import { Command, Option } from 'commander';
import { IMPORT_FORMATS, ImportError, loadShadowserverSchema, readImport, type ImportFormat, type ImportProgress, type ShadowserverSchema } from '../../importers/index.ts';
import type { Observation } from '../../core/observation.ts';
import { printable } from '../../core/bytes.ts';
import { CliError } from '../errors.ts';

export interface ImportRunMeta {
  id: string;
  kind: 'import';
  startedAt: string;
  spec: Record<string, unknown>;
}

export interface ImportDeps<S extends ImportStore = ImportStore> {
  openStore(db: string | undefined): Promise<S>;
  /** runs after each file is stored: the later stages (fingerprinting) over what it brought */
  afterImport?(store: S, runId: string, db: string | undefined): Promise<void>;
}

export interface ImportStore {
  importObservations(run: ImportRunMeta, source: AsyncIterable<Observation | readonly Observation[]>, opts?: { summary?: () => Record<string, unknown> }): Promise<{ stored: number }>;
  close(): Promise<void>;
}

interface ImportCliOptions {
  format: ImportFormat | 'auto';
  skipBad?: boolean;
  schema?: string;
  progress: boolean;
  db?: string;
}

export function registerImportCommand<S extends ImportStore>(program: Command, deps: ImportDeps<S>): void {
  program
    .command('import')
    .description('Import Nmap, masscan, ZGrab2, Shodan, Shadowserver, Cowrie or IntelMQ data (plain, gzip, or - for stdin)')
    .argument('<files...>', 'files to import; - reads stdin')
    .addOption(new Option('--format <format>', 'input format').choices(['auto', ...IMPORT_FORMATS]).default('auto'))
    .option('--skip-bad', 'skip and count records that cannot be read instead of failing the file')
    .option('--schema <path>', 'Shadowserver report schema (a folder with reports.json/intelmq.json/severity.md, or one of them)')
    .option('--no-progress', 'no progress display')
    .option('--db <path>', 'store file (default: $IOTSCOPE_DB or the user data directory)')
    .action(async (files: string[], o: ImportCliOptions) => {
      let schema: ShadowserverSchema | null = null;
      try {
        if (o.schema) schema = await loadShadowserverSchema(o.schema);
      } catch (e) {
        if (e instanceof ImportError) throw new CliError(e.message);
        throw e;
      }
      const store = await deps.openStore(o.db);
      let failed = 0;
      try {
        for (const file of files) {
          const display = progressDisplay(o.progress, file);
          const stream = readImport(file, { format: o.format, skipBad: o.skipBad, schema, onProgress: display.update });
          const startedAt = new Date().toISOString();
          try {
            const { stored } = await store.importObservations({ id: stream.runId, kind: 'import', startedAt, spec: { file, format: o.format, skipBad: !!o.skipBad, schema: o.schema ?? null } }, stream.batches(), {
              summary: () => ({ format: stream.format, records: stream.stats.records, bad: stream.stats.bad }),
            });
            display.stop();
            await deps.afterImport?.(store, stream.runId, o.db);
            const bad = stream.stats.bad ? `, ${stream.stats.bad} bad record(s) skipped` : '';
            process.stderr.write(`${printable(file, 300)}: ${stream.format ?? o.format}${stream.input?.gzip ? ' (gzip)' : ''}, ${stored} observation(s) stored${bad} (run ${stream.runId})\n`);
            for (const err of stream.stats.errors.slice(0, 5)) process.stderr.write(`  skipped: ${printable(err.message, 500)}\n`);
          } catch (e) {
            display.stop();
            if (!(e instanceof ImportError)) throw e;
            failed++;
            process.stderr.write(`iotscope: ${printable(e.message, 2000)}\n  nothing from this file was stored${o.skipBad ? '' : '; --skip-bad skips bad records and keeps the rest'}\n`);
          }
        }
      } finally {
        await store.close();
      }
      if (failed) process.exitCode = 2;
    });
}

function progressDisplay(enabled: boolean, file: string): { update: (p: ImportProgress) => void; stop: () => void } {
  if (!enabled || !process.stderr.isTTY) return { update: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    { format: `${printable(file, 40)} [{bar}] {percentage}% | {mb} MB | {records} records | {bad} bad | ETA {eta_formatted}`, stream: process.stderr, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(p) {
      const total = p.totalBytes ?? 0;
      const payload = { mb: (p.bytes / 1e6).toFixed(1), records: p.records, bad: p.bad };
      if (!started) {
        bar.start(total || 1, 0, payload);
        started = true;
      }
      bar.update(total ? p.bytes : 0, payload);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
