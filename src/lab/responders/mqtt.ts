// Stage: lab. The MQTT broker responder (3.1, 3.1.1 and 5): CONNECT answered with CONNACK (accepted, or the
// profile's refusal code), SUBSCRIBE with SUBACK and the retained messages that match ($SYS/broker/version and
// the device's own topics), PUBLISH acknowledged, PINGREQ, UNSUBSCRIBE and DISCONNECT. Over TLS for mqtts.
import net from 'node:net';
import tls from 'node:tls';
import { makeSelfSignedCert } from '../cert.ts';
import type { MqttServiceSpec } from '../profile.ts';
import { IDLE_MS, type RunningService, type ServiceContext, listenTcp } from './common.ts';

/** Largest packet the broker accepts; a real broker's limit is larger, a lab has no use for more */
const MAX_PACKET = 65_536;

export interface MqttPacket {
  type: number;
  flags: number;
  body: Buffer;
}

export type FrameResult = { packet: MqttPacket; used: number } | { need: true } | { error: string };

/** Cut one packet off the front of buf: fixed header, remaining length (variable byte integer), body. */
export function readPacket(buf: Buffer): FrameResult {
  if (buf.length < 2) return { need: true };
  let len = 0;
  let mult = 1;
  let i = 1;
  for (;;) {
    if (i >= buf.length) return { need: true };
    if (i > 4) return { error: 'remaining length longer than 4 bytes' };
    const b = buf[i]!;
    len += (b & 0x7f) * mult;
    mult *= 128;
    i++;
    if (!(b & 0x80)) break;
  }
  if (len > MAX_PACKET) return { error: `packet of ${len} bytes is over the limit` };
  if (buf.length < i + len) return { need: true };
  return { packet: { type: buf[0]! >> 4, flags: buf[0]! & 0x0f, body: buf.subarray(i, i + len) }, used: i + len };
}

function encodeLength(n: number): Buffer {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}

export function packet(type: number, flags: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([(type << 4) | flags]), encodeLength(body.length), body]);
}

const str = (s: string) => {
  const b = Buffer.from(s, 'utf8');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
};

