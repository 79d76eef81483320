// Stage: probes (http). The HTTP/1.1 wire format as pure functions, no I/O: the request bytes we send, a tolerant
// parse of whatever a device sends back (broken framing, odd status lines, hostile sizes), and the facts that
// fingerprinting reads from a page: title, WWW-Authenticate realm, login form, favicon hashes.
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { bytesToText } from '../../core/bytes.ts';

/** Size caps: a response is hostile input, every field is bounded before it is stored. */
export const HTTP_LIMITS = {
  /** status line + headers; a head larger than this is not a web server we want to parse */
  maxHeadBytes: 32 * 1024,
  maxHeaders: 100,
  maxHeaderValue: 2048,
  maxStatusLine: 256,
  /** leading CR/LF tolerated before the status line (some servers send a stray blank line) */
  maxLeadingBlank: 32,
  maxChunkLine: 1024,
  maxTrailerLines: 64,
  /** how much of the body is decoded to text and searched for title, forms and icons */
  scanBodyBytes: 64 * 1024,
  /** the body snippet stored in the observation */
  bodySnippetBytes: 1024,
  titleChars: 256,
  redirectChars: 1024,
} as const;

export type HttpParseErrorCode = 'not-http' | 'bad-status-line' | 'head-too-large' | 'incomplete-head';

/** The one error the decoder throws: the bytes are not (or not yet) an HTTP response. */
export class HttpParseError extends Error {
  constructor(
    readonly code: HttpParseErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'HttpParseError';
  }
}

// ───────────────────────────── request ─────────────────────────────

export interface HttpOrigin {
  ip: string;
  port: number;
  tls: boolean;
}

/** Host header value: the IP literal, with the port unless it is the scheme's default (RFC 9110 §7.2). */
export function hostHeader(o: HttpOrigin): string {
  const host = isIP(o.ip) === 6 ? `[${o.ip}]` : o.ip;
  return o.port === (o.tls ? 443 : 80) ? host : `${host}:${o.port}`;
}

/** A request-target safe to put on the wire: starts with "/", no fragment, every byte outside 0x21–0x7e escaped. */
export function safeRequestPath(path: string): string {
  let p = path.split('#', 1)[0] ?? '';
  if (!p.startsWith('/')) p = `/${p}`;
  let out = '';
  for (const b of Buffer.from(p, 'utf8')) out += b > 0x20 && b < 0x7f ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  return out.slice(0, 2048);
}

export function buildGetRequest(origin: HttpOrigin, path: string, userAgent: string): Buffer {
  const ua = userAgent.replace(/[\r\n]+/g, ' ').slice(0, 256);
  const lines = [
    `GET ${safeRequestPath(path)} HTTP/1.1`,
    `Host: ${hostHeader(origin)}`,
    `User-Agent: ${ua}`,
    'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
    // Compressed bodies would hide the title and change the hashes other scanners publish.
    'Accept-Encoding: identity',
    'Connection: close',
    '',
    '',
  ];
  return Buffer.from(lines.join('\r\n'), 'latin1');
}

// ───────────────────────────── response head ─────────────────────────────

export interface ResponseHead {
  /** "1.1", "1.0" */
  version: string;
  statusCode: number;
  reason: string;
  statusLine: string;
  /** lower-cased names, repeated headers joined with ", " */
  headers: Record<string, string>;
  /** offset of the first body byte in the buffer */
  bodyOffset: number;
}

function leadingBlank(buf: Uint8Array): number {
  let i = 0;
  while (i < buf.length && (buf[i] === 0x0d || buf[i] === 0x0a)) i++;
  return i;
}

const HTTP_PREFIX = [0x48, 0x54, 0x54, 0x50, 0x2f]; // "HTTP/"

/** Could these bytes be the start of an HTTP response? 'maybe' when too few bytes arrived to tell. */
export function httpPrefixState(buf: Uint8Array): 'yes' | 'no' | 'maybe' {
  const start = leadingBlank(buf);
  if (start > HTTP_LIMITS.maxLeadingBlank) return 'no';
  for (let k = 0; k < HTTP_PREFIX.length; k++) {
    const b = buf[start + k];
    if (b === undefined) return 'maybe';
    // case-insensitive: a few embedded servers write "Http/1.1"
    if ((b & 0xdf) !== (HTTP_PREFIX[k]! & 0xdf) && b !== HTTP_PREFIX[k]) return 'no';
  }
  return 'yes';
}

