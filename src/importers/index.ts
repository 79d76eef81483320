// Stage: imports (foreign files → observations). The entry point the import command uses: the registry of
// formats, format detection from the first bytes, and readImport(), which opens a file (plain, gzip or stdin),
// picks the importer and streams Observations with progress and counters. Knows nothing of the store.
import { randomUUID } from 'node:crypto';
import type { Observation } from '../core/observation.ts';
import { ImportError } from './errors.ts';
import { cowrieImporter } from './cowrie.ts';
import { createContext, IMPORT_FORMATS, type ImportContext, type Importer, type ImportFormat, type ImportStats } from './importer.ts';
import { openInput, type ImportInput, type OpenOptions } from './input.ts';
import { intelmqImporter } from './intelmq.ts';
import { masscanImporter } from './masscan.ts';
import { nmapImporter } from './nmap.ts';
import { shadowserverImporter } from './shadowserver.ts';
import type { ShadowserverSchema } from './shadowserver-schema.ts';
import { shodanImporter } from './shodan.ts';
import { zgrab2Importer } from './zgrab2.ts';

export { ImportError } from './errors.ts';
export { IMPORT_FORMATS, type ImportFormat, type ImportStats } from './importer.ts';
export { loadShadowserverSchema, type ShadowserverSchema } from './shadowserver-schema.ts';
export type { ImportedEvent } from './events.ts';

export const importers: Record<ImportFormat, Importer> = {
  nmap: nmapImporter,
  masscan: masscanImporter,
  zgrab2: zgrab2Importer,
  shodan: shodanImporter,
  shadowserver: shadowserverImporter,
  cowrie: cowrieImporter,
  intelmq: intelmqImporter,
};

export function isImportFormat(s: string): s is ImportFormat {
  return (IMPORT_FORMATS as readonly string[]).includes(s);
}

/** The format the data most likely is, or null. Binary data is never anything. */
export function detectFormat(head: Buffer, fileName: string): ImportFormat | null {
  const sample = head.subarray(0, 8192);
  let control = 0;
  for (const b of sample) if (b === 0 || (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d)) control++;
  if (sample.length === 0 || control > sample.length / 100) return null;
  const text = head.toString('utf8');
  let best: ImportFormat | null = null;
  let bestScore = 0;
  for (const f of IMPORT_FORMATS) {
    const s = importers[f].sniff(text, fileName);
    if (s > bestScore) {
      best = f;
      bestScore = s;
    }
  }
  return bestScore >= 0.5 ? best : null;
}

export interface ImportProgress {
  /** raw bytes read from the file (compressed bytes for gzip) */
  bytes: number;
  /** the file's size, when known */
  totalBytes: number | null;
  records: number;
  bad: number;
}

export interface ReadImportOptions {
  format?: ImportFormat | 'auto';
  skipBad?: boolean;
  schema?: ShadowserverSchema | null;
  runId?: string;
  /** called about every 100 ms while records flow, and once at the end */
  onProgress?: (p: ImportProgress) => void;
  /** for tests: what '-' reads */
  stdin?: OpenOptions['stdin'];
  /** time for records that carry none; default: now */
  importTime?: string;
}

/**
 * A stream of observations from one file, with what the import found out along the way. Iterate it once: either
 * observation by observation, or with batches() a chunk's worth at a time (what bulk consumers use: an async step
 * per record costs about as much as parsing the record).
 */
export interface ImportStream extends AsyncIterable<Observation> {
  readonly runId: string;
  /** known once iteration has started */
  readonly format: ImportFormat | null;
  readonly stats: ImportStats;
  /** the opened input (name, gzip), known once iteration has started */
  readonly input: ImportInput | null;
  batches(): AsyncIterable<Observation[]>;
}

export function readImport(path: string, opts: ReadImportOptions = {}): ImportStream {
  const runId = opts.runId ?? randomUUID();
  const stats: ImportStats = { records: 0, bad: 0, errors: [] };
  const state: { format: ImportFormat | null; input: ImportInput | null } = { format: null, input: null };
  let started = false;
  async function* run(): AsyncGenerator<Observation[]> {
    if (started) throw new Error('an import stream can be iterated once');
    started = true;
    const input = await openInput(path, { stdin: opts.stdin });
    state.input = input;
    let format: ImportFormat;
    if (!opts.format || opts.format === 'auto') {
      const detected = detectFormat(input.head, input.fileName);
      if (!detected) {
        throw new ImportError(input.name, { offset: 0 }, input.head.length === 0 ? 'empty file' : `unknown format: not ${IMPORT_FORMATS.join(', ')} (give --format to force one)`);
      }
      format = detected;
    } else format = opts.format;
    state.format = format;
    const ctx: ImportContext = createContext(input, { runId, skipBad: opts.skipBad, schema: opts.schema ?? null, importTime: opts.importTime, stats });
    let last = 0;
    const progress = () => opts.onProgress?.({ bytes: input.bytesRead(), totalBytes: input.totalBytes, records: stats.records, bad: stats.bad });
    for await (const batch of importers[format].parse(input, ctx)) {
      yield batch;
      if (opts.onProgress) {
        const now = Date.now();
        if (now - last >= 100) {
          last = now;
          progress();
        }
      }
    }
    progress();
  }
  return {
    runId,
    get format() {
      return state.format;
    },
    get input() {
      return state.input;
    },
    stats,
    batches: () => run(),
    [Symbol.asyncIterator]: async function* () {
      for await (const batch of run()) yield* batch;
    },
  };
}
