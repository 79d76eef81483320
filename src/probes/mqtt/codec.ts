// Stage: probes (mqtt). The MQTT 3.1, 3.1.1 and 5 control packets the probe needs, as pure functions: the CONNECT,
// SUBSCRIBE and DISCONNECT we send, and a tolerant, size-capped decoder for what a broker (or anything else on the
// port) sends back. No I/O here.

/** protocol levels as they appear in CONNECT */
export const MQTT_V31 = 3;
export const MQTT_V311 = 4;
export const MQTT_V5 = 5;
export type MqttLevel = typeof MQTT_V31 | typeof MQTT_V311 | typeof MQTT_V5;

export const PACKET = { CONNECT: 1, CONNACK: 2, PUBLISH: 3, PUBACK: 4, SUBSCRIBE: 8, SUBACK: 9, PINGRESP: 13, DISCONNECT: 14, AUTH: 15 } as const;

export const MQTT_LIMITS = {
  /** a broker's answer to a probe is small; anything larger is cut off (retained payloads are not kept anyway) */
  maxPacketBytes: 64 * 1024,
  topicChars: 256,
  payloadChars: 256,
};

function utf8String(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  const out = Buffer.alloc(2 + b.length);
  out.writeUInt16BE(b.length, 0);
  b.copy(out, 2);
  return out;
}

/** The variable-length "remaining length" of the fixed header (1–4 bytes, 7 bits each). */
export function encodeRemainingLength(n: number): Buffer {
  if (!Number.isInteger(n) || n < 0 || n > 268_435_455) throw new RangeError(`remaining length ${n} out of range`);
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return Buffer.from(out);
}

function packet(typeAndFlags: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([typeAndFlags]), encodeRemainingLength(body.length), body]);
}

export interface ConnectOptions {
  level: MqttLevel;
  clientId: string;
  keepAliveSeconds?: number;
}

/** CONNECT without credentials, clean session. */
export function encodeConnect(o: ConnectOptions): Buffer {
  const name = o.level === MQTT_V31 ? 'MQIsdp' : 'MQTT';
  const flags = 0x02; // clean session / clean start; no will, no user name, no password
  const head = Buffer.concat([utf8String(name), Buffer.from([o.level, flags, 0, 0])]);
  head.writeUInt16BE(o.keepAliveSeconds ?? 30, head.length - 2);
  const props = o.level === MQTT_V5 ? Buffer.from([0]) : Buffer.alloc(0);
  return packet(PACKET.CONNECT << 4, Buffer.concat([head, props, utf8String(o.clientId)]));
}

/** SUBSCRIBE at QoS 0 to the given filters. */
export function encodeSubscribe(packetId: number, filters: readonly string[], level: MqttLevel): Buffer {
  const id = Buffer.alloc(2);
  id.writeUInt16BE(packetId & 0xffff, 0);
  const parts: Buffer[] = [id];
  if (level === MQTT_V5) parts.push(Buffer.from([0]));
  for (const f of filters) parts.push(utf8String(f), Buffer.from([0]));
  return packet((PACKET.SUBSCRIBE << 4) | 0x02, Buffer.concat(parts));
}

export function encodeDisconnect(): Buffer {
  return Buffer.from([PACKET.DISCONNECT << 4, 0]);
}

export interface RawPacket {
  type: number;
  flags: number;
  body: Buffer;
}

export type DecodeResult = { kind: 'ok'; packet: RawPacket; consumed: number } | { kind: 'need-more' } | { kind: 'error'; reason: string };

/** Split the next control packet off the front of `buf`. */
export function decodePacket(buf: Uint8Array, maxPacketBytes = MQTT_LIMITS.maxPacketBytes): DecodeResult {
  if (buf.length < 1) return { kind: 'need-more' };
  const first = buf[0]!;
  const type = first >> 4;
  if (type === 0) return { kind: 'error', reason: 'packet type 0 is reserved' };
  let length = 0;
  let mult = 1;
  let i = 1;
  for (;;) {
    if (i > 4) return { kind: 'error', reason: 'remaining length longer than 4 bytes' };
    const b = buf[i];
    if (b === undefined) return { kind: 'need-more' };
    length += (b & 0x7f) * mult;
    mult *= 128;
    i++;
    if ((b & 0x80) === 0) break;
  }
  if (length > maxPacketBytes) return { kind: 'error', reason: `packet of ${length} bytes exceeds the ${maxPacketBytes}-byte cap` };
  if (buf.length < i + length) return { kind: 'need-more' };
  return { kind: 'ok', packet: { type, flags: first & 0x0f, body: Buffer.from(buf.subarray(i, i + length)) }, consumed: i + length };
}

