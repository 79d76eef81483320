// Stage: probes (snmp). BER as SNMP v1/v2c uses it, by hand and as pure functions: the GetRequest we send and a
// bounded decoder for the message an agent returns (definite lengths only, capped nesting and element counts), so a
// hostile datagram yields a typed error, never a crash or a hang.

export const TAG = {
  INTEGER: 0x02,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  SEQUENCE: 0x30,
  IP_ADDRESS: 0x40,
  COUNTER32: 0x41,
  GAUGE32: 0x42,
  TIMETICKS: 0x43,
  OPAQUE: 0x44,
  COUNTER64: 0x46,
  NO_SUCH_OBJECT: 0x80,
  NO_SUCH_INSTANCE: 0x81,
  END_OF_MIB_VIEW: 0x82,
  GET_REQUEST: 0xa0,
  GET_NEXT_REQUEST: 0xa1,
  GET_RESPONSE: 0xa2,
  SET_REQUEST: 0xa3,
  TRAP_V1: 0xa4,
  GET_BULK_REQUEST: 0xa5,
  INFORM_REQUEST: 0xa6,
  TRAP_V2: 0xa7,
  REPORT: 0xa8,
} as const;

export const SNMP_V1 = 0;
export const SNMP_V2C = 1;

export const SYSTEM_OIDS = {
  sysDescr: '1.3.6.1.2.1.1.1.0',
  sysObjectID: '1.3.6.1.2.1.1.2.0',
  sysUpTime: '1.3.6.1.2.1.1.3.0',
  sysContact: '1.3.6.1.2.1.1.4.0',
  sysName: '1.3.6.1.2.1.1.5.0',
  sysLocation: '1.3.6.1.2.1.1.6.0',
} as const;

export const BER_LIMITS = {
  maxDepth: 8,
  maxElements: 512,
  maxOidArcs: 128,
};

/** The only error the decoder produces. */
export class BerError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'BerError';
  }
}

// ───────────────────────────── encoding ─────────────────────────────

export function encodeLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  while (n > 0) {
    bytes.unshift(n & 0xff);
    n = Math.floor(n / 256);
  }
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function tlv(tag: number, value: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([tag]), encodeLength(value.length), value]);
}

/** Minimal two's-complement INTEGER content. */
export function encodeIntegerContent(v: number | bigint): Buffer {
  let n = BigInt(v);
  const bytes: number[] = [];
  for (;;) {
    const b = Number(n & 0xffn);
    bytes.unshift(b);
    n >>= 8n;
    if ((n === 0n && (b & 0x80) === 0) || (n === -1n && (b & 0x80) !== 0)) break;
  }
  return Buffer.from(bytes);
}

export function encodeInteger(v: number | bigint, tag: number = TAG.INTEGER): Buffer {
  return tlv(tag, encodeIntegerContent(v));
}

export function encodeOid(oid: string): Buffer {
  const arcs = oid.replace(/^\./, '').split('.').map((a) => {
    if (!/^\d+$/.test(a)) throw new RangeError(`bad OID arc ${JSON.stringify(a)}`);
    return BigInt(a);
  });
  if (arcs.length < 2 || arcs[0]! > 2n || (arcs[0]! < 2n && arcs[1]! > 39n)) throw new RangeError(`bad OID ${oid}`);
  const subs = [arcs[0]! * 40n + arcs[1]!, ...arcs.slice(2)];
  const out: number[] = [];
  for (const s of subs) {
    const chunk: number[] = [Number(s & 0x7fn)];
    let rest = s >> 7n;
    while (rest > 0n) {
      chunk.unshift(Number(rest & 0x7fn) | 0x80);
      rest >>= 7n;
    }
    out.push(...chunk);
  }
  return tlv(TAG.OID, Buffer.from(out));
}

export interface GetRequest {
  version: typeof SNMP_V1 | typeof SNMP_V2C;
  community: string;
  requestId: number;
  oids: readonly string[];
}

