// Stage: scan engine. Which protocol does an open port speak? Decided by what the service answers, not by the port
// number: listen first for services that talk first (SSH, FTP, Telnet), otherwise try the port's usual probe and then
// the other client-first probes, re-dispatching when an answer reveals another protocol.
import type { Scope } from '../core/scope.ts';
import { type Conn, dialTcp } from './conn.ts';
import type { ProbeLimits } from './context.ts';
import type { Probe, ProbeResult, ProbeTarget } from './probe.ts';
import { type RunProbeOptions, runProbe } from './run-probe.ts';

/** Client-first protocols tried on a silent port that none of the port's own probes recognised, most common first. */
export const FALLBACK_ORDER = ['http', 'https', 'rtsp', 'mqtt', 'mqtts', 'modbus', 'coap-tcp'];

/**
 * Services that answer a foreign protocol's request in that protocol and yet are something else: an RTSP server
 * with HTTP tunnelling answers GET in HTTP but names itself. When `when` holds for a success of `from`, the `to`
 * probe is tried too and, if it succeeds, wins.
 */
const HANDOFFS: { from: string; to: string; when: (data: Record<string, unknown>) => boolean }[] = [
  { from: 'http', to: 'rtsp', when: (d) => typeof d.server === 'string' && /\bRTSP\b/i.test(d.server) },
];

export interface IdentifyOptions {
  scope: Scope;
  probes: readonly Probe[];
  limits: ProbeLimits;
  userAgent?: string;
  signal?: AbortSignal;
  beforeDial?: (ip: string) => Promise<void>;
  /** how long to wait for a greeting on a port whose usual protocol talks first, or that has no usual protocol */
  bannerWaitMs: number;
  /** the same, on a port whose usual protocol waits for the client (HTTP on 80): a short look suffices */
  shortBannerWaitMs: number;
  /** probes tried on one port at most */
  maxTries: number;
}

export interface Identified {
  probe: string;
  result: ProbeResult;
  tried: string[];
}

/** What every probe run of one identification shares; only the limits differ between usual probes and guesses. */
function probeRunOptions(opts: IdentifyOptions, limits: ProbeLimits): RunProbeOptions {
  return { scope: opts.scope, limits, userAgent: opts.userAgent, signal: opts.signal, beforeDial: opts.beforeDial };
}