export interface Connack {
  sessionPresent: boolean;
  /** v3 return code or v5 reason code */
  code: number;
}

export function parseConnack(p: RawPacket): Connack | { error: string } {
  if (p.type !== PACKET.CONNACK) return { error: `expected CONNACK, got packet type ${p.type}` };
  if (p.flags !== 0) return { error: 'CONNACK with non-zero flags' };
  if (p.body.length < 2) return { error: 'CONNACK shorter than 2 bytes' };
  const ack = p.body[0]!;
  if (ack & 0xfe) return { error: 'CONNACK acknowledge flags has reserved bits set' };
  return { sessionPresent: (ack & 1) === 1, code: p.body[1]! };
}

/**
 * Does this first answer look like a broker's? A CONNACK with sane flags and length (2 for v3, a few more with v5
 * properties). Anything else on an MQTT port is another protocol.
 */
export function looksLikeConnack(buf: Uint8Array): 'yes' | 'no' | 'maybe' {
  if (buf.length === 0) return 'maybe';
  if (buf[0] !== PACKET.CONNACK << 4) return 'no';
  const d = decodePacket(buf, 4096);
  if (d.kind === 'error') return 'no';
  if (d.kind === 'need-more') return buf.length < 6 ? 'maybe' : 'no';
  return 'error' in parseConnack(d.packet) ? 'no' : 'yes';
}

/** A v3.1.1 CONNACK code (1) or v5 reason code (0x84) saying the broker does not speak the level we asked for. */
export function isUnsupportedLevel(code: number): boolean {
  return code === 1 || code === 0x84;
}

/** A v5 variable-byte integer at `at`: value and the offset after it, or null when malformed. */
function varInt(b: Buffer, at: number): { value: number; next: number } | null {
  let v = 0;
  let mult = 1;
  for (let k = 0; k < 4; k++) {
    const byte = b[at + k];
    if (byte === undefined) return null;
    v += (byte & 0x7f) * mult;
    mult *= 128;
    if ((byte & 0x80) === 0) return { value: v, next: at + k + 1 };
  }
  return null;
}

export interface Publish {
  topic: string;
  retain: boolean;
  qos: number;
  payload: Buffer;
}

export function parsePublish(p: RawPacket, level: MqttLevel): Publish | { error: string } {
  if (p.type !== PACKET.PUBLISH) return { error: `expected PUBLISH, got packet type ${p.type}` };
  const qos = (p.flags >> 1) & 3;
  if (qos === 3) return { error: 'PUBLISH with QoS 3' };
  const b = p.body;
  if (b.length < 2) return { error: 'PUBLISH without a topic' };
  const tlen = b.readUInt16BE(0);
  let at = 2 + tlen;
  if (at > b.length) return { error: 'PUBLISH topic runs past the packet' };
  const topic = b.subarray(2, at).toString('utf8');
  if (qos > 0) at += 2;
  if (level === MQTT_V5) {
    const props = varInt(b, at);
    if (!props) return { error: 'PUBLISH properties length malformed' };
    at = props.next + props.value;
  }
  if (at > b.length) return { error: 'PUBLISH header runs past the packet' };
  return { topic, retain: (p.flags & 1) === 1, qos, payload: b.subarray(at) };
}

/** SUBACK: packet id and one granted QoS (or failure code) per filter. */
export function parseSuback(p: RawPacket, level: MqttLevel): { packetId: number; codes: number[] } | { error: string } {
  if (p.type !== PACKET.SUBACK) return { error: `expected SUBACK, got packet type ${p.type}` };
  if (p.body.length < 3) return { error: 'SUBACK too short' };
  let at = 2;
  if (level === MQTT_V5) {
    const props = varInt(p.body, at);
    if (!props) return { error: 'SUBACK properties length malformed' };
    at = props.next + props.value;
    if (at > p.body.length) return { error: 'SUBACK properties run past the packet' };
  }
  return { packetId: p.body.readUInt16BE(0), codes: [...p.body.subarray(at)] };
}