/**
 * Find the blank line that ends a head starting at `start`, searching from `from`. Accepts CRLF and bare-LF line
 * ends. Returns the offset of the body, or null when the head is not complete yet.
 */
function findHeadEnd(buf: Uint8Array, start: number, from: number): number | null {
  let i = Math.max(start, from);
  for (;;) {
    i = indexOfByte(buf, 0x0a, i);
    if (i < 0) return null;
    const a = buf[i + 1];
    if (a === 0x0a) return i + 2;
    if (a === 0x0d && buf[i + 2] === 0x0a) return i + 3;
    i++;
  }
}

function indexOfByte(buf: Uint8Array, byte: number, from: number): number {
  return from >= buf.length ? -1 : buf.indexOf(byte, from);
}

const STATUS_LINE = /^HTTP\/(\d{1,2}(?:\.\d{1,2})?)[ \t]+(\d{3})(?:[ \t]+(.*)|[ \t]*)$/is;
const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;

/** Parse the head that starts at `start` and whose body begins at `bodyOffset`. */
function parseHeadAt(buf: Uint8Array, start: number, bodyOffset: number): ResponseHead {
  const text = Buffer.from(buf.subarray(start, bodyOffset)).toString('latin1');
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  const first = lines[0] ?? '';
  const m = STATUS_LINE.exec(first.length > 1024 ? first.slice(0, 1024) : first);
  if (!m) throw new HttpParseError('bad-status-line', `not an HTTP status line: ${JSON.stringify(first.slice(0, 80))}`);
  const headers = new Map<string, string>();
  let last: string | null = null;
  for (const line of lines.slice(1)) {
    if (!line) continue;
    if ((line[0] === ' ' || line[0] === '\t') && last !== null) {
      // obs-fold (RFC 9112 §5.2): a continuation line belongs to the previous header
      headers.set(last, capValue(`${headers.get(last)} ${line.trim()}`));
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) {
      last = null;
      continue;
    }
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!TOKEN.test(name)) {
      last = null;
      continue;
    }
    const value = line.slice(colon + 1).trim();
    const prev = headers.get(name);
    if (prev !== undefined) headers.set(name, capValue(`${prev}, ${value}`));
    else if (headers.size < HTTP_LIMITS.maxHeaders) headers.set(name, capValue(value));
    else {
      last = null;
      continue;
    }
    last = name;
  }
  return {
    version: m[1]!,
    statusCode: Number(m[2]),
    reason: (m[3] ?? '').trim().slice(0, HTTP_LIMITS.maxStatusLine),
    statusLine: first.slice(0, HTTP_LIMITS.maxStatusLine),
    // fromEntries defines own properties, so a header named "__proto__" stays a plain key
    headers: Object.fromEntries(headers),
    bodyOffset,
  };
}

function capValue(v: string): string {
  return v.length > HTTP_LIMITS.maxHeaderValue ? v.slice(0, HTTP_LIMITS.maxHeaderValue) : v;
}

/** An interim response (100 Continue, 103 Early Hints) precedes the real one; 101 is final for our purposes. */
function isInterim(code: number): boolean {
  return code >= 100 && code < 200 && code !== 101;
}

/**
 * Parse the final response head in `buf`, skipping interim 1xx heads.
 * Throws HttpParseError when the bytes are not HTTP or the head is incomplete or oversized.
 */
