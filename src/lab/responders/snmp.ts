// Stage: lab. The SNMP v1/v2c agent responder: GetRequest, GetNextRequest and GetBulkRequest answered from the
// profile's system group and extra objects, the request-id echoed; a wrong community (or SNMPv3) gets no answer at
// all, as real agents do. Writes are refused. A small BER reader/writer of its own.
import dgram from 'node:dgram';
import type { ServiceOf } from '../profile.ts';
import { type RunningService, type ServiceContext, bindUdp } from './common.ts';

export interface Tlv {
  tag: number;
  value: Buffer;
}

export class BerError extends Error {}

/** Read one TLV at pos; returns it and the position after it. */
export function readTlv(buf: Buffer, pos: number): { tlv: Tlv; next: number } {
  if (pos + 2 > buf.length) throw new BerError('truncated TLV');
  const tag = buf[pos]!;
  let len = buf[pos + 1]!;
  let p = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 3) throw new BerError('unsupported length form');
    if (p + n > buf.length) throw new BerError('truncated length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p + i]!;
    p += n;
  }
  if (p + len > buf.length) throw new BerError('truncated value');
  return { tlv: { tag, value: buf.subarray(p, p + len) }, next: p + len };
}

export function readAll(buf: Buffer): Tlv[] {
  const out: Tlv[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const { tlv, next } = readTlv(buf, pos);
    out.push(tlv);
    pos = next;
    if (out.length > 1000) throw new BerError('too many elements');
  }
  return out;
}

export function decodeInt(v: Buffer): number {
  if (v.length === 0 || v.length > 6) throw new BerError('bad integer');
  let n = v[0]! & 0x80 ? -1 : 0;
  for (const b of v) n = n * 256 + b;
  return n;
}

export function decodeOid(v: Buffer): string {
  if (v.length === 0 || v.length > 128) throw new BerError('bad OID');
  const parts: number[] = [];
  let acc = 0;
  for (const b of v) {
    acc = acc * 128 + (b & 0x7f);
    if (acc > 0xffffffff) throw new BerError('OID arc too large');
    if (!(b & 0x80)) {
      if (parts.length === 0) parts.push(acc < 80 ? Math.floor(acc / 40) : 2, acc < 80 ? acc % 40 : acc - 80);
      else parts.push(acc);
      acc = 0;
    }
  }
  if (v[v.length - 1]! & 0x80) throw new BerError('OID ends inside an arc');
  return parts.join('.');
}

