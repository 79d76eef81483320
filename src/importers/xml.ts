// Stage: imports (foreign files → observations). A streaming XML tokenizer for scanner output (Nmap and masscan
// -oX): elements, attributes, text, comments, CDATA, processing instructions and a DOCTYPE without internal
// subset — the XML those tools write. It checks nesting and characters, reports positions (line and byte
// offset), holds at most one token plus one chunk in memory, and can resynchronise at the next record element
// after a syntax error so a tolerant import keeps the rest of a damaged file. Hand-written rather than a general
// SAX library because the general ones run at a tenth of the speed a multi-GB import needs.
import { StringDecoder } from 'node:string_decoder';
import { ImportError } from './errors.ts';

export type XmlAttrs = Record<string, string>;

export interface XmlHandler {
  open(name: string, attrs: XmlAttrs, selfClosing: boolean): void;
  close(name: string): void;
  /** entity-decoded character data; called only while `wantText` is true */
  text(text: string): void;
  wantText: boolean;
}

export interface XmlStreamOptions {
  /** After a syntax error, if this returns true, skip to the next `<resyncTag` at depth 1 and go on. */
  onSyntaxError?: (err: ImportError) => boolean;
  /** the record element to resynchronise at (e.g. 'host') */
  resyncTag?: string;
  /** called when a resync discards a partial record, so the handler can drop its state */
  onResync?: () => void;
}

/** A single tag or text run longer than this is refused (hostile or broken input). */
const MAX_TOKEN = 16 * 1024 * 1024;
const NAME_RE = /^[A-Za-z_:][-\w.:]*$/;
const BAD_CHAR_RE = /[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]/;
const ENTITY_RE = /&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|[A-Za-z][A-Za-z0-9]{0,15});/g;
const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

export function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(ENTITY_RE, (whole, ent: string) => {
    if (ent[0] === '#') {
      const cp = ent[1] === 'x' ? parseInt(ent.slice(2), 16) : parseInt(ent.slice(1), 10);
      if (!Number.isFinite(cp) || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return '\ufffd';
      return String.fromCodePoint(cp);
    }
    return NAMED[ent] ?? whole;
  });
}

export interface StartTag {
  name: string;
  attrs: XmlAttrs;
  selfClosing: boolean;
  /** index just past the closing '>' */
  end: number;
}

const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13;
const isNameStart = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 58;
// [-\w.:] — letters, digits, underscore, hyphen, dot, colon
const isNameChar = (c: number) => isNameStart(c) || (c >= 48 && c <= 57) || c === 45 || c === 46;
// an attribute name is anything but white space and = / > " ' <
const isAttrNameChar = (c: number) => c === c && !isSpace(c) && c !== 61 && c !== 47 && c !== 62 && c !== 34 && c !== 39 && c !== 60;

/**
 * The start tag at s[lt] ('<' name (S attr S? = S? quoted-value)* S? '/'? '>'), scanned and its attributes
 * decoded in one pass; null when the text there is not a complete, well-formed start tag (the caller then tells
 * an unfinished tag from a malformed one). A quoted value may not contain '<'.
 */
export function scanStartTag(s: string, lt: number): StartTag | null {
  let k = lt + 1;
  if (!isNameStart(s.charCodeAt(k))) return null;
  while (isNameChar(s.charCodeAt(++k)));
  const name = s.slice(lt + 1, k);
  const attrs: XmlAttrs = {};
  for (;;) {
    const wsFrom = k;
    let c = s.charCodeAt(k);
    while (isSpace(c)) c = s.charCodeAt(++k);
    if (c === 62 /* > */) return { name, attrs, selfClosing: false, end: k + 1 };
    if (c === 47 /* / */) return s.charCodeAt(k + 1) === 62 ? { name, attrs, selfClosing: true, end: k + 2 } : null;
    // an attribute must be separated from what precedes it by white space
    if (k === wsFrom || !isAttrNameChar(c)) return null;
    const nameFrom = k;
    while (isAttrNameChar(s.charCodeAt(++k)));
    const attrName = s.slice(nameFrom, k);
    c = s.charCodeAt(k);
    while (isSpace(c)) c = s.charCodeAt(++k);
    if (c !== 61 /* = */) return null;
    c = s.charCodeAt(++k);
    while (isSpace(c)) c = s.charCodeAt(++k);
    if (c !== 34 && c !== 39) return null;
    const end = s.indexOf(c === 34 ? '"' : "'", k + 1);
    if (end < 0) return null;
    const lt2 = s.indexOf('<', k + 1);
    if (lt2 >= 0 && lt2 < end) return null;
    const v = s.slice(k + 1, end);
    attrs[attrName] = v.includes('&') ? decodeEntities(v) : v;
    k = end + 1;
  }
}