export function encodeGetRequest(r: GetRequest): Buffer {
  return encodeMessage({
    version: r.version,
    community: Buffer.from(r.community, 'latin1'),
    pduType: TAG.GET_REQUEST,
    requestId: r.requestId,
    errorStatus: 0,
    errorIndex: 0,
    varbinds: r.oids.map((oid) => ({ oid, value: { type: 'null' } })),
  });
}

export function encodeValue(v: SnmpValue): Buffer {
  switch (v.type) {
    case 'integer':
      return encodeInteger(v.value);
    case 'string':
      return tlv(TAG.OCTET_STRING, v.value);
    case 'null':
      return tlv(TAG.NULL, Buffer.alloc(0));
    case 'oid':
      return encodeOid(v.value);
    case 'ipaddress':
      return tlv(TAG.IP_ADDRESS, Buffer.from(v.value.split('.').map(Number)));
    case 'counter32':
    case 'gauge32':
    case 'timeticks':
    case 'counter64': {
      const tag = { counter32: TAG.COUNTER32, gauge32: TAG.GAUGE32, timeticks: TAG.TIMETICKS, counter64: TAG.COUNTER64 }[v.type];
      // unsigned: a leading 0x00 keeps a set top bit from reading as a sign
      return tlv(tag, encodeIntegerContent(BigInt(v.value)));
    }
    case 'opaque':
      return tlv(TAG.OPAQUE, v.value);
    case 'noSuchObject':
      return tlv(TAG.NO_SUCH_OBJECT, Buffer.alloc(0));
    case 'noSuchInstance':
      return tlv(TAG.NO_SUCH_INSTANCE, Buffer.alloc(0));
    case 'endOfMibView':
      return tlv(TAG.END_OF_MIB_VIEW, Buffer.alloc(0));
    case 'unknown':
      return tlv(v.tag, v.value);
  }
}

/** Any v1/v2c message with the request/response PDU layout (requests here, responses in tests and the lab). */
export function encodeMessage(m: SnmpMessage): Buffer {
  const varbinds = tlv(TAG.SEQUENCE, Buffer.concat(m.varbinds.map((vb) => tlv(TAG.SEQUENCE, Buffer.concat([encodeOid(vb.oid), encodeValue(vb.value)])))));
  const pdu = tlv(m.pduType, Buffer.concat([encodeInteger(m.requestId), encodeInteger(m.errorStatus), encodeInteger(m.errorIndex), varbinds]));
  return tlv(TAG.SEQUENCE, Buffer.concat([encodeInteger(m.version), tlv(TAG.OCTET_STRING, m.community), pdu]));
}

// ───────────────────────────── decoding ─────────────────────────────

export interface BerNode {
  tag: number;
  /** content bytes (for primitives) */
  value: Buffer;
  /** decoded children (for constructed encodings) */
  children?: BerNode[];
  /** offset of the tag byte in the buffer given to decodeBer */
  offset: number;
}

interface Budget {
  elements: number;
}

function readHeader(buf: Buffer, at: number, end: number): { tag: number; start: number; length: number } {
  if (at >= end) throw new BerError('expected a tag, found the end', at);
  const tag = buf[at]!;
  // multi-byte tags never occur in SNMP
  if ((tag & 0x1f) === 0x1f) throw new BerError(`multi-byte tag 0x${tag.toString(16)}`, at);
  let p = at + 1;
  if (p >= end) throw new BerError('length missing', p);
  const first = buf[p++]!;
  let length: number;
  if (first < 0x80) length = first;
  else {
    const n = first & 0x7f;
    if (n === 0) throw new BerError('indefinite length is not allowed in SNMP', p - 1);
    if (n > 4) throw new BerError(`length of ${n} bytes`, p - 1);
    if (p + n > end) throw new BerError('length runs past the end', p);
    length = 0;
    for (let k = 0; k < n; k++) length = length * 256 + buf[p++]!;
  }
  if (p + length > end) throw new BerError(`element of ${length} bytes runs past the end`, at);
  return { tag, start: p, length };
}