/** Returns null when the port is not open (refused, filtered, unreachable). */
export async function identifyTcpService(target: ProbeTarget, opts: IdentifyOptions): Promise<Identified | null> {
  await opts.beforeDial?.(target.ip);
  let conn: Conn;
  try {
    conn = await dialTcp(target.ip, target.port, { ...opts.limits, signal: opts.signal });
  } catch {
    return null;
  }
  const tcpProbes = opts.probes.filter((p) => p.transport === 'tcp');
  const usual = tcpProbes.filter((p) => p.defaultPorts.includes(target.port));
  const waitLong = !usual.length || usual.some((p) => p.recognizes);
  const greeting = await readGreeting(conn, waitLong ? opts.bannerWaitMs : opts.shortBannerWaitMs);

  const queue: Probe[] = [];
  const tried: string[] = [];
  const enqueue = (p: Probe | undefined, front = false) => {
    if (!p || tried.includes(p.name) || queue.includes(p)) return;
    if (front) queue.unshift(p);
    else queue.push(p);
  };
  const byName = (n: string) => tcpProbes.find((p) => p.name === n);
  const recognisers = (bytes: Buffer) => tcpProbes.filter((p) => p.recognizes?.(bytes)).sort((a, b) => Number(usual.includes(b)) - Number(usual.includes(a)));

  if (greeting.length) {
    for (const p of recognisers(greeting)) enqueue(p);
    // A greeting nobody recognises: a client-first probe may still make sense of it (an HTTP server sending an
    // early error page); the banner probe records it whatever it is.
    if (!queue.length) for (const p of usual) enqueue(p);
  } else {
    for (const p of usual.filter((u) => !u.recognizes)) enqueue(p);
    for (const n of FALLBACK_ORDER) enqueue(byName(n));
  }
  enqueue(byName('banner'));

  let preopened: Conn | null = conn;
  let last: Identified | null = null;
  while (queue.length && tried.length < opts.maxTries && !opts.signal?.aborted) {
    const probe = queue.shift()!;
    tried.push(probe.name);
    const isUsual = usual.includes(probe) || (greeting.length > 0 && probe.recognizes?.(greeting));
    // Guesses on a port that is not theirs get a shorter read timeout: most services reject a foreign request fast.
    const limits = isUsual ? opts.limits : { ...opts.limits, timeoutMs: Math.min(opts.limits.timeoutMs, 2000) };
    const result = await runProbe(probe, target, { ...probeRunOptions(opts, limits), preopened });
    preopened = null;
    last = { probe: probe.name, result, tried: [...tried] };
    // A plain-HTTP request answered with "this port wants TLS": the TLS probe will see more (certificate, title).
    if (result.status === 'success' && result.data.tlsRequired === true && byName('https') && !tried.includes('https')) {
      enqueue(byName('https'), true);
      continue;
    }
    if (result.status === 'success') {
      const handoff = HANDOFFS.find((h) => h.from === probe.name && h.when(result.data) && !tried.includes(h.to));
      const other = handoff && byName(handoff.to);
      if (other) {
        tried.push(other.name);
        const second = await runProbe(other, target, probeRunOptions(opts, opts.limits));
        if (second.status === 'success') return { probe: other.name, result: second, tried: [...tried] };
      }
      return { ...last, tried: [...tried] };
    }
    if (result.status === 'application-error' || result.status === 'blocklisted-target') return last;
    if (result.status === 'connection-refused' || result.status === 'connection-timeout') return last;
    if (result.raw?.length) for (const p of recognisers(Buffer.from(result.raw))) enqueue(p, true);
  }
  conn.close();
  if (last?.result.status === 'success') return last;
  // Open, but nothing we could try made sense of it: still a fact worth keeping (an open unknown service).
  if (!last) return { probe: 'none', result: { status: greeting.length ? 'protocol-error' : 'io-timeout', protocol: 'unknown', data: {}, raw: greeting.length ? greeting.subarray(0, 2048) : undefined, error: 'open port; no probe recognised the service' }, tried };
  return { probe: last.probe, result: { ...last.result, protocol: 'unknown' }, tried };
}

async function readGreeting(conn: Conn, waitMs: number): Promise<Buffer> {
  if (waitMs <= 0) return Buffer.alloc(0);
  try {
    await conn.readUntil((b) => b.length > 0, waitMs);
  } catch {
    return Buffer.alloc(0);
  }
  // Greetings often arrive in pieces (telnet options, then the banner): give the rest a moment.
  await conn.readFor(150);
  return Buffer.from(conn.buffered);
}

/** UDP: the port's own probes, or every UDP probe on a port that has none. Null when nothing answered. */
export async function identifyUdpService(target: ProbeTarget, opts: IdentifyOptions): Promise<Identified | null> {
  const udpProbes = opts.probes.filter((p) => p.transport === 'udp');
  const usual = udpProbes.filter((p) => p.defaultPorts.includes(target.port));
  const candidates = usual.length ? usual : udpProbes;
  // Guesses on a port that is no probe's own: one resend and a shorter wait each, or a silent port would cost
  // every UDP probe's full retry budget.
  const limits = usual.length ? opts.limits : { ...opts.limits, timeoutMs: Math.min(opts.limits.timeoutMs, 1500), udpRetries: Math.min(opts.limits.udpRetries, 1) };
  const tried: string[] = [];
  for (const probe of candidates) {
    if (opts.signal?.aborted) break;
    tried.push(probe.name);
    const result = await runProbe(probe, target, probeRunOptions(opts, limits));
    if (result.status === 'success' || result.status === 'application-error' || result.status === 'protocol-error') return { probe: probe.name, result, tried };
    // ICMP port unreachable: nothing listens, no other probe needs to try.
    if (result.status === 'connection-refused') return null;
  }
  return null;
}