export class XmlStream {
  private buf = '';
  /** byte offset and line number of buf[0] */
  private baseOffset = 0;
  private baseLine = 1;
  private readonly decoder = new StringDecoder('utf8');
  private readonly stack: string[] = [];
  private rootClosed = false;
  private sawRoot = false;
  private resyncing = false;
  /** set after a tolerated fatal error: nothing after it can be read */
  private dead = false;
  private tokenAt = 0;

  constructor(
    private readonly file: string,
    private readonly handler: XmlHandler,
    private readonly opts: XmlStreamOptions = {},
  ) {}

  write(chunk: Buffer): void {
    if (this.dead) return;
    const text = this.decoder.write(chunk);
    this.append(text);
    this.run(false);
  }

  end(): void {
    if (this.dead) return;
    this.append(this.decoder.end());
    this.run(true);
    if (this.dead) return;
    if (this.resyncing) {
      this.resyncing = false;
      this.opts.onResync?.();
    }
    const rest = this.buf;
    if (rest.trim().length) {
      this.fail(0, `unexpected end of file inside ${excerptTag(rest)}`, true);
      return;
    }
    if (!this.sawRoot) this.fail(0, 'no XML element found', true);
    else if (this.stack.length) this.fail(this.buf.length, `unexpected end of file: <${this.stack[this.stack.length - 1]}> is not closed (truncated file?)`, true);
  }

  /** where the token being handled starts (for record-level errors raised by the handler) */
  currentPosition(): { line: number; offset: number } {
    return this.position(this.tokenAt);
  }

  /** depth of the currently open elements (root = 1) */
  get depth(): number {
    return this.stack.length;
  }

  private append(text: string): void {
    if (!text) return;
    const bad = BAD_CHAR_RE.exec(text);
    if (bad) {
      const at = this.buf.length + bad.index;
      this.buf += text;
      const code = bad[0].charCodeAt(0);
      this.fail(at, `invalid character U+${code.toString(16).toUpperCase().padStart(4, '0')} in XML (binary data?)`);
      // tolerated: the record is dropped by the resync; the characters themselves are neutralised
      this.buf = this.buf.replace(new RegExp(BAD_CHAR_RE.source, 'g'), '\ufffd');
      return;
    }
    this.buf = this.buf.length ? this.buf + text : text;
  }

  private position(at: number): { line: number; offset: number } {
    const prefix = this.buf.slice(0, at);
    return { line: this.baseLine + countNewlines(prefix), offset: this.baseOffset + Buffer.byteLength(prefix) };
  }

  private consume(upto: number): void {
    if (upto <= 0) return;
    const prefix = this.buf.slice(0, upto);
    this.baseLine += countNewlines(prefix);
    this.baseOffset += Buffer.byteLength(prefix);
    this.buf = this.buf.slice(upto);
  }

  /** Raise a syntax error at buf index `at`; returns normally only when the caller resynchronises. */
  private fail(at: number, reason: string, fatal = false): void {
    const err = new ImportError(this.file, this.position(at), reason);
    if (!this.opts.onSyntaxError?.(err)) throw err;
    if (!fatal && this.opts.resyncTag) {
      this.resyncing = true;
      return;
    }
    // tolerated, but nothing after it can be read
    this.buf = '';
    this.stack.length = 0;
    this.dead = true;
    this.opts.onResync?.();
  }

