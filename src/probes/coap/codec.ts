// Stage: probes (coap). CoAP messages over UDP (RFC 7252) and TCP (RFC 8323 framing), the Block2 option (RFC 7959)
// and the CoRE Link Format (RFC 6690) of /.well-known/core, as pure, bounded functions. No I/O here.

export const TYPE = { CON: 0, NON: 1, ACK: 2, RST: 3 } as const;
export const CODE = { EMPTY: 0x00, GET: 0x01, CONTENT: 0x45, CSM: 0xe1, PING: 0xe2, PONG: 0xe3, RELEASE: 0xe4, ABORT: 0xe5 } as const;
export const OPTION = { URI_PATH: 11, CONTENT_FORMAT: 12, BLOCK2: 23, SIZE2: 28, CSM_MAX_MESSAGE_SIZE: 2, CSM_BLOCK_WISE: 4 } as const;

export const COAP_LIMITS = {
  maxOptions: 64,
  maxTokenLength: 8,
  /** a link-format document is capped before parsing, and so is what it yields */
  maxLinkFormatBytes: 64 * 1024,
  maxResources: 256,
  maxAttributes: 32,
  maxPathChars: 512,
  maxAttributeChars: 256,
  /** RFC 8323 frames larger than this are refused */
  maxTcpMessageBytes: 1024 * 1024,
};

export interface CoapOption {
  number: number;
  value: Buffer;
}

export interface CoapMessage {
  /** UDP only */
  type?: number;
  code: number;
  /** UDP only */
  messageId?: number;
  token: Buffer;
  options: CoapOption[];
  payload: Buffer;
}

export class CoapError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CoapError';
  }
}

/** "2.05" for 0x45 */
export function codeString(code: number): string {
  return `${code >> 5}.${String(code & 0x1f).padStart(2, '0')}`;
}

// ───────────────────────────── options ─────────────────────────────

function nibble(n: number): { nib: number; ext: number[] } {
  if (n < 13) return { nib: n, ext: [] };
  if (n < 269) return { nib: 13, ext: [n - 13] };
  if (n < 65_805) return { nib: 14, ext: [(n - 269) >> 8, (n - 269) & 0xff] };
  throw new RangeError(`option delta or length ${n} too large`);
}

export function encodeOptions(options: readonly CoapOption[]): Buffer {
  const sorted = [...options].sort((a, b) => a.number - b.number);
  const parts: Buffer[] = [];
  let prev = 0;
  for (const o of sorted) {
    const d = nibble(o.number - prev);
    const l = nibble(o.value.length);
    parts.push(Buffer.from([(d.nib << 4) | l.nib, ...d.ext, ...l.ext]), o.value);
    prev = o.number;
  }
  return Buffer.concat(parts);
}

function extended(nib: number, buf: Uint8Array, at: number): { value: number; next: number } {
  if (nib < 13) return { value: nib, next: at };
  if (nib === 13) {
    if (at + 1 > buf.length) throw new CoapError('option extension runs past the message');
    return { value: buf[at]! + 13, next: at + 1 };
  }
  if (nib === 14) {
    if (at + 2 > buf.length) throw new CoapError('option extension runs past the message');
    return { value: ((buf[at]! << 8) | buf[at + 1]!) + 269, next: at + 2 };
  }
  throw new CoapError('option nibble 15 outside a payload marker');
}

/** Options from `at` up to the payload marker (0xFF) or the end; returns them and where the payload starts. */
export function decodeOptions(buf: Uint8Array, at: number): { options: CoapOption[]; payloadAt: number } {
  const options: CoapOption[] = [];
  let number = 0;
  while (at < buf.length) {
    const b = buf[at]!;
    if (b === 0xff) {
      if (at + 1 >= buf.length) throw new CoapError('payload marker with an empty payload');
      return { options, payloadAt: at + 1 };
    }
    if (options.length >= COAP_LIMITS.maxOptions) throw new CoapError(`more than ${COAP_LIMITS.maxOptions} options`);
    const d = extended(b >> 4, buf, at + 1);
    const l = extended(b & 0x0f, buf, d.next);
    number += d.value;
    if (l.next + l.value > buf.length) throw new CoapError('option value runs past the message');
    options.push({ number, value: Buffer.from(buf.subarray(l.next, l.next + l.value)) });
    at = l.next + l.value;
  }
  return { options, payloadAt: buf.length };
}

export function uintOption(number: number, v: number): CoapOption {
  const bytes: number[] = [];
  while (v > 0) {
    bytes.unshift(v & 0xff);
    v = Math.floor(v / 256);
  }
  return { number, value: Buffer.from(bytes) };
}

export function readUint(value: Uint8Array): number {
  let v = 0;
  for (const b of value.subarray(0, 4)) v = v * 256 + b;
  return v;
}

