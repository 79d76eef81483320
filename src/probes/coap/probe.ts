// Stage: probes, CoAP. GET /.well-known/core tells what a CoAP device offers (its resources and their attributes).
// Over UDP: a confirmable request with retransmission, separate responses acknowledged, Block2 followed a bounded
// number of times. Over TCP (RFC 8323): CSM first, then the same GET. Read-only: nothing is ever PUT or POSTed.
import { randomBytes, randomInt } from 'node:crypto';
import { bytesToText } from '../../core/bytes.ts';
import type { CoapData } from '../../core/fields.ts';
import type { Conn } from '../../scan/conn.ts';
import { type Probe, type ProbeContext, ProbeError, type ProbeResult } from '../../scan/probe.ts';
import type { UdpChannel } from '../../scan/udp.ts';
import {
  type Block,
  CODE,
  type CoapMessage,
  OPTION,
  TYPE,
  blockOption,
  codeString,
  decodeBlock,
  decodeTcpFrame,
  decodeUdpMessage,
  encodeTcpMessage,
  encodeUdpMessage,
  isCsmGreeting,
  parseLinkFormat,
  uriPathOptions,
} from './codec.ts';

const RAW_CAP = 2048;
const WELL_KNOWN = '/.well-known/core';
/** Block2 pages followed at most, and the document size kept */
const MAX_BLOCKS = 16;
const MAX_DOCUMENT = 16 * 1024;
/** frames read on one TCP connection before giving up on our answer */
const MAX_TCP_FRAMES = 16;

export const coapProbe: Probe = {
  name: 'coap',
  transport: 'udp',
  defaultPorts: [5683],
  scan: scanCoapUdp,
};

export const coapTcpProbe: Probe = {
  name: 'coap-tcp',
  transport: 'tcp',
  defaultPorts: [5683],
  // A CoAP-over-TCP server may send its CSM as soon as the connection opens.
  recognizes: (banner) => isCsmGreeting(banner),
  scan: scanCoapTcp,
};

function getRequest(block: Block | null): CoapMessage['options'] {
  const options = uriPathOptions(WELL_KNOWN);
  if (block) options.push(blockOption(OPTION.BLOCK2, block));
  return options;
}

function finish(code: number, body: Buffer[], raw: Buffer, protocol: string): ProbeResult {
  const data: CoapData = { code: codeString(code) };
  if (code === CODE.CONTENT) data.resources = parseLinkFormat(bytesToText(Buffer.concat(body), MAX_DOCUMENT));
  return { status: 'success', protocol, data: data as Record<string, unknown>, raw: raw.subarray(0, RAW_CAP) };
}

/** Where the next Block2 page starts, or null when the document is complete (or the caps are reached). */
function nextBlock(m: CoapMessage, page: number, bodyBytes: number): Block | null {
  const opt = m.options.find((o) => o.number === OPTION.BLOCK2);
  if (!opt) return null;
  const b = decodeBlock(opt.value);
  if (!b || !b.more || page + 1 >= MAX_BLOCKS || bodyBytes >= MAX_DOCUMENT) return null;
  return { num: b.num + 1, more: false, szx: b.szx };
}

// ───────────────────────────── UDP ─────────────────────────────

async function scanCoapUdp(ctx: ProbeContext): Promise<ProbeResult> {
  const ch = await ctx.udp();
  try {
    const token = randomBytes(4);
    let messageId = randomInt(0, 0x10000);
    const tries = 1 + ctx.udpRetries;
    const perTry = Math.max(300, Math.floor(ctx.timeoutMs / tries));
    const body: Buffer[] = [];
    let raw: Buffer | null = null;
    let block: Block | null = null;
    let bodyBytes = 0;
    for (let page = 0; page < MAX_BLOCKS; page++) {
      const mid = messageId++ & 0xffff;
      let foreign: Buffer | null = null;
      const request = encodeUdpMessage({ type: TYPE.CON, code: CODE.GET, messageId: mid, token, options: getRequest(block), payload: Buffer.alloc(0) });
      let answer: Buffer;
      try {
        answer = await ch.request(request, {
          retries: ctx.udpRetries,
          timeoutMs: perTry,
          accept: (b) => {
            const d = decodeUdpMessage(b);
            if (!d.ok) {
              foreign ??= Buffer.from(b.subarray(0, RAW_CAP));
              return false;
            }
            return isOurs(d.message, mid, token);
          },
        });
      } catch (e) {
        if (!(e instanceof ProbeError) || e.status !== 'io-timeout') throw e;
        if (foreign) return { status: 'protocol-error', data: {}, raw: foreign, error: 'the answer is not a CoAP message' };
        throw e;
      }
      raw ??= answer;
      let m = (decodeUdpMessage(answer) as { ok: true; message: CoapMessage }).message;
      if (m.type === TYPE.RST) return { status: 'success', protocol: 'coap', data: { code: codeString(m.code) }, raw: raw.subarray(0, RAW_CAP) };
      if (m.type === TYPE.ACK && m.code === CODE.EMPTY) {
        // Separate response (RFC 7252 §5.2.2): the answer comes later in its own message, with our token.
        const later = await separateResponse(ch, token, ctx.timeoutMs);
        if (!later) throw new ProbeError('io-timeout', 'the separate CoAP response never came');
        m = later;
      }
      if (m.code !== CODE.CONTENT) return finish(m.code, [], raw, 'coap');
      body.push(m.payload);
      bodyBytes += m.payload.length;
      block = nextBlock(m, page, bodyBytes);
      if (!block) break;
    }
    return finish(CODE.CONTENT, body, raw!, 'coap');
  } finally {
    ch.close();
  }
}

