// Stage: probes, SSH wire format (RFC 4253, 4250, 5656, 8731). Pure functions, no I/O: the identification line,
// unencrypted binary packets, KEXINIT name-lists, the key-exchange init and reply messages, and the host-key
// fingerprint as OpenSSH prints it.
import { createHash } from 'node:crypto';

export type Decoded<T> = { kind: 'ok'; value: T; consumed: number } | { kind: 'need-more' } | { kind: 'error'; reason: string };

export const MSG_DISCONNECT = 1;
export const MSG_IGNORE = 2;
export const MSG_UNIMPLEMENTED = 3;
export const MSG_DEBUG = 4;
export const MSG_KEXINIT = 20;
/** SSH_MSG_KEXDH_INIT and SSH_MSG_KEX_ECDH_INIT share the number, as do the two replies. */
export const MSG_KEX_INIT = 30;
export const MSG_KEX_REPLY = 31;

/** RFC 4253 §4.2: the identification line is at most 255 bytes; some servers exceed it, so we allow more. */
const MAX_IDENT_LINE = 1024;
/** Lines a server may send before its identification; more is not an SSH server. */
const MAX_PREAMBLE_LINES = 32;
const MAX_PREAMBLE_BYTES = 8192;
/** RFC 4253 §6.1 requires 35000; a KEX reply with a large RSA key and DH group 18 is still far below this. */
export const MAX_PACKET = 65536;

export interface Ident {
  /** the identification line without CR LF */
  ident: string;
  protoVersion: string;
  software: string;
  comment?: string;
  /** text lines the server sent before its identification (RFC 4253 §4.2 allows them) */
  preamble: string[];
}

/** Find and parse the identification line at the start of `buf`. */
export function parseIdent(buf: Uint8Array): Decoded<Ident> {
  const preamble: string[] = [];
  let off = 0;
  for (;;) {
    const nl = indexOf(buf, 0x0a, off);
    const end = nl === -1 ? buf.length : nl;
    const startsIdent = startsWith(buf, off, 'SSH-');
    if (nl === -1) {
      if (buf.length - off > (startsIdent ? MAX_IDENT_LINE : MAX_PREAMBLE_BYTES)) return { kind: 'error', reason: 'line too long for an SSH identification' };
      if (off === 0 && buf.length >= 4 && !startsIdent && !isTextLike(buf.subarray(0, Math.min(buf.length, 64))))
        return { kind: 'error', reason: 'binary data where an SSH identification was expected' };
      return { kind: 'need-more' };
    }
    const lineStart = off;
    let lineEnd = end;
    if (lineEnd > lineStart && buf[lineEnd - 1] === 0x0d) lineEnd--;
    const line = Buffer.from(buf.subarray(lineStart, lineEnd)).toString('latin1');
    off = nl + 1;
    if (startsIdent) {
      if (line.length > MAX_IDENT_LINE) return { kind: 'error', reason: 'identification line too long' };
      const m = /^SSH-([^-\s]+)-([^\s]*)(?: (.*))?$/.exec(line);
      if (!m || !m[2]) return { kind: 'error', reason: `malformed SSH identification: ${JSON.stringify(line.slice(0, 80))}` };
      const value: Ident = { ident: line, protoVersion: m[1]!, software: m[2], preamble };
      if (m[3] !== undefined && m[3] !== '') value.comment = m[3];
      return { kind: 'ok', value, consumed: off };
    }
    if (!isTextLike(buf.subarray(lineStart, lineEnd))) return { kind: 'error', reason: 'binary data before the SSH identification' };
    preamble.push(line.slice(0, 256));
    if (preamble.length > MAX_PREAMBLE_LINES || off > MAX_PREAMBLE_BYTES) return { kind: 'error', reason: 'too many lines before the SSH identification' };
  }
}

function isTextLike(b: Uint8Array): boolean {
  let bad = 0;
  for (const c of b) if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f) bad++;
  return bad * 8 <= b.length;
}