export function parseHead(buf: Uint8Array, opts: { endOfInput?: boolean } = {}): ResponseHead {
  if (httpPrefixState(buf) === 'no') throw new HttpParseError('not-http', 'the response does not start with "HTTP/"');
  let start = leadingBlank(buf);
  for (let interim = 0; ; interim++) {
    let end = findHeadEnd(buf, start, start);
    // Some embedded servers close without the blank line: when no more bytes will come, what arrived is the head.
    if (end === null && opts.endOfInput && buf.length - start <= HTTP_LIMITS.maxHeadBytes && httpPrefixState(buf.subarray(start)) === 'yes') end = buf.length;
    if (end === null) {
      if (buf.length - start > HTTP_LIMITS.maxHeadBytes) throw new HttpParseError('head-too-large', `no end of headers within ${HTTP_LIMITS.maxHeadBytes} bytes`);
      if (httpPrefixState(buf.subarray(start)) === 'no') throw new HttpParseError('not-http', 'the response does not start with "HTTP/"');
      throw new HttpParseError('incomplete-head', 'the response headers were cut off');
    }
    if (end - start > HTTP_LIMITS.maxHeadBytes) throw new HttpParseError('head-too-large', `no end of headers within ${HTTP_LIMITS.maxHeadBytes} bytes`);
    const head = parseHeadAt(buf, start, end);
    if (!isInterim(head.statusCode) || interim >= 4) return head;
    start = end + leadingBlank(buf.subarray(end));
    if (httpPrefixState(buf.subarray(start)) === 'no') throw new HttpParseError('not-http', 'an interim response was followed by something that is not HTTP');
  }
}

// ───────────────────────────── body framing ─────────────────────────────

export type Framing = { kind: 'none' } | { kind: 'length'; length: number } | { kind: 'chunked' } | { kind: 'close' };

/** How the body of a response to GET is delimited (RFC 9112 §6.3), tolerating contradictory headers. */
export function framingOf(head: Pick<ResponseHead, 'statusCode' | 'headers'>): Framing {
  const code = head.statusCode;
  if (code === 204 || code === 304 || (code >= 100 && code < 200)) return { kind: 'none' };
  const te = head.headers['transfer-encoding'];
  if (te !== undefined) {
    const codings = te.toLowerCase().split(',').map((s) => s.trim()).filter(Boolean);
    return codings[codings.length - 1] === 'chunked' ? { kind: 'chunked' } : { kind: 'close' };
  }
  const cl = head.headers['content-length'];
  if (cl !== undefined) {
    const values = cl.split(',').map((s) => s.trim());
    // "Content-Length: 12, 12" is legal; differing or non-numeric values leave only the connection close as a guide
    if (values.every((v) => /^\d{1,15}$/.test(v)) && values.every((v) => v === values[0])) return { kind: 'length', length: Number(values[0]) };
    return { kind: 'close' };
  }
  return { kind: 'close' };
}

type ChunkWalk = { state: 'complete'; end: number } | { state: 'incomplete'; resumeAt: number } | { state: 'invalid'; error: string };

/**
 * Walk chunked transfer coding from `pos`. Calls onData for every piece of chunk data (a partial last piece too).
 * Returns where to resume when more bytes arrive: the start of the chunk that is not complete yet.
 */
function walkChunks(buf: Uint8Array, pos: number, onData?: (from: number, to: number) => void): ChunkWalk {
  for (;;) {
    const lineEnd = indexOfByte(buf, 0x0a, pos);
    if (lineEnd < 0 || lineEnd - pos > HTTP_LIMITS.maxChunkLine) {
      if (buf.length - pos > HTTP_LIMITS.maxChunkLine) return { state: 'invalid', error: 'chunk-size line too long' };
      return { state: 'incomplete', resumeAt: pos };
    }
    const line = Buffer.from(buf.subarray(pos, lineEnd)).toString('latin1');
    const sizeText = (line.split(';', 1)[0] ?? '').trim();
    if (!/^[0-9a-f]{1,15}$/i.test(sizeText)) return { state: 'invalid', error: `bad chunk size ${JSON.stringify(sizeText.slice(0, 20))}` };
    const size = parseInt(sizeText, 16);
    const dataStart = lineEnd + 1;
    if (size === 0) {
      // trailer section: header lines up to an empty line
      let p = dataStart;
      for (let n = 0; n <= HTTP_LIMITS.maxTrailerLines; n++) {
        const e = indexOfByte(buf, 0x0a, p);
        if (e < 0) {
          if (buf.length - p > HTTP_LIMITS.maxChunkLine) return { state: 'invalid', error: 'trailer line too long' };
          return { state: 'incomplete', resumeAt: pos };
        }
        const empty = e === p || (e === p + 1 && buf[p] === 0x0d);
        p = e + 1;
        if (empty) return { state: 'complete', end: p };
      }
      return { state: 'invalid', error: 'too many trailer lines' };
    }
    const dataEnd = dataStart + size;
    if (dataEnd > buf.length) {
      onData?.(dataStart, buf.length);
      return { state: 'incomplete', resumeAt: pos };
    }
    onData?.(dataStart, dataEnd);
    if (dataEnd === buf.length) return { state: 'incomplete', resumeAt: pos };
    if (buf[dataEnd] === 0x0a) pos = dataEnd + 1;
    else if (buf[dataEnd] === 0x0d) {
      if (dataEnd + 1 === buf.length) return { state: 'incomplete', resumeAt: pos };
      if (buf[dataEnd + 1] !== 0x0a) return { state: 'invalid', error: 'chunk data not followed by CRLF' };
      pos = dataEnd + 2;
    } else return { state: 'invalid', error: 'chunk data not followed by CRLF' };
  }
}