class Reader {
  constructor(
    private buf: Buffer,
    public pos = 0,
  ) {}
  get left() {
    return this.buf.length - this.pos;
  }
  u8(): number {
    if (this.left < 1) throw new RangeError('truncated');
    return this.buf[this.pos++]!;
  }
  u16(): number {
    if (this.left < 2) throw new RangeError('truncated');
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  bytes(n: number): Buffer {
    if (this.left < n) throw new RangeError('truncated');
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
  binary(): Buffer {
    return this.bytes(this.u16());
  }
  varint(): number {
    let v = 0;
    let mult = 1;
    for (let i = 0; i < 4; i++) {
      const b = this.u8();
      v += (b & 0x7f) * mult;
      if (!(b & 0x80)) return v;
      mult *= 128;
    }
    throw new RangeError('bad variable byte integer');
  }
  /** MQTT 5 properties: skipped, the lab needs none of them */
  skipProperties(): void {
    this.bytes(this.varint());
  }
}

export interface Connect {
  protocolName: string;
  level: number;
  clientId: string;
  username?: string;
  password?: string;
}

export function parseConnect(body: Buffer): Connect {
  const r = new Reader(body);
  const protocolName = r.binary().toString('utf8');
  const level = r.u8();
  if (!((protocolName === 'MQTT' && (level === 4 || level === 5)) || (protocolName === 'MQIsdp' && level === 3)))
    throw new RangeError(`unknown protocol ${protocolName} level ${level}`);
  const flags = r.u8();
  r.u16(); // keep-alive
  if (level === 5) r.skipProperties();
  const clientId = r.binary().toString('utf8');
  if (flags & 0x04) {
    if (level === 5) r.skipProperties();
    r.binary();
    r.binary();
  }
  const c: Connect = { protocolName, level, clientId };
  if (flags & 0x80) c.username = r.binary().toString('utf8');
  if (flags & 0x40) c.password = r.binary().toString('utf8');
  return c;
}

/** MQTT topic filter matching; filters that start with a wildcard do not match $-topics (MQTT 3.1.1 §4.7.2). */
export function topicMatches(filter: string, topic: string): boolean {
  if (topic.startsWith('$') && (filter.startsWith('#') || filter.startsWith('+'))) return false;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** CONNACK refusal codes of MQTT 3.1.1 and their MQTT 5 reason codes */
const V5_REASON: Record<number, number> = { 4: 0x86, 5: 0x87 };

export async function startMqtt(spec: MqttServiceSpec, ctx: ServiceContext): Promise<RunningService> {
  const retained = new Map<string, Buffer>(spec.retained.map((r) => [r.topic, Buffer.from(r.payload, 'utf8')]));

  const session = (socket: net.Socket) => {
    socket.on('error', () => {});
    let pending = Buffer.alloc(0);
    let connected = false;
    let level = 4;
    socket.setTimeout(IDLE_MS, () => socket.destroy());

    const publish = (topic: string, payload: Buffer) => {
      const props = level === 5 ? Buffer.from([0]) : Buffer.alloc(0);
      socket.write(packet(3, 0x01, Buffer.concat([str(topic), props, payload])));
    };

    const onPacket = (p: MqttPacket) => {
      if (!connected) {
        if (p.type !== 1) throw new RangeError('first packet is not CONNECT');
        const c = parseConnect(p.body);
        level = c.level;
        const ok = c.username === undefined ? spec.anonymous : spec.credentials.some((k) => k.user === c.username && k.password === c.password);
        const code = ok ? 0 : c.username === undefined ? spec.refuseCode : 4;
        const body = level === 5 ? Buffer.from([0, ok ? 0 : V5_REASON[code]!, 0]) : Buffer.from([0, code]);
        socket.write(packet(2, 0, body));
        if (!ok) socket.end();
        connected = ok;
        return;
      }
      const r = new Reader(p.body);
      switch (p.type) {
        case 3: {
          // PUBLISH: keep retained messages (bounded), acknowledge QoS 1 and 2
          const qos = (p.flags >> 1) & 3;
          const topic = r.binary().toString('utf8');
          const id = qos > 0 ? r.u16() : 0;
          if (level === 5) r.skipProperties();
          const payload = Buffer.from(p.body.subarray(r.pos));
          if (p.flags & 1 && !topic.startsWith('$') && (retained.has(topic) || retained.size < 256)) {
            if (payload.length) retained.set(topic, payload);
            else retained.delete(topic);
          }
          const idBuf = Buffer.alloc(2);
          idBuf.writeUInt16BE(id);
          if (qos === 1) socket.write(packet(4, 0, idBuf));
          if (qos === 2) socket.write(packet(5, 0, idBuf));
          return;
        }
        case 6: // PUBREL → PUBCOMP
          socket.write(packet(7, 0, p.body.subarray(0, 2)));
          return;
        case 8: {
          const id = r.u16();
          if (level === 5) r.skipProperties();
          const filters: string[] = [];
          while (r.left > 0 && filters.length < 64) {
            filters.push(r.binary().toString('utf8'));
            r.u8();
          }
          if (!filters.length) throw new RangeError('SUBSCRIBE without a topic filter');
          const idBuf = Buffer.alloc(2);
          idBuf.writeUInt16BE(id);
          const props = level === 5 ? Buffer.from([0]) : Buffer.alloc(0);
          socket.write(packet(9, 0, Buffer.concat([idBuf, props, Buffer.from(filters.map(() => 0))])));
          for (const [topic, payload] of retained) if (filters.some((f) => topicMatches(f, topic))) publish(topic, payload);
          return;
        }
        case 10: {
          const id = r.u16();
          if (level === 5) r.skipProperties();
          const idBuf = Buffer.alloc(2);
          idBuf.writeUInt16BE(id);
          let n = 0;
          while (r.left > 0 && n < 64) {
            r.binary();
            n++;
          }
          socket.write(packet(11, 0, level === 5 ? Buffer.concat([idBuf, Buffer.from([0]), Buffer.alloc(n)]) : idBuf));
          return;
        }
        case 12:
          socket.write(packet(13, 0, Buffer.alloc(0)));
          return;
        case 14:
          socket.end();
          return;
        default:
          throw new RangeError(`unexpected packet type ${p.type}`);
      }
    };

    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (!socket.destroyed) {
        const r = readPacket(pending);
        if ('need' in r) break;
        if ('error' in r) {
          socket.destroy();
          return;
        }
        pending = pending.subarray(r.used);
        try {
          onPacket(r.packet);
        } catch {
          // a protocol violation ends the session, as a broker does
          socket.destroy();
          return;
        }
      }
    });
  };

  let server: net.Server;
  if (spec.protocol === 'mqtts') {
    const cert = await makeSelfSignedCert(spec.tls);
    server = tls.createServer({ key: cert.keyPem, cert: cert.certPem, minVersion: 'TLSv1.2', handshakeTimeout: 10_000 }, session);
  } else server = net.createServer(session);
  return listenTcp(server, ctx);
}
