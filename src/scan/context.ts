// Stage: scan engine. Builds the ProbeContext a probe runs with: every connection it opens passes the scope guard
// and the engine's limits here, so probes cannot bypass them.
import net from 'node:net';
import type { Scope } from '../core/scope.ts';
import { Conn, dialTcp } from './conn.ts';
import { type ConnectOptions, type ProbeContext, ProbeError, type ProbeTarget } from './probe.ts';
import { UdpChannel } from './udp.ts';

export interface ProbeLimits {
  connectTimeoutMs: number;
  timeoutMs: number;
  maxBytes: number;
  udpRetries: number;
  /** connections one probe run may open (redirects, description URLs, retries) */
  maxConnections: number;
}

export const DEFAULT_LIMITS: ProbeLimits = {
  connectTimeoutMs: 3000,
  timeoutMs: 4000,
  maxBytes: 256 * 1024,
  udpRetries: 2,
  maxConnections: 8,
};

export interface ContextOptions {
  scope: Scope;
  limits?: Partial<ProbeLimits>;
  userAgent?: string;
  signal?: AbortSignal;
  /** a connection the engine already opened to this target (banner read); handed out by the first connect() */
  preopened?: Conn | null;
  /** called before every new connection or datagram channel: the engine's rate limiter */
  beforeDial?: (ip: string) => Promise<void>;
}

export function userAgentFor(operator: string | undefined): string {
  const contact = operator ? `; ${operator.replace(/[\r\n]/g, ' ')}` : '';
  return `iotscope/0.1 (IoT exposure measurement${contact})`;
}

export function createProbeContext(target: ProbeTarget, opts: ContextOptions): ProbeContext & { connectionsOpened(): number; closeAll(): void } {
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const signal = opts.signal ?? new AbortController().signal;
  let preopened = opts.preopened ?? null;
  let opened = 0;
  const open: { close(): void }[] = [];

  const guard = (ip: string) => {
    if (!net.isIP(ip)) throw new ProbeError('blocklisted-target', `${ip} is not an IP address; names are not resolved by probes`);
    const why = opts.scope.refusal(ip);
    if (why) throw new ProbeError('blocklisted-target', why);
    if (signal.aborted) throw new ProbeError('io-timeout', 'scan cancelled');
    if (++opened > limits.maxConnections) throw new ProbeError('application-error', `probe exceeded its ${limits.maxConnections} connections`);
  };

  const ctx = {
    target,
    timeoutMs: limits.timeoutMs,
    udpRetries: limits.udpRetries,
    maxBytes: limits.maxBytes,
    userAgent: opts.userAgent ?? userAgentFor(opts.scope.operator),
    signal,
    authorized: opts.scope.authorized,
    async connect(c: ConnectOptions = {}): Promise<Conn> {
      const ip = c.ip ?? target.ip;
      const port = c.port ?? target.port;
      if (preopened && ip === target.ip && port === target.port && !c.tls) {
        const conn = preopened;
        preopened = null;
        open.push(conn);
        return conn;
      }
      guard(ip);
      await opts.beforeDial?.(ip);
      const tlsOpts = c.tls ? (c.tls === true ? {} : c.tls) : null;
      const conn = await dialTcp(ip, port, { ...limits, signal }, tlsOpts);
      open.push(conn);
      return conn;
    },
    async udp(u: { port?: number; ip?: string; connected?: boolean } = {}): Promise<UdpChannel> {
      const ip = u.ip ?? target.ip;
      guard(ip);
      await opts.beforeDial?.(ip);
      const ch = await UdpChannel.open(ip, u.port ?? target.port, { timeoutMs: limits.timeoutMs, maxBytes: limits.maxBytes, retries: limits.udpRetries, signal }, { connected: u.connected });
      open.push(ch);
      return ch;
    },
    connectionsOpened: () => opened,
    closeAll() {
      for (const o of open) o.close();
      preopened?.close();
    },
  };
  return ctx;
}
