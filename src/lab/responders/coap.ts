// Stage: lab. The CoAP responder (RFC 7252 over UDP): GET /.well-known/core answered in CoRE link format (RFC 6690)
// from the profile's resources, GET of a resource with its payload, the message id and token echoed; a CON request
// gets a piggybacked ACK, a NON request a NON answer. Other methods get 4.05, unknown paths 4.04.
import dgram from 'node:dgram';
import { randomInt } from 'node:crypto';
import type { ServiceOf } from '../profile.ts';
import { type RunningService, type ServiceContext, bindUdp } from './common.ts';

export interface CoapMessage {
  type: number;
  code: number;
  messageId: number;
  token: Buffer;
  options: { number: number; value: Buffer }[];
  payload: Buffer;
}

export class CoapError extends Error {}

function extended(buf: Buffer, pos: number, nibble: number): { value: number; pos: number } {
  if (nibble < 13) return { value: nibble, pos };
  if (nibble === 13) {
    if (pos >= buf.length) throw new CoapError('truncated option');
    return { value: buf[pos]! + 13, pos: pos + 1 };
  }
  if (nibble === 14) {
    if (pos + 1 >= buf.length) throw new CoapError('truncated option');
    return { value: buf.readUInt16BE(pos) + 269, pos: pos + 2 };
  }
  throw new CoapError('reserved option nibble 15');
}

export function parseCoap(buf: Buffer): CoapMessage {
  if (buf.length < 4) throw new CoapError('shorter than the 4-byte header');
  const ver = buf[0]! >> 6;
  if (ver !== 1) throw new CoapError(`version ${ver}`);
  const type = (buf[0]! >> 4) & 3;
  const tkl = buf[0]! & 0x0f;
  if (tkl > 8) throw new CoapError('token longer than 8 bytes');
  if (buf.length < 4 + tkl) throw new CoapError('truncated token');
  const msg: CoapMessage = { type, code: buf[1]!, messageId: buf.readUInt16BE(2), token: buf.subarray(4, 4 + tkl), options: [], payload: Buffer.alloc(0) };
  let pos = 4 + tkl;
  let number = 0;
  while (pos < buf.length) {
    if (buf[pos] === 0xff) {
      if (pos + 1 >= buf.length) throw new CoapError('payload marker without payload');
      msg.payload = buf.subarray(pos + 1);
      break;
    }
    const b = buf[pos++]!;
    const d = extended(buf, pos, b >> 4);
    const l = extended(buf, d.pos, b & 0x0f);
    pos = l.pos;
    if (pos + l.value > buf.length) throw new CoapError('truncated option value');
    number += d.value;
    msg.options.push({ number, value: buf.subarray(pos, pos + l.value) });
    pos += l.value;
    if (msg.options.length > 64) throw new CoapError('too many options');
  }
  return msg;
}

function encodeOptionHeader(delta: number, length: number): Buffer {
  const nib = (v: number) => (v < 13 ? [v, []] : v < 269 ? [13, [v - 13]] : [14, [(v - 269) >> 8, (v - 269) & 0xff]]) as [number, number[]];
  const [dn, de] = nib(delta);
  const [ln, le] = nib(length);
  return Buffer.from([(dn << 4) | ln, ...de, ...le]);
}

export function encodeCoap(m: CoapMessage): Buffer {
  const parts = [Buffer.from([0x40 | (m.type << 4) | m.token.length, m.code, m.messageId >> 8, m.messageId & 0xff]), m.token];
  let last = 0;
  for (const o of [...m.options].sort((a, b) => a.number - b.number)) {
    parts.push(encodeOptionHeader(o.number - last, o.value.length), o.value);
    last = o.number;
  }
  if (m.payload.length) parts.push(Buffer.from([0xff]), m.payload);
  return Buffer.concat(parts);
}

function uint(n: number): Buffer {
  if (n === 0) return Buffer.alloc(0);
  if (n < 256) return Buffer.from([n]);
  return Buffer.from([n >> 8, n & 0xff]);
}

/** CoRE link format of the profile's resources. */
export function linkFormat(spec: ServiceOf<'coap'>): string {
  return spec.resources
    .map((r) => {
      const attrs = Object.entries(r.attributes).map(([k, v]) => (v === true ? `;${k}` : typeof v === 'number' ? `;${k}=${v}` : `;${k}="${v.replace(/"/g, '')}"`));
      return `<${r.path}>${attrs.join('')}`;
    })
    .join(',');
}

const CONTENT = 0x45;
const NOT_FOUND = 0x84;
const METHOD_NOT_ALLOWED = 0x85;
const URI_PATH = 11;
const CONTENT_FORMAT = 12;

/** The reply to one datagram, or null (responses and ACKs from the client need none). */
export function answerCoap(spec: ServiceOf<'coap'>, msg: CoapMessage, nextId: () => number): Buffer | null {
  const isRequest = msg.code >= 1 && msg.code <= 31;
  if (msg.type === 2 || msg.type === 3) return null;
  if (msg.code === 0) {
    // an empty CON is a "CoAP ping": answered with RST
    return msg.type === 0 ? encodeCoap({ type: 3, code: 0, messageId: msg.messageId, token: Buffer.alloc(0), options: [], payload: Buffer.alloc(0) }) : null;
  }
  if (!isRequest) return null;
  const path = '/' + msg.options.filter((o) => o.number === URI_PATH).map((o) => o.value.toString('utf8')).join('/');
  let code = CONTENT;
  let payload = Buffer.alloc(0);
  let format: number | null = null;
  if (msg.code !== 1) code = METHOD_NOT_ALLOWED;
  else if (path === '/.well-known/core') {
    payload = Buffer.from(linkFormat(spec), 'utf8');
    format = 40;
  } else {
    const r = spec.resources.find((x) => x.path === path);
    if (!r) code = NOT_FOUND;
    else {
      payload = Buffer.from(r.payload, 'utf8');
      format = r.contentFormat;
    }
  }
  const options = format === null ? [] : [{ number: CONTENT_FORMAT, value: uint(format) }];
  const type = msg.type === 0 ? 2 : 1;
  return encodeCoap({ type, code, messageId: type === 2 ? msg.messageId : nextId(), token: msg.token, options, payload });
}

export async function startCoap(spec: ServiceOf<'coap'>, ctx: ServiceContext): Promise<RunningService> {
  let mid = randomInt(0, 65536);
  const nextId = () => (mid = (mid + 1) & 0xffff);
  const socket = dgram.createSocket('udp4');
  socket.on('message', (data, rinfo) => {
    if (data.length > 1152) return;
    let msg: CoapMessage;
    try {
      msg = parseCoap(data);
    } catch {
      // a malformed CON is rejected with RST when its message id can be read (RFC 7252 §4.2)
      if (data.length >= 4 && data[0]! >> 6 === 1 && ((data[0]! >> 4) & 3) === 0)
        socket.send(encodeCoap({ type: 3, code: 0, messageId: data.readUInt16BE(2), token: Buffer.alloc(0), options: [], payload: Buffer.alloc(0) }), rinfo.port, rinfo.address);
      return;
    }
    const reply = answerCoap(spec, msg, nextId);
    if (reply) socket.send(reply, rinfo.port, rinfo.address);
  });
  return bindUdp(socket, ctx);
}