function indexOf(buf: Uint8Array, byte: number, from: number): number {
  for (let i = from; i < buf.length; i++) if (buf[i] === byte) return i;
  return -1;
}

function startsWith(buf: Uint8Array, off: number, prefix: string): boolean {
  if (buf.length - off < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (buf[off + i] !== prefix.charCodeAt(i)) return false;
  return true;
}

/** Our identification line, with a comment (RFC 4253 §4.2: printable US-ASCII, the whole line ≤ 255 bytes). */
export function encodeIdent(software: string, comment?: string): string {
  const clean = (s: string) => s.replace(/[^\x21-\x7e ]/g, '').trim();
  let line = `SSH-2.0-${clean(software).replace(/[ -]/g, '_')}`;
  const c = comment ? clean(comment) : '';
  if (c) line = `${line} ${c}`.slice(0, 253);
  return `${line}\r\n`;
}

/** One unencrypted binary packet (no MAC: none is in use before the first NEWKEYS). */
export function parsePacket(buf: Uint8Array, off = 0): Decoded<Buffer> {
  if (buf.length - off < 5) return { kind: 'need-more' };
  const len = ((buf[off]! << 24) >>> 0) + (buf[off + 1]! << 16) + (buf[off + 2]! << 8) + buf[off + 3]!;
  const pad = buf[off + 4]!;
  if (len < 5 || len > MAX_PACKET) return { kind: 'error', reason: `packet length ${len} out of range` };
  if (pad >= len) return { kind: 'error', reason: `padding ${pad} does not fit a packet of ${len} bytes` };
  if (buf.length - off < 4 + len) return { kind: 'need-more' };
  return { kind: 'ok', value: Buffer.from(buf.subarray(off + 5, off + 4 + len - pad)), consumed: 4 + len };
}

/** Frame a payload: padding to a multiple of 8 and at least 4 bytes (§6). Padding content is irrelevant unencrypted. */
export function encodePacket(payload: Uint8Array): Buffer {
  let pad = 8 - ((5 + payload.length) % 8);
  if (pad < 4) pad += 8;
  const out = Buffer.alloc(5 + payload.length + pad);
  out.writeUInt32BE(1 + payload.length + pad, 0);
  out[4] = pad;
  out.set(payload, 5);
  return out;
}

class DecodeError extends Error {}

/** Bounds-checked reader for the SSH data types of RFC 4251 §5. */
export class SshReader {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}
  get remaining(): number {
    return this.buf.length - this.pos;
  }
  private need(n: number): void {
    if (this.buf.length - this.pos < n) throw new DecodeError(`truncated: need ${n} bytes at offset ${this.pos}, have ${this.buf.length - this.pos}`);
  }
  byte(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }
  bool(): boolean {
    return this.byte() !== 0;
  }
  uint32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  bytes(n: number): Buffer {
    this.need(n);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
  string(): Buffer {
    return this.bytes(this.uint32());
  }
  text(): string {
    return this.string().toString('latin1');
  }
  nameList(): string[] {
    const s = this.text();
    if (!s) return [];
    const names = s.split(',');
    if (names.length > 512) throw new DecodeError(`name-list of ${names.length} names`);
    return names;
  }
  /** mpint magnitude as unsigned big-endian bytes without leading zeros */
  mpintMagnitude(): Buffer {
    const b = this.string();
    let i = 0;
    while (i < b.length && b[i] === 0) i++;
    return b.subarray(i);
  }
}

function decode<T>(f: () => T): { kind: 'ok'; value: T } | { kind: 'error'; reason: string } {
  try {
    return { kind: 'ok', value: f() };
  } catch (e) {
    if (e instanceof DecodeError || e instanceof RangeError) return { kind: 'error', reason: e.message };
    throw e;
  }
}

/** Writer for the same types. */
export class SshWriter {
  private parts: Buffer[] = [];
  byte(v: number): this {
    this.parts.push(Buffer.from([v]));
    return this;
  }
  bool(v: boolean): this {
    return this.byte(v ? 1 : 0);
  }
  uint32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v >>> 0);
    this.parts.push(b);
    return this;
  }
  raw(b: Uint8Array): this {
    this.parts.push(Buffer.from(b));
    return this;
  }
  string(b: Uint8Array | string): this {
    const v = typeof b === 'string' ? Buffer.from(b, 'latin1') : Buffer.from(b);
    return this.uint32(v.length).raw(v);
  }
  nameList(names: readonly string[]): this {
    return this.string(names.join(','));
  }
  /** an unsigned big-endian magnitude as a positive mpint (leading zero byte when the top bit is set) */
  mpint(magnitude: Uint8Array): this {
    let i = 0;
    while (i < magnitude.length && magnitude[i] === 0) i++;
    const m = Buffer.from(magnitude.subarray(i));
    return this.string(m.length && m[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), m]) : m);
  }
  done(): Buffer {
    return Buffer.concat(this.parts);
  }
}