  private run(final: boolean): void {
    if (this.dead) return;
    const s = this.buf;
    const h = this.handler;
    let i = 0;
    const n = s.length;
    while (i < n) {
      if (this.dead) return;
      if (this.resyncing) {
        const next = indexOfTag(s, this.opts.resyncTag!, i);
        if (next < 0) {
          // keep a tail that might hold the start of the tag
          i = Math.max(i, n - this.opts.resyncTag!.length - 1);
          break;
        }
        this.resyncing = false;
        this.stack.length = Math.min(this.stack.length, 1);
        this.opts.onResync?.();
        i = next;
        continue;
      }
      const lt = s.indexOf('<', i);
      if (lt < 0) {
        if (!final && n - i <= MAX_TOKEN) break;
        if (!final) {
          this.fail(i, `text run longer than ${MAX_TOKEN} characters`);
          if (this.resyncing) continue;
        }
        // final: trailing text
        if (s.slice(i).trim()) {
          if (!this.stack.length) {
            this.fail(i, `text outside the root element: ${excerptTag(s.slice(i))}`, true);
            return;
          }
          if (this.resyncing) break;
          if (h.wantText) h.text(decodeEntities(s.slice(i)));
        }
        i = n;
        break;
      }
      if (lt > i) {
        if (!this.stack.length) {
          const t = s.slice(i, lt);
          if (t.trim()) {
            this.fail(i, `text outside the root element: ${excerptTag(t)}`, !this.sawRoot);
            if (this.resyncing) {
              i = lt;
              continue;
            }
          }
        } else if (h.wantText) h.text(decodeEntities(s.slice(i, lt)));
      }
      i = lt;
      if (lt + 1 >= n) break;
      const c = s.charCodeAt(lt + 1);
      if (c === 47 /* / */) {
        // the usual case, </name> closing the open element, is compared in place: no slice, no regex
        const open = this.stack[this.stack.length - 1];
        if (open !== undefined && s.charCodeAt(lt + 2 + open.length) === 62 && s.startsWith(open, lt + 2)) {
          this.stack.pop();
          i = lt + 3 + open.length;
          this.tokenAt = lt;
          h.close(open);
          if (!this.stack.length) this.rootClosed = true;
          continue;
        }
        const gt = s.indexOf('>', lt);
        if (gt < 0) {
          if (n - lt > 1024) {
            this.fail(lt, 'unterminated closing tag');
            continue;
          }
          break;
        }
        const name = s.slice(lt + 2, gt).trim();
        const top = this.stack[this.stack.length - 1];
        if (!NAME_RE.test(name)) {
          this.fail(lt, `malformed closing tag ${excerptTag(s.slice(lt, gt + 1))}`);
          i = gt + 1;
          continue;
        }
        if (top !== name) {
          this.fail(lt, top ? `closing tag </${name}> does not match <${top}>` : `closing tag </${name}> without an open element`);
          i = gt + 1;
          continue;
        }
        this.stack.pop();
        i = gt + 1;
        this.tokenAt = lt;
        h.close(name);
        if (!this.stack.length) this.rootClosed = true;
        continue;
      }
      if (c === 33 /* ! */) {
        if (s.startsWith('<!--', lt)) {
          const end = s.indexOf('-->', lt + 4);
          if (end < 0) {
            if (!final && n - lt <= MAX_TOKEN) break;
            this.fail(lt, 'unterminated comment', true);
            return;
          }
          i = end + 3;
          continue;
        }
        if (s.startsWith('<![CDATA[', lt)) {
          const end = s.indexOf(']]>', lt + 9);
          if (end < 0) {
            if (!final && n - lt <= MAX_TOKEN) break;
            this.fail(lt, 'unterminated CDATA section', true);
            return;
          }
          if (h.wantText) h.text(s.slice(lt + 9, end));
          i = end + 3;
          continue;
        }
        if (s.startsWith('<!DOCTYPE', lt)) {
          const gt = s.indexOf('>', lt);
          const bracket = s.indexOf('[', lt);
          const end = bracket >= 0 && (gt < 0 || bracket < gt) ? s.indexOf(']>', bracket) : gt;
          if (end < 0) {
            if (!final && n - lt <= 65536) break;
            this.fail(lt, 'unterminated DOCTYPE', true);
            return;
          }
          i = end + (s[end] === ']' ? 2 : 1);
          continue;
        }
        if (n - lt < 9 && !final) break;
        this.fail(lt, `malformed markup ${excerptTag(s.slice(lt, lt + 40))}`);
        i = lt + 2;
        continue;
      }
      if (c === 63 /* ? */) {
        const end = s.indexOf('?>', lt + 2);
        if (end < 0) {
          if (!final && n - lt <= 65536) break;
          this.fail(lt, 'unterminated processing instruction', true);
          return;
        }
        i = end + 2;
        continue;
      }
      const m = scanStartTag(s, lt);
      if (!m) {
        const end = tagEnd(s, lt);
        if (end < 0) {
          if (!final && n - lt <= MAX_TOKEN) break;
          this.fail(lt, final ? `unexpected end of file inside ${excerptTag(s.slice(lt))}` : 'tag too long', true);
          return;
        }
        this.fail(lt, `malformed tag ${excerptTag(s.slice(lt, end + 1))}`);
        i = end + 1;
        continue;
      }
      const name = m.name;
      if (this.rootClosed && !this.stack.length) {
        this.fail(lt, `element <${name}> after the end of the root element`, true);
        return;
      }
      const self = m.selfClosing;
      i = m.end;
      this.sawRoot = true;
      if (!self) this.stack.push(name);
      this.tokenAt = lt;
      h.open(name, m.attrs, self);
      if (self) h.close(name);
    }
    this.consume(i);
  }
}

