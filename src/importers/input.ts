// Stage: imports (foreign files → observations). Opens what the user named — a file, or '-' for stdin — and
// yields its bytes, gunzipped when the data starts with the gzip magic (whatever the file is called), counting
// the raw bytes consumed so a progress bar can show how far through the file the import is.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { ImportError } from './errors.ts';

/** How much of the decompressed start of the data format detection looks at. */
export const HEAD_BYTES = 64 * 1024;
const READ_CHUNK = 1 << 20;

export interface ImportInput {
  /** the name used in messages: the path, or '<stdin>' */
  name: string;
  /** the base name without a .gz suffix: Shadowserver reports carry their type in it */
  fileName: string;
  gzip: boolean;
  /** size on disk, when known (not for stdin) */
  totalBytes: number | null;
  /** raw (possibly compressed) bytes consumed so far */
  bytesRead(): number;
  /** the first HEAD_BYTES of the decompressed data (less if the data is shorter) */
  head: Buffer;
  /** the whole decompressed data, head included; iterate once */
  chunks: AsyncIterable<Buffer>;
}

export interface OpenOptions {
  /** stream to read for '-' (tests pass their own) */
  stdin?: NodeJS.ReadableStream;
}

export async function openInput(path: string, opts: OpenOptions = {}): Promise<ImportInput> {
  const isStdin = path === '-';
  const name = isStdin ? '<stdin>' : path;
  let totalBytes: number | null = null;
  let raw: AsyncIterable<Buffer>;
  if (isStdin) {
    raw = (opts.stdin ?? process.stdin) as AsyncIterable<Buffer>;
  } else {
    try {
      const st = await stat(path);
      if (!st.isFile()) throw new ImportError(name, {}, 'not a regular file');
      totalBytes = st.size;
    } catch (e) {
      if (e instanceof ImportError) throw e;
      throw new ImportError(name, {}, `cannot open: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    raw = createReadStream(path, { highWaterMark: READ_CHUNK });
  }
  let consumed = 0;
  const counted = (async function* () {
    for await (const chunk of raw) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      consumed += buf.length;
      yield buf;
    }
  })();

  // Look at the first raw bytes for the gzip magic.
  const first = await counted.next();
  const firstChunk = first.done ? Buffer.alloc(0) : first.value;
  const gzip = firstChunk.length >= 2 && firstChunk[0] === 0x1f && firstChunk[1] === 0x8b;
  const rawAll = (async function* () {
    if (firstChunk.length) yield firstChunk;
    yield* counted;
  })();

  let data: AsyncIterator<Buffer>;
  if (gzip) {
    const gunzip = createGunzip({ chunkSize: 256 * 1024 });
    const source = Readable.from(rawAll, { objectMode: false });
    source.on('error', (e) => gunzip.destroy(e));
    source.pipe(gunzip);
    const it = (gunzip as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    data = {
      next: async () => {
        try {
          return await it.next();
        } catch (e) {
          if (e instanceof ImportError) throw e;
          throw new ImportError(name, { offset: consumed }, `gzip: ${gzipReason(e)}`);
        }
      },
      return: async () => {
        source.destroy();
        gunzip.destroy();
        return { done: true, value: undefined };
      },
    };
  } else {
    data = rawAll;
  }

  const headChunks: Buffer[] = [];
  let headLen = 0;
  let ended = false;
  while (headLen < HEAD_BYTES) {
    const r = await data.next();
    if (r.done) {
      ended = true;
      break;
    }
    headChunks.push(r.value);
    headLen += r.value.length;
  }
  const headAll = Buffer.concat(headChunks);
  const chunks = (async function* () {
    if (headAll.length) yield headAll;
    if (ended) return;
    try {
      for (;;) {
        const r = await data.next();
        if (r.done) return;
        yield r.value;
      }
    } finally {
      await data.return?.();
    }
  })();

  return {
    name,
    fileName: isStdin ? '' : basename(path).replace(/\.gz$/i, ''),
    gzip,
    totalBytes,
    bytesRead: () => consumed,
    head: headAll.subarray(0, HEAD_BYTES),
    chunks,
  };
}

function gzipReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'Z_BUF_ERROR') return 'unexpected end of file (truncated gzip data)';
  if (code === 'Z_DATA_ERROR') return `corrupt data (${(e as Error).message})`;
  return (e as Error).message;
}

/** Bytes from memory, for tests and for callers that already hold the data. */
export async function inputFromBytes(name: string, bytes: Uint8Array | string): Promise<ImportInput> {
  const buf = typeof bytes === 'string' ? Buffer.from(bytes) : Buffer.from(bytes);
  return openInput('-', { stdin: Readable.from([buf]) }).then((inp) => ({ ...inp, name, fileName: basename(name).replace(/\.gz$/i, '') }));
}