export interface AlgorithmLists {
  kexAlgorithms: string[];
  hostKeyAlgorithms: string[];
  ciphersClientToServer: string[];
  ciphersServerToClient: string[];
  macsClientToServer: string[];
  macsServerToClient: string[];
  compression: string[];
}

export interface KexInit extends AlgorithmLists {
  cookie: Buffer;
  compressionServerToClient: string[];
  languagesClientToServer: string[];
  languagesServerToClient: string[];
  firstKexPacketFollows: boolean;
}

/** SSH_MSG_KEXINIT (§7.1). `compression` is the client-to-server list, as in SshData. */
export function parseKexInit(payload: Buffer): { kind: 'ok'; value: KexInit } | { kind: 'error'; reason: string } {
  return decode(() => {
    const r = new SshReader(payload);
    const type = r.byte();
    if (type !== MSG_KEXINIT) throw new DecodeError(`expected KEXINIT (20), got message ${type}`);
    const cookie = Buffer.from(r.bytes(16));
    const value: KexInit = {
      cookie,
      kexAlgorithms: r.nameList(),
      hostKeyAlgorithms: r.nameList(),
      ciphersClientToServer: r.nameList(),
      ciphersServerToClient: r.nameList(),
      macsClientToServer: r.nameList(),
      macsServerToClient: r.nameList(),
      compression: r.nameList(),
      compressionServerToClient: r.nameList(),
      languagesClientToServer: r.nameList(),
      languagesServerToClient: r.nameList(),
      firstKexPacketFollows: r.bool(),
    };
    r.uint32();
    return value;
  });
}

export function encodeKexInit(lists: AlgorithmLists, cookie: Uint8Array): Buffer {
  if (cookie.length !== 16) throw new RangeError('KEXINIT cookie must be 16 bytes');
  return new SshWriter()
    .byte(MSG_KEXINIT)
    .raw(cookie)
    .nameList(lists.kexAlgorithms)
    .nameList(lists.hostKeyAlgorithms)
    .nameList(lists.ciphersClientToServer)
    .nameList(lists.ciphersServerToClient)
    .nameList(lists.macsClientToServer)
    .nameList(lists.macsServerToClient)
    .nameList(lists.compression)
    .nameList(lists.compression)
    .nameList([])
    .nameList([])
    .bool(false)
    .uint32(0)
    .done();
}

/** §7.1: the chosen algorithm is the first on the client's list that the server also supports. */
export function negotiate(client: readonly string[], server: readonly string[]): string | null {
  for (const name of client) if (server.includes(name)) return name;
  return null;
}

/** How a key-exchange method carries the client's public value in its init message. */
export type KexFamily = 'x25519' | 'ecdh' | 'dh';

export function kexFamily(method: string): KexFamily | null {
  if (method === 'curve25519-sha256' || method === 'curve25519-sha256@libssh.org') return 'x25519';
  if (/^ecdh-sha2-nistp(256|384|521)$/.test(method)) return 'ecdh';
  if (/^diffie-hellman-group(1|14|16|18)-sha(1|256|512)$/.test(method)) return 'dh';
  return null;
}