function isOurs(m: CoapMessage, mid: number, token: Buffer): boolean {
  if ((m.type === TYPE.ACK || m.type === TYPE.RST) && m.messageId === mid) return true;
  return (m.type === TYPE.CON || m.type === TYPE.NON) && m.code >= 0x40 && m.token.equals(token);
}

async function separateResponse(ch: UdpChannel, token: Buffer, timeoutMs: number): Promise<CoapMessage | null> {
  const end = Date.now() + timeoutMs;
  for (let n = 0; n < 16; n++) {
    const left = end - Date.now();
    if (left <= 0) return null;
    const b = await ch.receive(left);
    if (!b) return null;
    const d = decodeUdpMessage(b);
    if (!d.ok || d.message.code < 0x40 || !d.message.token.equals(token)) continue;
    if (d.message.type === TYPE.CON) await ch.send(encodeUdpMessage({ type: TYPE.ACK, code: CODE.EMPTY, messageId: d.message.messageId, token: Buffer.alloc(0), options: [], payload: Buffer.alloc(0) }));
    return d.message;
  }
  return null;
}

// ───────────────────────────── TCP (RFC 8323) ─────────────────────────────

async function scanCoapTcp(ctx: ProbeContext): Promise<ProbeResult> {
  const conn = await ctx.connect();
  try {
    const greeting = conn.buffered;
    if (greeting.length) {
      const f = decodeTcpFrame(greeting);
      if (f.kind === 'error' || (f.kind === 'ok' && f.message.code !== CODE.CSM))
        return { status: 'protocol-error', data: {}, raw: Buffer.from(greeting.subarray(0, RAW_CAP)), error: 'the greeting is not a CoAP CSM' };
    }
    const token = randomBytes(4);
    const csm = encodeTcpMessage({ code: CODE.CSM, token: Buffer.alloc(0), options: [], payload: Buffer.alloc(0) });
    await conn.write(Buffer.concat([csm, encodeTcpMessage({ code: CODE.GET, token, options: getRequest(null), payload: Buffer.alloc(0) })]));
    const end = Date.now() + 2 * ctx.timeoutMs;
    let sawCsm = false;
    let raw: Buffer | null = null;
    const body: Buffer[] = [];
    let bodyBytes = 0;
    let page = 0;
    for (let n = 0; n < MAX_TCP_FRAMES; n++) {
      const frame = await nextFrame(conn, Math.min(ctx.timeoutMs, end - Date.now()));
      if (frame.kind === 'foreign') return { status: 'protocol-error', data: {}, raw: frame.raw, error: frame.reason };
      raw ??= frame.bytes;
      const m = frame.message;
      // RFC 8323 §5.3: a server's first message is its CSM; anything else first is another protocol.
      if (!sawCsm) {
        if (m.code !== CODE.CSM) return { status: 'protocol-error', data: {}, raw: frame.bytes.subarray(0, RAW_CAP), error: 'the first message is not a CoAP CSM' };
        sawCsm = true;
        continue;
      }
      if (m.code === CODE.PING) {
        await conn.write(encodeTcpMessage({ code: CODE.PONG, token: m.token, options: [], payload: Buffer.alloc(0) }));
        continue;
      }
      if (m.code === CODE.RELEASE || m.code === CODE.ABORT) throw new ProbeError('connection-closed', `the server ended the CoAP session (${codeString(m.code)})`);
      if (m.code < 0x40 || !m.token.equals(token)) continue;
      if (m.code !== CODE.CONTENT) return finish(m.code, [], raw, 'coap-tcp');
      body.push(m.payload);
      bodyBytes += m.payload.length;
      const next = nextBlock(m, page++, bodyBytes);
      if (!next) return finish(CODE.CONTENT, body, raw, 'coap-tcp');
      await conn.write(encodeTcpMessage({ code: CODE.GET, token, options: getRequest(next), payload: Buffer.alloc(0) }));
    }
    if (body.length) return finish(CODE.CONTENT, body, raw!, 'coap-tcp');
    throw new ProbeError('io-timeout', 'no CoAP answer to GET /.well-known/core');
  } finally {
    conn.close();
  }
}

type Frame = { kind: 'ok'; message: CoapMessage; bytes: Buffer } | { kind: 'foreign'; raw: Buffer; reason: string };

async function nextFrame(conn: Conn, ms: number): Promise<Frame> {
  if (ms <= 0) throw new ProbeError('io-timeout', 'no CoAP answer within the probe budget');
  await conn.readUntil((b) => decodeTcpFrame(b).kind !== 'need-more', ms);
  const f = decodeTcpFrame(conn.buffered);
  if (f.kind === 'ok') return { kind: 'ok', message: f.message, bytes: conn.take(f.consumed) };
  const raw = Buffer.from(conn.buffered.subarray(0, RAW_CAP));
  if (f.kind === 'error') return { kind: 'foreign', raw, reason: `not CoAP over TCP: ${f.reason}` };
  // the time ran out or the peer closed in the middle of a frame
  if (conn.ended) throw new ProbeError('connection-closed', 'the connection closed inside a CoAP frame');
  throw new ProbeError('io-timeout', 'incomplete CoAP frame');
}