function encLen(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  if (n < 0x100) return Buffer.from([0x81, n]);
  return Buffer.from([0x82, n >> 8, n & 0xff]);
}
export function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), encLen(body.length), body]);
}
export function encInt(n: number, tag = 0x02): Buffer {
  const bytes: number[] = [];
  let v = n;
  do {
    bytes.unshift(((v % 256) + 256) % 256);
    v = Math.floor(v / 256);
  } while (v !== 0 && v !== -1);
  if (n >= 0 && bytes[0]! & 0x80) bytes.unshift(0);
  if (n < 0 && !(bytes[0]! & 0x80)) bytes.unshift(0xff);
  return tlv(tag, Buffer.from(bytes));
}
/** Unsigned application types (Counter32, Gauge32, TimeTicks) */
function encUint(n: number, tag: number): Buffer {
  const bytes: number[] = [];
  let v = n >>> 0;
  do {
    bytes.unshift(v & 0xff);
    v = Math.floor(v / 256);
  } while (v > 0);
  if (bytes[0]! & 0x80) bytes.unshift(0);
  return tlv(tag, Buffer.from(bytes));
}
export function encOid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const out = [parts[0]! * 40 + parts[1]!];
  for (const p of parts.slice(2)) {
    const chunk = [p & 0x7f];
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

function compareOids(a: string, b: string): number {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

type Mib = { oid: string; value: () => Buffer }[];

function buildMib(spec: ServiceOf<'snmp'>, started: number): Mib {
  const s = spec.system;
  const str = (v: string) => () => tlv(0x04, Buffer.from(v, 'utf8'));
  const entries: Mib = [
    { oid: '1.3.6.1.2.1.1.1.0', value: str(s.sysDescr) },
    { oid: '1.3.6.1.2.1.1.2.0', value: () => encOid(s.sysObjectID) },
    { oid: '1.3.6.1.2.1.1.3.0', value: () => encUint(Math.floor((Date.now() - started) / 10), 0x43) },
    { oid: '1.3.6.1.2.1.1.4.0', value: str(s.sysContact) },
    { oid: '1.3.6.1.2.1.1.5.0', value: str(s.sysName) },
    { oid: '1.3.6.1.2.1.1.6.0', value: str(s.sysLocation) },
    { oid: '1.3.6.1.2.1.1.7.0', value: () => encInt(s.sysServices) },
  ];
  for (const o of spec.objects) {
    const v = o.value;
    const value = (): Buffer => {
      switch (o.type) {
        case 'string':
          return tlv(0x04, Buffer.from(String(v), 'utf8'));
        case 'hex':
          return tlv(0x04, Buffer.from(String(v).replace(/[^0-9a-fA-F]/g, ''), 'hex'));
        case 'integer':
          return encInt(Number(v));
        case 'oid':
          return encOid(String(v));
        case 'timeticks':
          return encUint(Number(v), 0x43);
        case 'counter':
          return encUint(Number(v), 0x41);
        case 'gauge':
          return encUint(Number(v), 0x42);
        case 'ipaddress':
          return tlv(0x40, Buffer.from(String(v).split('.').map(Number)));
      }
    };
    entries.push({ oid: o.oid, value });
  }
  return entries.sort((a, b) => compareOids(a.oid, b.oid));
}

export interface SnmpRequest {
  version: 0 | 1;
  community: string;
  pduType: number;
  requestId: number;
  /** GetBulk: non-repeaters and max-repetitions travel in the error fields */
  errorStatus: number;
  errorIndex: number;
  oids: string[];
}

/** Decode a v1/v2c request; anything else (v3, garbage) throws BerError. */
export function parseSnmpRequest(buf: Buffer): SnmpRequest {
  const { tlv: msg } = readTlv(buf, 0);
  if (msg.tag !== 0x30) throw new BerError('not a SEQUENCE');
  const [ver, comm, pdu] = readAll(msg.value);
  if (!ver || !comm || !pdu || ver.tag !== 0x02 || comm.tag !== 0x04) throw new BerError('not an SNMP message');
  const version = decodeInt(ver.value);
  if (version !== 0 && version !== 1) throw new BerError(`SNMP version ${version} not served`);
  const [rid, es, ei, vbl] = readAll(pdu.value);
  if (!rid || !es || !ei || !vbl || rid.tag !== 0x02 || vbl.tag !== 0x30) throw new BerError('bad PDU');
  const oids = readAll(vbl.value).map((vb) => {
    const [name] = readAll(vb.value);
    if (vb.tag !== 0x30 || !name || name.tag !== 0x06) throw new BerError('bad varbind');
    return decodeOid(name.value);
  });
  if (oids.length > 128) throw new BerError('too many varbinds');
  return {
    version,
    community: comm.value.toString('latin1'),
    pduType: pdu.tag,
    requestId: decodeInt(rid.value),
    errorStatus: decodeInt(es.value),
    errorIndex: decodeInt(ei.value),
    oids,
  };
}

const GET = 0xa0;
const GETNEXT = 0xa1;
const SET = 0xa3;
const GETBULK = 0xa5;

/** The answer to a request, or null when a real agent would stay silent. */
export function answerSnmp(spec: ServiceOf<'snmp'>, mib: Mib, req: SnmpRequest): Buffer | null {
  const community = spec.communities.find((c) => c.name === req.community);
  if (!community) return null;
  if (req.pduType === GETBULK && req.version === 0) return null;
  if (![GET, GETNEXT, SET, GETBULK].includes(req.pduType)) return null;
  const v1 = req.version === 0;
  let errorStatus = 0;
  let errorIndex = 0;
  const varbinds: Buffer[] = [];
  const vb = (oid: string, value: Buffer) => varbinds.push(tlv(0x30, encOid(oid), value));
  const next = (oid: string) => mib.find((e) => compareOids(e.oid, oid) > 0);

  if (req.pduType === SET) {
    // nothing is writable: v1 says noSuchName, v2c notWritable (read-only community: noAccess)
    errorStatus = v1 ? 2 : community.access === 'rw' ? 17 : 6;
    errorIndex = 1;
    for (const oid of req.oids) vb(oid, tlv(0x05));
  } else if (req.pduType === GETBULK) {
    const nonRep = Math.max(0, Math.min(req.errorStatus, req.oids.length));
    const maxRep = Math.max(0, Math.min(req.errorIndex, 32));
    req.oids.slice(0, nonRep).forEach((oid) => {
      const e = next(oid);
      vb(e ? e.oid : oid, e ? e.value() : Buffer.from([0x82, 0]));
    });
    const cursors = req.oids.slice(nonRep);
    for (let r = 0; r < maxRep && cursors.length; r++) {
      cursors.forEach((oid, i) => {
        const e = next(oid);
        vb(e ? e.oid : oid, e ? e.value() : Buffer.from([0x82, 0]));
        if (e) cursors[i] = e.oid;
      });
    }
  } else {
    req.oids.forEach((oid, i) => {
      const e = req.pduType === GET ? mib.find((m) => m.oid === oid) : next(oid);
      if (e) vb(e.oid, e.value());
      else if (v1) {
        if (!errorStatus) {
          errorStatus = 2;
          errorIndex = i + 1;
        }
        vb(oid, tlv(0x05));
      } else vb(oid, Buffer.from(req.pduType === GET ? [0x80, 0] : [0x82, 0]));
    });
  }
  const pdu = tlv(0xa2, encInt(req.requestId), encInt(errorStatus), encInt(errorIndex), tlv(0x30, ...varbinds));
  return tlv(0x30, encInt(req.version), tlv(0x04, Buffer.from(req.community, 'latin1')), pdu);
}

export async function startSnmp(spec: ServiceOf<'snmp'>, ctx: ServiceContext): Promise<RunningService> {
  const mib = buildMib(spec, Date.now());
  const socket = dgram.createSocket('udp4');
  socket.on('message', (msg, rinfo) => {
    if (msg.length > 4096) return;
    let req: SnmpRequest;
    try {
      req = parseSnmpRequest(msg);
    } catch {
      return;
    }
    const answer = answerSnmp(spec, mib, req);
    // a v1 response over 484 bytes may be refused by old managers; ours are small, a bulk reply is capped above
    if (answer) socket.send(answer, rinfo.port, rinfo.address);
  });
  return bindUdp(socket, ctx);
}

export { buildMib };
