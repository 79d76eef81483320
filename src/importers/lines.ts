// Stage: imports (foreign files → observations). Splits a byte stream into text lines for the line-based formats
// (JSON lines, CSV, masscan lists), keeping each line's number and byte offset for error messages. Lines are
// handed out a chunk's worth at a time: one await per chunk, not per line, keeps multi-GB imports fast.
import { ImportError } from './errors.ts';

export interface Line {
  text: string;
  /** 1-based */
  line: number;
  /** byte offset of the line's first byte in the decompressed data */
  offset: number;
}

/** A single line longer than this is refused: it would have to be held in memory whole. */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;

export async function* readLineBatches(chunks: AsyncIterable<Buffer>, file: string, maxLine = MAX_LINE_BYTES): AsyncGenerator<Line[]> {
  let pending: Buffer[] = [];
  let pendingLen = 0;
  let lineNo = 0;
  let offset = 0;
  for await (const chunk of chunks) {
    const batch: Line[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) break;
      let buf: Buffer;
      let from: number;
      if (pendingLen) {
        pending.push(chunk.subarray(start, nl));
        buf = Buffer.concat(pending);
        from = 0;
        pending = [];
        pendingLen = 0;
      } else {
        buf = chunk;
        from = start;
      }
      const end = buf === chunk ? nl : buf.length;
      const len = end - from;
      if (len > maxLine) throw new ImportError(file, { line: lineNo + 1, offset }, `line longer than ${maxLine} bytes`);
      const textEnd = end > from && buf[end - 1] === 0x0d ? end - 1 : end;
      lineNo++;
      batch.push({ text: buf.toString('utf8', from, textEnd), line: lineNo, offset });
      offset += len + 1;
      start = nl + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      pendingLen += rest.length;
      if (pendingLen > maxLine) throw new ImportError(file, { line: lineNo + 1, offset }, `line longer than ${maxLine} bytes`);
      // copy: the chunk's memory may be reused by the stream
      pending.push(Buffer.from(rest));
    }
    if (batch.length) yield batch;
  }
  if (pendingLen) {
    const buf = Buffer.concat(pending);
    const textEnd = buf.length && buf[buf.length - 1] === 0x0d ? buf.length - 1 : buf.length;
    lineNo++;
    yield [{ text: buf.toString('utf8', 0, textEnd), line: lineNo, offset }];
  }
}