/** Index of the '>' that ends the tag starting at `lt`, honouring quotes; -1 if the data ends first. */
function tagEnd(s: string, lt: number): number {
  let quote = 0;
  for (let k = lt + 1; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (quote) {
      if (c === quote) quote = 0;
    } else if (c === 34 || c === 39) quote = c;
    else if (c === 62) return k;
    else if (c === 60) return k - 1;
  }
  return -1;
}

/** Index of the next start tag named exactly `name` (not a longer name with the same prefix), or -1. */
function indexOfTag(s: string, name: string, from: number): number {
  let k = from - 1;
  while ((k = s.indexOf(`<${name}`, k + 1)) >= 0) {
    const c = s.charCodeAt(k + name.length + 1);
    if (c === 32 || c === 62 || c === 47 || c === 9 || c === 10 || c === 13) return k;
    if (Number.isNaN(c)) return -1;
  }
  return -1;
}

function countNewlines(s: string): number {
  let count = 0;
  let k = -1;
  while ((k = s.indexOf('\n', k + 1)) >= 0) count++;
  return count;
}

function excerptTag(s: string): string {
  const flat = s.replace(/[\x00-\x1f\x7f]/g, ' ').trim();
  return JSON.stringify(flat.length > 50 ? `${flat.slice(0, 50)}…` : flat);
}

/**
 * Feed a byte stream through an XmlStream whose handler pushes records into `out`, yielding each chunk's records as
 * one batch: the streaming loop every XML importer shares, so memory stays bounded by one chunk's records.
 */
export async function* drainXml<T>(chunks: AsyncIterable<Buffer>, xml: XmlStream, out: T[]): AsyncGenerator<T[]> {
  for await (const chunk of chunks) {
    xml.write(chunk);
    if (out.length) yield out.splice(0, out.length);
  }
  xml.end();
  if (out.length) yield out.splice(0, out.length);
}