export interface ChunkedBody {
  body: Buffer;
  complete: boolean;
  error?: string;
}

/** Decode a chunked body starting at `offset`, keeping at most `maxBytes` of payload. */
export function decodeChunked(buf: Uint8Array, offset = 0, maxBytes = Number.MAX_SAFE_INTEGER): ChunkedBody {
  const parts: Buffer[] = [];
  let kept = 0;
  const walk = walkChunks(buf, offset, (from, to) => {
    const take = Math.min(to - from, maxBytes - kept);
    if (take <= 0) return;
    parts.push(Buffer.from(buf.subarray(from, from + take)));
    kept += take;
  });
  const body = Buffer.concat(parts);
  if (walk.state === 'invalid') return { body, complete: false, error: walk.error };
  return { body, complete: walk.state === 'complete' };
}

export interface HttpResponse {
  head: ResponseHead;
  framing: Framing['kind'];
  /** the decoded body (chunked coding removed), as far as it arrived */
  body: Buffer;
  /** the whole body arrived, as its framing defines it */
  bodyComplete: boolean;
  /** why the body could not be decoded to its end (bad chunk, …); the head is still good */
  bodyError?: string;
}

/**
 * Parse a whole response. `connectionClosed` tells whether the peer closed the connection after these bytes (the
 * end of a close-delimited body); `endOfInput` that no more bytes will be read (time or byte cap ran out), so a
 * head without its blank line is taken as it is. Throws HttpParseError only for the head; body trouble is reported
 * in the result.
 */
export function parseResponse(buf: Uint8Array, opts: { connectionClosed?: boolean; endOfInput?: boolean; maxBodyBytes?: number } = {}): HttpResponse {
  const head = parseHead(buf, { endOfInput: opts.endOfInput || opts.connectionClosed });
  const framing = framingOf(head);
  const rest = buf.subarray(head.bodyOffset);
  const max = opts.maxBodyBytes ?? Number.MAX_SAFE_INTEGER;
  switch (framing.kind) {
    case 'none':
      return { head, framing: framing.kind, body: Buffer.alloc(0), bodyComplete: true };
    case 'length': {
      const n = Math.min(framing.length, rest.length, max);
      return { head, framing: framing.kind, body: Buffer.from(rest.subarray(0, n)), bodyComplete: rest.length >= framing.length };
    }
    case 'chunked': {
      const d = decodeChunked(rest, 0, max);
      return { head, framing: framing.kind, body: d.body, bodyComplete: d.complete, ...(d.error ? { bodyError: d.error } : {}) };
    }
    case 'close':
      return { head, framing: framing.kind, body: Buffer.from(rest.subarray(0, Math.min(rest.length, max))), bodyComplete: !!opts.connectionClosed };
  }
}

/**
 * Tells, as bytes arrive, whether a response is complete. Incremental: each call resumes where the last one
 * stopped, so a server trickling a byte at a time costs linear work, not quadratic. A close-delimited body is
 * never complete here (the connection's end decides); 'invalid' means more bytes would not help.
 */
export class ResponseCompletion {
  /** start of the head being looked for (after interim heads and stray blank lines) */
  private start = 0;
  private prefixChecked = false;
  private searchFrom = 0;
  private framing: Framing | null = null;
  private bodyOffset = 0;
  private chunkPos = 0;
  private interimHeads = 0;
  private verdict: 'complete' | 'invalid' | null = null;

