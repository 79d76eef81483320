// Stage: imports (foreign files → observations). Reads the JSON-based formats record by record: JSON lines
// (ZGrab2, Shodan, Cowrie, IntelMQ, masscan -oD), pretty-printed documents spread over many lines (a saved
// Shodan host), and top-level arrays, with each record's starting line and byte offset for error messages.
import type { ImportContext } from './importer.ts';
import type { ImportInput } from './input.ts';
import { readLineBatches } from './lines.ts';

export interface JsonRecord {
  value: unknown;
  line: number;
  offset: number;
}

export interface JsonRecordOptions {
  /**
   * masscan -oJ: a JSON array written one element per line, with separators at either end of the lines and,
   * in older versions, a trailing comma and no closing bracket. Lines are taken one element each.
   */
  arrayLines?: boolean;
  /** accept documents spread over several lines (a pretty-printed host JSON); JSON-lines formats do not */
  multiLine?: boolean;
  /** largest document spread over several lines */
  maxDocumentBytes?: number;
}

const DEFAULT_MAX_DOC = 64 * 1024 * 1024;

export async function* readJsonRecords(input: ImportInput, ctx: ImportContext, opts: JsonRecordOptions = {}): AsyncGenerator<JsonRecord[]> {
  const maxDoc = opts.maxDocumentBytes ?? DEFAULT_MAX_DOC;
  let doc: string[] | null = null;
  let docLen = 0;
  let docDepth = 0;
  let docLine = 0;
  let docOffset = 0;
  for await (const batch of readLineBatches(input.chunks, ctx.file)) {
    const out: JsonRecord[] = [];
    for (const { text: raw, line, offset } of batch) {
      if (doc) {
        doc.push(raw);
        docLen += raw.length + 1;
        docDepth += depthChange(raw);
        if (docDepth <= 0) {
          const whole = doc.join('\n');
          doc = null;
          pushParsed(out, whole, docLine, docOffset, ctx);
        } else if (docLen > maxDoc) {
          ctx.reject({ line: docLine, offset: docOffset }, `JSON document longer than ${maxDoc} bytes`);
          doc = null;
        }
        continue;
      }
      let t = raw;
      if (opts.arrayLines) {
        t = t.trim();
        if (t === '[' || t === ']' || t === ',' || t === '' || t === '],' || t === '[]') continue;
        if (t.startsWith(',')) t = t.slice(1).trimStart();
        if (t.endsWith(',')) t = t.slice(0, -1).trimEnd();
        if (t.startsWith('[')) t = t.slice(1).trimStart();
        // a closing bracket on the last element's line
        if (t.endsWith(']') && depthChange(t) < 0) t = t.slice(0, -1).trimEnd();
        if (t.endsWith(',')) t = t.slice(0, -1).trimEnd();
      } else if (!t.trim()) continue;
      const first = t.charCodeAt(0);
      if (first === 123 /* { */ || first === 91 /* [ */ || first === 32 || first === 9) {
        try {
          pushValue(out, JSON.parse(t), line, offset);
          continue;
        } catch (e) {
          const depth = depthChange(t);
          if (depth > 0 && opts.multiLine) {
            doc = [t];
            docLen = t.length;
            docDepth = depth;
            docLine = line;
            docOffset = offset;
            continue;
          }
          ctx.reject({ line, offset }, `invalid JSON: ${jsonReason(e)}`);
          continue;
        }
      }
      ctx.reject({ line, offset }, `not a JSON record (starts with ${JSON.stringify(t.slice(0, 20))})`);
    }
    if (out.length) yield out;
  }
  if (doc) ctx.reject({ line: docLine, offset: docOffset }, 'unexpected end of file inside a JSON document (truncated file?)');
}

function pushParsed(out: JsonRecord[], whole: string, line: number, offset: number, ctx: ImportContext): void {
  try {
    pushValue(out, JSON.parse(whole), line, offset);
  } catch (e) {
    ctx.reject({ line, offset }, `invalid JSON: ${jsonReason(e)}`);
  }
}

function pushValue(out: JsonRecord[], value: unknown, line: number, offset: number): void {
  if (Array.isArray(value)) for (const v of value) out.push({ value: v, line, offset });
  else out.push({ value, line, offset });
}

/** Net change of bracket depth over a line, ignoring brackets inside strings. */
export function depthChange(s: string): number {
  let d = 0;
  let inStr = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (inStr) {
      if (c === 92) i++;
      else if (c === 34) inStr = false;
    } else if (c === 34) inStr = true;
    else if (c === 123 || c === 91) d++;
    else if (c === 125 || c === 93) d--;
  }
  return d;
}

function jsonReason(e: unknown): string {
  return (e as Error).message.replace(/\s+/g, ' ').slice(0, 200);
}