export function uriPathOptions(path: string): CoapOption[] {
  return path
    .split('/')
    .filter(Boolean)
    .map((seg) => ({ number: OPTION.URI_PATH, value: Buffer.from(seg, 'utf8') }));
}

export interface Block {
  num: number;
  more: boolean;
  /** block size exponent: size = 2 ** (szx + 4) */
  szx: number;
}

export function decodeBlock(value: Uint8Array): Block | null {
  if (value.length > 3) return null;
  const v = readUint(value);
  const szx = v & 7;
  if (szx === 7) return null;
  return { num: v >> 4, more: (v & 8) !== 0, szx };
}

export function blockOption(number: number, b: Block): CoapOption {
  return uintOption(number, (b.num << 4) | (b.more ? 8 : 0) | b.szx);
}

// ───────────────────────────── UDP messages (RFC 7252) ─────────────────────────────

export function encodeUdpMessage(m: CoapMessage): Buffer {
  if (m.token.length > COAP_LIMITS.maxTokenLength) throw new RangeError('token longer than 8 bytes');
  const head = Buffer.from([0x40 | ((m.type ?? TYPE.CON) << 4) | m.token.length, m.code, ((m.messageId ?? 0) >> 8) & 0xff, (m.messageId ?? 0) & 0xff]);
  const payload = m.payload.length ? Buffer.concat([Buffer.from([0xff]), m.payload]) : Buffer.alloc(0);
  return Buffer.concat([head, m.token, encodeOptions(m.options), payload]);
}

export type CoapResult = { ok: true; message: CoapMessage } | { ok: false; error: CoapError };

export function decodeUdpMessage(buf: Uint8Array): CoapResult {
  try {
    if (buf.length < 4) throw new CoapError('shorter than the 4-byte header');
    const b0 = buf[0]!;
    if (b0 >> 6 !== 1) throw new CoapError(`version ${b0 >> 6} is not 1`);
    const tkl = b0 & 0x0f;
    if (tkl > COAP_LIMITS.maxTokenLength) throw new CoapError(`token length ${tkl}`);
    if (4 + tkl > buf.length) throw new CoapError('token runs past the message');
    const code = buf[1]!;
    const type = (b0 >> 4) & 3;
    // An empty message is exactly the header (RFC 7252 §4.1).
    if (code === CODE.EMPTY && (buf.length !== 4 || tkl !== 0)) throw new CoapError('empty message with a token or body');
    const { options, payloadAt } = decodeOptions(buf, 4 + tkl);
    return {
      ok: true,
      message: { type, code, messageId: (buf[2]! << 8) | buf[3]!, token: Buffer.from(buf.subarray(4, 4 + tkl)), options, payload: Buffer.from(buf.subarray(payloadAt)) },
    };
  } catch (e) {
    return { ok: false, error: e instanceof CoapError ? e : new CoapError(`decoder fault: ${(e as Error).message}`) };
  }
}

// ───────────────────────────── TCP framing (RFC 8323 §3.2) ─────────────────────────────

export function encodeTcpMessage(m: CoapMessage): Buffer {
  if (m.token.length > COAP_LIMITS.maxTokenLength) throw new RangeError('token longer than 8 bytes');
  const body = Buffer.concat([encodeOptions(m.options), m.payload.length ? Buffer.concat([Buffer.from([0xff]), m.payload]) : Buffer.alloc(0)]);
  const n = body.length;
  let head: number[];
  if (n < 13) head = [(n << 4) | m.token.length];
  else if (n < 269) head = [(13 << 4) | m.token.length, n - 13];
  else if (n < 65_805) head = [(14 << 4) | m.token.length, (n - 269) >> 8, (n - 269) & 0xff];
  else {
    const x = n - 65_805;
    head = [(15 << 4) | m.token.length, (x >>> 24) & 0xff, (x >>> 16) & 0xff, (x >>> 8) & 0xff, x & 0xff];
  }
  return Buffer.concat([Buffer.from(head), Buffer.from([m.code]), m.token, body]);
}

export type TcpFrameResult = { kind: 'ok'; message: CoapMessage; consumed: number } | { kind: 'need-more' } | { kind: 'error'; reason: string };