  check(buf: Uint8Array): 'incomplete' | 'complete' | 'invalid' {
    if (this.verdict) return this.verdict;
    while (!this.framing) {
      if (!this.prefixChecked) {
        const rest = buf.subarray(this.start);
        const prefix = httpPrefixState(rest);
        if (prefix === 'no') return (this.verdict = 'invalid');
        if (prefix === 'maybe') return 'incomplete';
        this.start += leadingBlank(rest);
        this.searchFrom = this.start;
        this.prefixChecked = true;
      }
      const end = findHeadEnd(buf, this.start, this.searchFrom);
      if (end === null) {
        if (buf.length - this.start > HTTP_LIMITS.maxHeadBytes) return (this.verdict = 'invalid');
        // the terminator is at most 3 bytes and starts at a LF: resume just before the end
        this.searchFrom = Math.max(this.start, buf.length - 3);
        return 'incomplete';
      }
      if (end - this.start > HTTP_LIMITS.maxHeadBytes) return (this.verdict = 'invalid');
      let head: ResponseHead;
      try {
        head = parseHeadAt(buf, this.start, end);
      } catch {
        return (this.verdict = 'invalid');
      }
      if (isInterim(head.statusCode) && this.interimHeads < 4) {
        this.interimHeads++;
        this.start = end;
        this.prefixChecked = false;
        continue;
      }
      this.framing = framingOf(head);
      this.bodyOffset = end;
      this.chunkPos = end;
    }
    switch (this.framing.kind) {
      case 'none':
        return (this.verdict = 'complete');
      case 'length':
        return buf.length - this.bodyOffset >= this.framing.length ? (this.verdict = 'complete') : 'incomplete';
      case 'close':
        return 'incomplete';
      case 'chunked': {
        const w = walkChunks(buf, this.chunkPos);
        if (w.state === 'complete') return (this.verdict = 'complete');
        if (w.state === 'invalid') return (this.verdict = 'invalid');
        this.chunkPos = w.resumeAt;
        return 'incomplete';
      }
    }
  }
}

/** One-shot form of ResponseCompletion. */
export function responseCompleteness(buf: Uint8Array): 'incomplete' | 'complete' | 'invalid' {
  return new ResponseCompletion().check(buf);
}

// ───────────────────────────── page facts ─────────────────────────────

