// Stage: probes, MQTT and MQTT over TLS. A CONNECT without credentials: the CONNACK code tells whether the broker
// lets anyone in. Only when it does, a short read of $SYS/broker/version and of the retained topic names on "#"
// (names only, capped), then DISCONNECT. Nothing is ever published.
import { randomBytes } from 'node:crypto';
import { bytesToText } from '../../core/bytes.ts';
import type { MqttData } from '../../core/fields.ts';
import type { Conn } from '../../scan/conn.ts';
import { type Probe, type ProbeContext, ProbeError, type ProbeResult } from '../../scan/probe.ts';
import {
  MQTT_LIMITS,
  MQTT_V31,
  MQTT_V311,
  MQTT_V5,
  type MqttLevel,
  PACKET,
  type RawPacket,
  decodePacket,
  encodeConnect,
  encodeDisconnect,
  encodeSubscribe,
  isUnsupportedLevel,
  looksLikeConnack,
  parseConnack,
  parsePublish,
  parseSuback,
} from './codec.ts';

const RAW_CAP = 2048;
const VERSION_TOPIC = '$SYS/broker/version';
/** how long retained messages are read after SUBSCRIBE, at most */
const LISTEN_MS = 1000;
/** after the last message, how long a quiet broker is given before we stop listening */
const QUIET_MS = 300;
const MAX_TOPICS = 20;
const MAX_MESSAGES = 200;
/** v3.1.1 first; a broker that refuses the level gets one try each with 3.1 (old brokers) and 5 (v5-only ones) */
const LEVELS: readonly MqttLevel[] = [MQTT_V311, MQTT_V31, MQTT_V5];
/** CONNACK codes that mean "credentials needed" (v3 4/5, v5 0x86/0x87) */
const AUTH_REFUSED = new Set([4, 5, 0x86, 0x87]);

export const mqttProbe: Probe = {
  name: 'mqtt',
  transport: 'tcp',
  defaultPorts: [1883],
  scan: (ctx) => scanMqtt(ctx, false),
};

export const mqttsProbe: Probe = {
  name: 'mqtts',
  transport: 'tcp',
  defaultPorts: [8883],
  tls: true,
  scan: (ctx) => scanMqtt(ctx, true),
};

export function clientId(): string {
  return `iotscope-${randomBytes(2).toString('hex')}`;
}

function foreign(bytes: Uint8Array, error: string): ProbeResult {
  return { status: 'protocol-error', data: {}, raw: Buffer.from(bytes.subarray(0, RAW_CAP)), error };
}

async function scanMqtt(ctx: ProbeContext, useTls: boolean): Promise<ProbeResult> {
  const dial = () => ctx.connect(useTls ? { tls: true } : {});
  let conn: Conn = await dial();
  const opened: Conn[] = [conn];
  try {
    // Brokers wait for the client: a service that greeted us is something else.
    if (conn.buffered.length) return foreign(conn.buffered, 'the service spoke first; an MQTT broker waits for CONNECT');
    for (let i = 0; i < LEVELS.length; i++) {
      const level = LEVELS[i]!;
      if (i > 0) {
        conn.close();
        conn = await dial();
        opened.push(conn);
      }
      await conn.write(encodeConnect({ level, clientId: clientId() }));
      await conn.readUntil((b) => looksLikeConnack(b) !== 'maybe');
      if (looksLikeConnack(conn.buffered) !== 'yes') return foreign(conn.buffered, 'the answer to CONNECT is not a CONNACK');
      const d = decodePacket(conn.buffered);
      if (d.kind !== 'ok') return foreign(conn.buffered, 'the answer to CONNECT is not a CONNACK');
      const raw = conn.take(d.consumed);
      const ack = parseConnack(d.packet);
      if ('error' in ack) return foreign(raw, ack.error);
      if (isUnsupportedLevel(ack.code) && i < LEVELS.length - 1) continue;

      const data: MqttData = { connackCode: ack.code, protocolVersion: level };
      if (conn.tlsInfo) data.tls = conn.tlsInfo;
      if (ack.code === 0) {
        data.anonymous = true;
        await listen(conn, level, data);
        try {
          await conn.write(encodeDisconnect());
        } catch {
          // the broker may already have closed; the facts are in
        }
      } else if (AUTH_REFUSED.has(ack.code)) {
        data.anonymous = false;
      }
      return { status: 'success', protocol: useTls ? 'mqtts' : 'mqtt', data: data as Record<string, unknown>, raw: raw.subarray(0, RAW_CAP) };
    }
    throw new ProbeError('application-error', 'the broker refused every protocol level');
  } finally {
    for (const c of opened) c.close();
  }
}

/** Next complete packet within ms, or null (timeout, close, or bytes that are not a packet). */
async function nextPacket(conn: Conn, ms: number): Promise<RawPacket | null> {
  if (ms <= 0) return null;
  try {
    await conn.readUntil((b) => decodePacket(b).kind !== 'need-more', ms);
  } catch {
    return null;
  }
  const d = decodePacket(conn.buffered);
  if (d.kind !== 'ok') return null;
  conn.take(d.consumed);
  return d.packet;
}

/** Subscribe to the version topic and "#", and note what the broker hands out within the listening window. */
async function listen(conn: Conn, level: MqttLevel, data: MqttData): Promise<void> {
  const packetId = 1 + (randomBytes(2).readUInt16BE(0) % 0xfffe);
  try {
    await conn.write(encodeSubscribe(packetId, [VERSION_TOPIC, '#'], level));
  } catch {
    return;
  }
  const end = Date.now() + LISTEN_MS;
  const topics = new Set<string>();
  let subscribed = false;
  for (let n = 0; n < MAX_MESSAGES; n++) {
    const left = end - Date.now();
    const p = await nextPacket(conn, subscribed ? Math.min(left, QUIET_MS) : left);
    if (!p) break;
    if (p.type === PACKET.SUBACK) {
      const s = parseSuback(p, level);
      if (!('error' in s) && s.packetId === packetId) subscribed = true;
      continue;
    }
    if (p.type !== PACKET.PUBLISH) continue;
    const msg = parsePublish(p, level);
    if ('error' in msg) continue;
    if (msg.topic === VERSION_TOPIC) data.brokerVersion = bytesToText(msg.payload, MQTT_LIMITS.payloadChars).trim();
    else if (topics.size < MAX_TOPICS) topics.add(msg.topic.slice(0, MQTT_LIMITS.topicChars));
    if (data.brokerVersion !== undefined && topics.size >= MAX_TOPICS) break;
  }
  if (topics.size) data.topics = [...topics].sort();
}