export function decodeTcpFrame(buf: Uint8Array, maxBytes = COAP_LIMITS.maxTcpMessageBytes): TcpFrameResult {
  if (buf.length < 1) return { kind: 'need-more' };
  const lenNib = buf[0]! >> 4;
  const tkl = buf[0]! & 0x0f;
  if (tkl > COAP_LIMITS.maxTokenLength) return { kind: 'error', reason: `token length ${tkl}` };
  const extLen = lenNib === 13 ? 1 : lenNib === 14 ? 2 : lenNib === 15 ? 4 : 0;
  if (buf.length < 1 + extLen) return { kind: 'need-more' };
  let len = lenNib;
  if (lenNib === 13) len = buf[1]! + 13;
  else if (lenNib === 14) len = ((buf[1]! << 8) | buf[2]!) + 269;
  else if (lenNib === 15) len = ((buf[1]! << 24) >>> 0) + (buf[2]! << 16) + (buf[3]! << 8) + buf[4]! + 65_805;
  if (len > maxBytes) return { kind: 'error', reason: `message of ${len} bytes exceeds the cap` };
  const codeAt = 1 + extLen;
  const total = codeAt + 1 + tkl + len;
  if (buf.length < total) return { kind: 'need-more' };
  try {
    const body = buf.subarray(codeAt + 1 + tkl, total);
    const { options, payloadAt } = decodeOptions(body, 0);
    return {
      kind: 'ok',
      message: { code: buf[codeAt]!, token: Buffer.from(buf.subarray(codeAt + 1, codeAt + 1 + tkl)), options, payload: Buffer.from(body.subarray(payloadAt)) },
      consumed: total,
    };
  } catch (e) {
    return { kind: 'error', reason: e instanceof CoapError ? e.message : `decoder fault: ${(e as Error).message}` };
  }
}

/** Could this greeting be a CoAP-over-TCP server's Capabilities and Settings Message? */
export function isCsmGreeting(buf: Uint8Array): boolean {
  const f = decodeTcpFrame(buf, 4096);
  return f.kind === 'ok' && f.message.code === CODE.CSM;
}

// ───────────────────────────── CoRE Link Format (RFC 6690) ─────────────────────────────

export interface LinkResource {
  path: string;
  attributes: Record<string, string>;
}

/**
 * Parse a link-format document: `</path>;attr=value;attr="quoted, with separators";flag, </next>…`. Tolerant of
 * stray whitespace; a malformed entry is skipped, not fatal. Valueless attributes become "". A repeated attribute's
 * values are joined with a space (as rt and if lists are).
 */
export function parseLinkFormat(input: string): LinkResource[] {
  const s = input.slice(0, COAP_LIMITS.maxLinkFormatBytes);
  const out: LinkResource[] = [];
  let i = 0;
  const skipWs = () => {
    while (i < s.length && /[\s]/.test(s[i]!)) i++;
  };
  while (i < s.length && out.length < COAP_LIMITS.maxResources) {
    skipWs();
    if (s[i] !== '<') {
      // not an entry start: skip to the next top-level comma
      const next = nextComma(s, i);
      if (next < 0) break;
      i = next + 1;
      continue;
    }
    const close = s.indexOf('>', i + 1);
    if (close < 0) break;
    const path = s.slice(i + 1, close).slice(0, COAP_LIMITS.maxPathChars);
    i = close + 1;
    const attributes: Record<string, string> = Object.create(null);
    let count = 0;
    for (;;) {
      skipWs();
      if (s[i] !== ';') break;
      i++;
      skipWs();
      const nameStart = i;
      while (i < s.length && /[A-Za-z0-9!#$&+\-.^_`|~*]/.test(s[i]!)) i++;
      const name = s.slice(nameStart, i).toLowerCase();
      let value = '';
      skipWs();
      if (s[i] === '=') {
        i++;
        skipWs();
        if (s[i] === '"') {
          i++;
          let v = '';
          while (i < s.length && s[i] !== '"') {
            if (s[i] === '\\' && i + 1 < s.length) i++;
            if (v.length < COAP_LIMITS.maxAttributeChars) v += s[i];
            i++;
          }
          i++;
          value = v;
        } else {
          const vStart = i;
          while (i < s.length && s[i] !== ';' && s[i] !== ',') i++;
          value = s.slice(vStart, i).trim().slice(0, COAP_LIMITS.maxAttributeChars);
        }
      }
      if (!name) continue;
      if (count >= COAP_LIMITS.maxAttributes) continue;
      if (Object.hasOwn(attributes, name)) attributes[name] = `${attributes[name]} ${value}`.slice(0, COAP_LIMITS.maxAttributeChars);
      else {
        attributes[name] = value;
        count++;
      }
    }
    out.push({ path, attributes: { ...attributes } });
    const next = nextComma(s, i);
    if (next < 0) break;
    i = next + 1;
  }
  return out;
}

/** Index of the next comma outside quotes and angle brackets, from `from`, or -1. */
function nextComma(s: string, from: number): number {
  let quoted = false;
  for (let k = from; k < s.length; k++) {
    const c = s[k];
    if (c === '\\' && quoted) k++;
    else if (c === '"') quoted = !quoted;
    else if (c === ',' && !quoted) return k;
  }
  return -1;
}