function charsetOf(contentType: string | undefined, head: string): string | null {
  const fromHeader = contentType ? /charset\s*=\s*["']?([\w.:-]{1,40})/i.exec(contentType) : null;
  if (fromHeader) return fromHeader[1]!;
  const meta = /<meta\b[^>]{0,300}?charset\s*=\s*["']?([\w.:-]{1,40})/i.exec(head);
  return meta ? meta[1]! : null;
}

/**
 * The body as text for searching: decoded with the charset the server declared when the platform knows it (many
 * cameras still serve GB2312 or Shift_JIS), else UTF-8 with a byte-for-byte fallback. Capped.
 */
export function bodyText(body: Uint8Array, contentType?: string, max: number = HTTP_LIMITS.scanBodyBytes): string {
  const slice = body.subarray(0, max);
  const charset = charsetOf(contentType, Buffer.from(slice.subarray(0, 2048)).toString('latin1'));
  if (charset && !/^utf-?8$/i.test(charset)) {
    try {
      return new TextDecoder(charset.toLowerCase(), { fatal: false }).decode(slice);
    } catch {
      // an unknown label: fall through
    }
  }
  return bytesToText(slice, max);
}

const NAMED_ENTITIES: Record<string, string> = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0', copy: '©', reg: '®', trade: '™', hellip: '…',
  ndash: '–', mdash: '—', laquo: '«', raquo: '»', lsquo: '‘', rsquo: '’', ldquo: '“', rdquo: '”', middot: '·',
  bull: '•', deg: '°', euro: '€', pound: '£', yen: '¥', cent: '¢', sect: '§', para: '¶', times: '×', divide: '÷',
  auml: 'ä', ouml: 'ö', uuml: 'ü', Auml: 'Ä', Ouml: 'Ö', Uuml: 'Ü', szlig: 'ß', eacute: 'é', egrave: 'è', ecirc: 'ê',
  aacute: 'á', agrave: 'à', acirc: 'â', iacute: 'í', oacute: 'ó', uacute: 'ú', ntilde: 'ñ', ccedil: 'ç', Eacute: 'É',
  aring: 'å', Aring: 'Å', oslash: 'ø', Oslash: 'Ø', aelig: 'æ', AElig: 'Æ',
};

/** Decode HTML character references: numeric ones and a table of common named ones; unknown names stay as written. */
export function decodeEntities(s: string): string {
  return s.replace(/&(#[0-9]{1,8}|#[xX][0-9a-fA-F]{1,7}|[A-Za-z][A-Za-z0-9]{1,31});?/g, (whole, ref: string) => {
    if (ref[0] === '#') {
      const cp = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      if (!Number.isFinite(cp) || cp === 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return '\ufffd';
      return String.fromCodePoint(cp);
    }
    if (!whole.endsWith(';')) return whole;
    return Object.hasOwn(NAMED_ENTITIES, ref) ? NAMED_ENTITIES[ref]! : whole;
  });
}

function capChars(s: string, max: number): string {
  if (s.length <= max) return s;
  let cut = s.slice(0, max);
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  return cut;
}

/** The first <title> of a page: entity-decoded, whitespace collapsed, capped. Undefined when there is none. */
export function extractTitle(html: string): string | undefined {
  const open = /<title(?=[\s>/])/i.exec(html);
  if (!open) return undefined;
  const gt = html.indexOf('>', open.index);
  if (gt < 0) return undefined;
  const rest = html.slice(gt + 1, gt + 1 + 4096);
  const close = /<\/title\s*>/i.exec(rest);
  // an unclosed title runs to the next tag, as browsers recover it
  const raw = close ? rest.slice(0, close.index) : rest.slice(0, Math.max(0, rest.indexOf('<')) || rest.length);
  const text = decodeEntities(raw).replace(/[\s\u00a0]+/g, ' ').trim();
  return text ? capChars(text, HTTP_LIMITS.titleChars) : undefined;
}

/** Attributes of each tag named `tag`, as a lower-cased map; bounded per tag so hostile markup stays linear. */
function* tagsNamed(html: string, tag: string): Generator<Record<string, string>> {
  const open = new RegExp(`<${tag}(?=[\\s/>])`, 'gi');
  let count = 0;
  for (let m = open.exec(html); m && count < 500; m = open.exec(html), count++) {
    const end = html.indexOf('>', m.index);
    const stop = end < 0 ? Math.min(html.length, m.index + 1024) : Math.min(end, m.index + 1024);
    const attrs: Record<string, string> = {};
    const attr = /([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;
    const text = html.slice(m.index + tag.length + 1, stop);
    for (let a = attr.exec(text); a; a = attr.exec(text)) {
      const name = a[1]!.toLowerCase();
      if (!Object.hasOwn(attrs, name)) attrs[name] = a[2] ?? a[3] ?? a[4] ?? '';
    }
    yield attrs;
    open.lastIndex = Math.max(stop, m.index + 1);
  }
}

/** A login form: a password input anywhere on the page. */
export function hasPasswordInput(html: string): boolean {
  for (const attrs of tagsNamed(html, 'input')) if ((attrs.type ?? '').trim().toLowerCase() === 'password') return true;
  return false;
}

/** The href of <link rel="icon"> (or "shortcut icon"), if the page declares one. */
export function faviconHref(html: string): string | undefined {
  for (const attrs of tagsNamed(html, 'link')) {
    const rel = (attrs.rel ?? '').toLowerCase().split(/\s+/);
    if (rel.includes('icon') && attrs.href) return decodeEntities(attrs.href).trim();
  }
  return undefined;
}

/**
 * Resolve an href against the page path, only when it stays on the same host (a relative or absolute path, no
 * scheme, no authority). Returns the path and query to request, or undefined.
 */
export function sameHostPath(href: string, basePath: string): string | undefined {
  const h = href.trim();
  if (!h || h.length > HTTP_LIMITS.redirectChars) return undefined;
  if (/^[a-z][a-z0-9+.-]*:/i.test(h) || h.startsWith('//') || h.startsWith('\\') || h.startsWith('/\\')) return undefined;
  try {
    const u = new URL(h, `http://origin.invalid${basePath.startsWith('/') ? basePath : `/${basePath}`}`);
    if (u.host !== 'origin.invalid') return undefined;
    return u.pathname + u.search;
  } catch {
    return undefined;
  }
}

export interface Challenge {
  scheme: string;
  /** lower-cased parameter names */
  params: Record<string, string>;
  token68?: string;
}

const TCHAR = /[!#$%&'*+.^_`|~0-9A-Za-z-]/;
const TOKEN68 = /^([A-Za-z0-9\-._~+/]+=*)[ \t]*(?=,|$)/;

/**
 * Parse WWW-Authenticate (RFC 9110 §11.6.1): one or more challenges, comma separated, each a scheme followed by a
 * token68 or auth-params whose values are tokens or quoted strings with backslash escapes. Tolerant of what
 * devices really send: unquoted values with spaces, an unterminated quote.
 */
export function parseChallenges(value: string): Challenge[] {
  const s = value.slice(0, 4096);
  const out: Challenge[] = [];
  let i = 0;
  const skip = (chars: string) => {
    while (i < s.length && chars.includes(s[i]!)) i++;
  };
  const token = (): string => {
    const from = i;
    while (i < s.length && TCHAR.test(s[i]!)) i++;
    return s.slice(from, i);
  };
  while (i < s.length && out.length < 16) {
    skip(' \t,');
    const scheme = token();
    if (!scheme) {
      if (i < s.length) i++;
      continue;
    }
    const ch: Challenge = { scheme, params: {} };
    out.push(ch);
    skip(' \t');
    // token68 ("Negotiate YIIB+/a==") stands alone: characters, '=' padding, then the end or a comma
    const t68 = TOKEN68.exec(s.slice(i, i + 4096));
    if (t68) {
      ch.token68 = t68[1]!;
      i += t68[0].length;
      continue;
    }
    let nParams = 0;
    for (;;) {
      const save = i;
      skip(' \t,');
      const name = token();
      if (!name) {
        i = save;
        break;
      }
      skip(' \t');
      if (s[i] !== '=') {
        // a bare token: the next challenge's scheme
        i = save;
        break;
      }
      i++; // '='
      skip(' \t');
      let v = '';
      if (s[i] === '"') {
        i++;
        while (i < s.length && s[i] !== '"') {
          if (s[i] === '\\' && i + 1 < s.length) i++;
          v += s[i];
          i++;
        }
        i++; // closing quote (or past the end when unterminated)
      } else {
        const from = i;
        while (i < s.length && s[i] !== ',') i++;
        v = s.slice(from, i).trim();
      }
      const key = name.toLowerCase();
      if (nParams < 32 && !Object.hasOwn(ch.params, key)) ch.params[key] = v.slice(0, 512);
      nParams++;
    }
  }
  return out;
}

// ───────────────────────────── redirects ─────────────────────────────

export interface RedirectTarget extends HttpOrigin {
  path: string;
  /** the absolute URL, as recorded */
  url: string;
}

/**
 * Resolve a Location header against the current request. Only http(s) URLs whose host is an IP literal are
 * followable: names are never resolved (the scope is a set of addresses). The IP is normalised by the URL parser
 * ("0x7f.1" becomes 127.0.0.1), so the scope check sees the address that would be dialled.
 */
export function resolveLocation(location: string, base: HttpOrigin & { path: string }): RedirectTarget | { error: string } {
  const loc = location.trim();
  if (!loc) return { error: 'empty Location' };
  if (loc.length > HTTP_LIMITS.redirectChars) return { error: 'Location too long' };
  const host = isIP(base.ip) === 6 ? `[${base.ip}]` : base.ip;
  let u: URL;
  try {
    u = new URL(loc, `${base.tls ? 'https' : 'http'}://${host}:${base.port}${base.path.startsWith('/') ? base.path : '/'}`);
  } catch {
    return { error: 'Location is not a URL' };
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return { error: `scheme ${u.protocol.slice(0, 20)} is not followed` };
  const hostname = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  if (!isIP(hostname)) return { error: `host name ${JSON.stringify(hostname.slice(0, 100))} is not resolved by probes` };
  const tls = u.protocol === 'https:';
  const port = u.port ? Number(u.port) : tls ? 443 : 80;
  const path = u.pathname + u.search;
  u.hash = '';
  u.username = '';
  u.password = '';
  return { ip: hostname, port, tls, path, url: u.toString() };
}

// ───────────────────────────── hashes ─────────────────────────────

/** MurmurHash3 x86 32-bit (Austin Appleby's public-domain algorithm), returned as a signed 32-bit integer. */
export function murmur3x86_32(data: Uint8Array, seed = 0): number {
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  let h = seed >>> 0;
  const len = data.length;
  const blocks = len & ~3;
  for (let i = 0; i < blocks; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = len & 3;
  if (tail) {
    let k = 0;
    if (tail === 3) k ^= data[blocks + 2]! << 16;
    if (tail >= 2) k ^= data[blocks + 1]! << 8;
    k ^= data[blocks]!;
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
  }
  h ^= len;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

/** Base64 as Python's base64.encodebytes writes it: a newline after every 76 characters and at the end. */
export function base64Lines(data: Uint8Array): string {
  const b64 = Buffer.from(data).toString('base64');
  let out = '';
  for (let i = 0; i < b64.length; i += 76) out += `${b64.slice(i, i + 76)}\n`;
  return out;
}

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Favicon hashes as Shodan publishes them (http.favicon.hash) plus a plain SHA-256 of the icon bytes. */
/** Favicon hashes as the public fingerprint sets key them: Shodan's mmh3, SHA-256, and MD5 (Recog's favicons). */
export function faviconHashes(icon: Uint8Array): { mmh3: number; sha256: string; md5: string } {
  return { mmh3: murmur3x86_32(Buffer.from(base64Lines(icon), 'latin1')), sha256: sha256Hex(icon), md5: createHash('md5').update(icon).digest('hex') };
}

// ───────────────────────────── response facts ─────────────────────────────

export interface ResponseFacts {
  statusCode: number;
  statusLine: string;
  headers: Record<string, string>;
  server?: string;
  title?: string;
  authScheme?: string;
  realm?: string;
  bodyLength: number;
  bodySha256: string;
  body: string;
  loginForm: boolean;
  /** a same-host favicon path declared by the page */
  faviconPath?: string;
  /** the answer says this port wants TLS (a plain request to an HTTPS port) */
  tlsRequired: boolean;
}

const TLS_REQUIRED = /plain HTTP request was sent to HTTPS port|speaking plain HTTP to an SSL-enabled server|client sent an HTTP request to an HTTPS server|requires? (?:TLS|SSL|HTTPS)|use the HTTPS scheme|This combination of host and port requires TLS/i;

/** Everything fingerprinting reads from one response, capped. `path` is the request path (for relative links). */
export function responseFacts(r: HttpResponse, path: string): ResponseFacts {
  const h = r.head.headers;
  const text = bodyText(r.body, h['content-type']);
  const challenges = h['www-authenticate'] ? parseChallenges(h['www-authenticate']) : [];
  const withRealm = challenges.find((c) => c.params.realm !== undefined);
  const href = faviconHref(text);
  const title = extractTitle(text);
  const facts: ResponseFacts = {
    statusCode: r.head.statusCode,
    statusLine: r.head.statusLine,
    headers: h,
    bodyLength: r.body.length,
    bodySha256: sha256Hex(r.body),
    body: bytesToText(r.body, HTTP_LIMITS.bodySnippetBytes),
    loginForm: hasPasswordInput(text),
    tlsRequired: r.head.statusCode === 400 && TLS_REQUIRED.test(`${r.head.reason}\n${text.slice(0, 4096)}`),
  };
  if (h.server !== undefined) facts.server = h.server;
  if (title !== undefined) facts.title = title;
  if (challenges[0]) facts.authScheme = challenges[0].scheme;
  if (withRealm) facts.realm = withRealm.params.realm!;
  const fav = href ? sameHostPath(href, path) : undefined;
  if (fav) facts.faviconPath = fav;
  return facts;
}