function decodeRange(buf: Buffer, at: number, end: number, depth: number, budget: Budget): BerNode[] {
  const out: BerNode[] = [];
  while (at < end) {
    if (++budget.elements > BER_LIMITS.maxElements) throw new BerError(`more than ${BER_LIMITS.maxElements} elements`, at);
    const h = readHeader(buf, at, end);
    const value = buf.subarray(h.start, h.start + h.length);
    const node: BerNode = { tag: h.tag, value, offset: at };
    if (h.tag & 0x20) {
      if (depth >= BER_LIMITS.maxDepth) throw new BerError(`nesting deeper than ${BER_LIMITS.maxDepth}`, at);
      node.children = decodeRange(buf, h.start, h.start + h.length, depth + 1, budget);
    }
    out.push(node);
    at = h.start + h.length;
  }
  return out;
}

/** Decode one BER element (and everything inside it). Trailing bytes are an error. */
export function decodeBer(input: Uint8Array): BerNode {
  const buf = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  const h = readHeader(buf, 0, buf.length);
  if (h.start + h.length !== buf.length) throw new BerError('trailing bytes after the message', h.start + h.length);
  const nodes = decodeRange(buf, 0, buf.length, 0, { elements: 0 });
  return nodes[0]!;
}

export function decodeInteger(n: BerNode): number | bigint {
  if (n.value.length === 0) throw new BerError('empty INTEGER', n.offset);
  if (n.value.length > 9) throw new BerError('INTEGER longer than 9 bytes', n.offset);
  let v = BigInt.asIntN(8, BigInt(n.value[0]!));
  for (let k = 1; k < n.value.length; k++) v = (v << 8n) | BigInt(n.value[k]!);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** Unsigned application integers (Counter32, Gauge32, TimeTicks, Counter64): the sign bit is not a sign. */
export function decodeUnsigned(n: BerNode): number | bigint {
  if (n.value.length === 0) throw new BerError('empty unsigned integer', n.offset);
  if (n.value.length > 9) throw new BerError('unsigned integer longer than 9 bytes', n.offset);
  let v = 0n;
  for (const b of n.value) v = (v << 8n) | BigInt(b);
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

export function decodeOid(n: BerNode): string {
  const v = n.value;
  if (v.length === 0) throw new BerError('empty OID', n.offset);
  const subs: bigint[] = [];
  let cur = 0n;
  let inArc = false;
  for (let k = 0; k < v.length; k++) {
    const b = v[k]!;
    if (!inArc && b === 0x80) throw new BerError('OID arc with a leading 0x80', n.offset);
    cur = (cur << 7n) | BigInt(b & 0x7f);
    inArc = (b & 0x80) !== 0;
    if (!inArc) {
      subs.push(cur);
      cur = 0n;
      if (subs.length > BER_LIMITS.maxOidArcs) throw new BerError('OID with too many arcs', n.offset);
    }
  }
  if (inArc) throw new BerError('OID ends inside an arc', n.offset);
  const first = subs[0]!;
  const head = first < 80n ? [first / 40n, first % 40n] : [2n, first - 80n];
  return [...head, ...subs.slice(1)].join('.');
}

export type SnmpValue =
  | { type: 'integer'; value: number | bigint }
  | { type: 'string'; value: Buffer }
  | { type: 'null' }
  | { type: 'oid'; value: string }
  | { type: 'ipaddress'; value: string }
  | { type: 'counter32' | 'gauge32' | 'timeticks' | 'counter64'; value: number | bigint }
  | { type: 'opaque'; value: Buffer }
  | { type: 'noSuchObject' | 'noSuchInstance' | 'endOfMibView' }
  | { type: 'unknown'; tag: number; value: Buffer };

export function decodeValue(n: BerNode): SnmpValue {
  switch (n.tag) {
    case TAG.INTEGER:
      return { type: 'integer', value: decodeInteger(n) };
    case TAG.OCTET_STRING:
      return { type: 'string', value: Buffer.from(n.value) };
    case TAG.NULL:
      return { type: 'null' };
    case TAG.OID:
      return { type: 'oid', value: decodeOid(n) };
    case TAG.IP_ADDRESS:
      if (n.value.length !== 4) throw new BerError('IpAddress not 4 bytes', n.offset);
      return { type: 'ipaddress', value: [...n.value].join('.') };
    case TAG.COUNTER32:
      return { type: 'counter32', value: decodeUnsigned(n) };
    case TAG.GAUGE32:
      return { type: 'gauge32', value: decodeUnsigned(n) };
    case TAG.TIMETICKS:
      return { type: 'timeticks', value: decodeUnsigned(n) };
    case TAG.COUNTER64:
      return { type: 'counter64', value: decodeUnsigned(n) };
    case TAG.OPAQUE:
      return { type: 'opaque', value: Buffer.from(n.value) };
    case TAG.NO_SUCH_OBJECT:
      return { type: 'noSuchObject' };
    case TAG.NO_SUCH_INSTANCE:
      return { type: 'noSuchInstance' };
    case TAG.END_OF_MIB_VIEW:
      return { type: 'endOfMibView' };
    default:
      return { type: 'unknown', tag: n.tag, value: Buffer.from(n.value) };
  }
}

export interface SnmpMessage {
  version: number;
  community: Buffer;
  pduType: number;
  requestId: number;
  errorStatus: number;
  errorIndex: number;
  varbinds: { oid: string; value: SnmpValue }[];
}

export type DecodeMessageResult = { ok: true; message: SnmpMessage } | { ok: false; error: BerError };

function expect(n: BerNode | undefined, tag: number, what: string, at: number): BerNode {
  if (!n) throw new BerError(`${what} missing`, at);
  if (n.tag !== tag) throw new BerError(`${what}: expected tag 0x${tag.toString(16)}, found 0x${n.tag.toString(16)}`, n.offset);
  return n;
}

function smallInt(n: BerNode, what: string): number {
  const v = decodeInteger(n);
  if (typeof v !== 'number') throw new BerError(`${what} out of range`, n.offset);
  return v;
}

/** Decode an SNMPv1/v2c message (any PDU type with the request layout; v1 traps are refused). */
export function decodeMessage(input: Uint8Array): DecodeMessageResult {
  try {
    const msg = expect(decodeBer(input), TAG.SEQUENCE, 'message', 0);
    const [v, c, p] = msg.children!;
    const version = smallInt(expect(v, TAG.INTEGER, 'version', msg.offset), 'version');
    const community = Buffer.from(expect(c, TAG.OCTET_STRING, 'community', msg.offset).value);
    if (!p || (p.tag & 0xe0) !== 0xa0 || !p.children) throw new BerError('PDU missing', msg.offset);
    if (p.tag === TAG.TRAP_V1) throw new BerError('SNMPv1 trap PDU', p.offset);
    const [rid, es, ei, vbl] = p.children;
    const requestId = smallInt(expect(rid, TAG.INTEGER, 'request-id', p.offset), 'request-id');
    const errorStatus = smallInt(expect(es, TAG.INTEGER, 'error-status', p.offset), 'error-status');
    const errorIndex = smallInt(expect(ei, TAG.INTEGER, 'error-index', p.offset), 'error-index');
    const list = expect(vbl, TAG.SEQUENCE, 'variable-bindings', p.offset);
    const varbinds = list.children!.map((vb) => {
      const seq = expect(vb, TAG.SEQUENCE, 'variable binding', list.offset);
      const [o, val] = seq.children!;
      const oid = decodeOid(expect(o, TAG.OID, 'variable name', seq.offset));
      if (!val) throw new BerError('variable value missing', seq.offset);
      return { oid, value: decodeValue(val) };
    });
    return { ok: true, message: { version, community, pduType: p.tag, requestId, errorStatus, errorIndex, varbinds } };
  } catch (e) {
    if (e instanceof BerError) return { ok: false, error: e };
    // Anything else is a bug in this decoder; surface it as a typed error all the same.
    return { ok: false, error: new BerError(`decoder fault: ${(e as Error).message}`, 0) };
  }
}