/** SSH_MSG_KEX_ECDH_INIT (string Q_C, RFC 5656/8731) or SSH_MSG_KEXDH_INIT (mpint e, RFC 4253 §8). */
export function encodeKexInitMessage(family: KexFamily, publicValue: Uint8Array): Buffer {
  const w = new SshWriter().byte(MSG_KEX_INIT);
  return (family === 'dh' ? w.mpint(publicValue) : w.string(publicValue)).done();
}

export interface KexReply {
  /** K_S, the server's public host key blob */
  hostKey: Buffer;
  /** f or Q_S */
  serverPublic: Buffer;
  signature: Buffer;
}

/** SSH_MSG_KEXDH_REPLY / SSH_MSG_KEX_ECDH_REPLY: the host key, the server's public value, the exchange-hash signature. */
export function parseKexReply(payload: Buffer): { kind: 'ok'; value: KexReply } | { kind: 'error'; reason: string } {
  return decode(() => {
    const r = new SshReader(payload);
    const type = r.byte();
    if (type !== MSG_KEX_REPLY) throw new DecodeError(`expected KEX reply (31), got message ${type}`);
    const hostKey = Buffer.from(r.string());
    const serverPublic = Buffer.from(r.string());
    const signature = Buffer.from(r.string());
    if (!hostKey.length) throw new DecodeError('empty host key');
    return { hostKey, serverPublic, signature };
  });
}

export interface HostKeyInfo {
  type: string;
  /** "SHA256:" and the unpadded base64 of the SHA-256 of the key blob, as `ssh-keygen -l` prints it */
  sha256: string;
  bits?: number;
}

export function fingerprintSha256(blob: Uint8Array): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** Type, fingerprint and size of a public host key blob (RFC 4253 §6.6, RFC 5656 §3.1, RFC 8709). */
export function describeHostKey(blob: Buffer): { kind: 'ok'; value: HostKeyInfo } | { kind: 'error'; reason: string } {
  return decode(() => {
    const r = new SshReader(blob);
    const type = r.text();
    if (!type || !/^[\x21-\x7e]{1,64}$/.test(type)) throw new DecodeError('host key type is not a name');
    const info: HostKeyInfo = { type, sha256: fingerprintSha256(blob) };
    if (type === 'ssh-rsa') {
      r.mpintMagnitude();
      info.bits = bitLength(r.mpintMagnitude());
    } else if (type === 'ssh-dss') {
      info.bits = bitLength(r.mpintMagnitude());
    } else if (type.startsWith('ecdsa-sha2-')) {
      const curve = r.text();
      const m = /nistp(256|384|521)$/.exec(curve);
      if (m) info.bits = Number(m[1]);
    } else if (type === 'ssh-ed25519') {
      if (r.string().length === 32) info.bits = 256;
    } else if (type === 'ssh-ed448') {
      info.bits = 456;
    }
    return info;
  });
}

function bitLength(mag: Buffer): number {
  if (!mag.length) return 0;
  return (mag.length - 1) * 8 + (32 - Math.clz32(mag[0]!));
}

/** SSH_MSG_DISCONNECT; reason 11 is SSH_DISCONNECT_BY_APPLICATION. */
export function encodeDisconnect(reason: number, description: string): Buffer {
  return new SshWriter().byte(MSG_DISCONNECT).uint32(reason).string(Buffer.from(description, 'utf8')).string('').done();
}

export function parseDisconnect(payload: Buffer): { kind: 'ok'; value: { reason: number; description: string } } | { kind: 'error'; reason: string } {
  return decode(() => {
    const r = new SshReader(payload);
    if (r.byte() !== MSG_DISCONNECT) throw new DecodeError('not a DISCONNECT message');
    return { reason: r.uint32(), description: r.string().toString('utf8').slice(0, 256) };
  });
}
