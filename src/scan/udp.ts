// Stage: scan engine. A UDP channel as probes see it: datagrams to one (scope-checked) peer, and only datagrams
// from that peer accepted back. Requests are retried a bounded number of times.
import dgram from 'node:dgram';
import net from 'node:net';
import { ProbeError } from './probe.ts';

export interface UdpLimits {
  timeoutMs: number;
  maxBytes: number;
  retries: number;
  signal?: AbortSignal;
}

export class UdpChannel {
  private queue: Buffer[] = [];
  private waiters: (() => void)[] = [];
  private closed = false;
  /** the peer's host answered with ICMP port unreachable: nothing listens there */
  refused = false;
  /** datagrams dropped because they came from somewhere else */
  foreign = 0;

  private constructor(
    private sock: dgram.Socket,
    readonly remote: { ip: string; port: number },
    private limits: UdpLimits,
    private readonly connected: boolean,
  ) {
    sock.on('message', (msg, rinfo) => {
      // Replies to unicast requests may come from another port (SSDP answers from an ephemeral port);
      // the address must match.
      if (normalise(rinfo.address) !== normalise(remote.ip)) {
        this.foreign++;
        return;
      }
      this.queue.push(msg.length > limits.maxBytes ? msg.subarray(0, limits.maxBytes) : msg);
      this.wake();
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ECONNREFUSED') this.refused = true;
      this.closed = true;
      this.wake();
    });
    sock.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  /**
   * A connected channel (the default) learns from ICMP port-unreachable that a port is closed, at once instead of
   * after every retry, but only hears answers from the very port it sent to. Protocols whose answers may come
   * from another port (SSDP) ask for an unconnected one.
   */
  static async open(ip: string, port: number, limits: UdpLimits, opts: { connected?: boolean } = {}): Promise<UdpChannel> {
    const family = net.isIPv6(ip) ? 'udp6' : 'udp4';
    const sock = dgram.createSocket({ type: family });
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(0, () => {
        sock.removeListener('error', reject);
        resolve();
      });
    });
    if (opts.connected !== false) {
      await new Promise<void>((resolve, reject) => {
        sock.once('error', reject);
        sock.connect(port, ip, () => {
          sock.removeListener('error', reject);
          resolve();
        });
      });
    }
    return new UdpChannel(sock, { ip, port }, limits, opts.connected !== false);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  async send(data: Uint8Array, port = this.remote.port): Promise<void> {
    if (this.refused) throw new ProbeError('connection-refused', `${this.remote.ip}:${this.remote.port}/udp: port unreachable`);
    if (this.connected && port !== this.remote.port) throw new ProbeError('application-error', 'a connected UDP channel sends only to its own port');
    await new Promise<void>((resolve, reject) => {
      const done = (err: Error | null) => (err ? reject(err) : resolve());
      if (this.connected) this.sock.send(data, done);
      else this.sock.send(data, port, this.remote.ip, done);
    });
  }

  /** Next datagram from the peer, or null when none arrives within timeoutMs. Throws once the port is known
   *  unreachable or the channel is closed. */
  async receive(timeoutMs = this.limits.timeoutMs): Promise<Buffer | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.queue.shift();
      if (m) return m;
      // A refused or closed channel throws rather than answering null at once: a caller looping on receive()
      // until its deadline would otherwise spin without ever yielding to the timers.
      if (this.refused) throw new ProbeError('connection-refused', `${this.remote.ip}:${this.remote.port}/udp: port unreachable`);
      if (this.closed) throw new ProbeError('connection-closed', `UDP channel to ${this.remote.ip}:${this.remote.port} is closed`);
      const left = deadline - Date.now();
      if (left <= 0 || this.limits.signal?.aborted) return null;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Collect every datagram arriving within ms (for services that answer with several, like SSDP). */
  async receiveAll(ms: number, max = 32): Promise<Buffer[]> {
    const out: Buffer[] = [];
    const deadline = Date.now() + ms;
    while (out.length < max) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      let m: Buffer | null;
      try {
        m = await this.receive(left);
      } catch (e) {
        if (out.length) break;
        throw e;
      }
      if (!m) break;
      out.push(m);
    }
    return out;
  }

  /**
   * Send a request and wait for an answer that `accept` takes (default: any), resending up to `retries` more times.
   * Rejects with io-timeout when every try went unanswered.
   */
  async request(data: Uint8Array, opts: { accept?: (b: Buffer) => boolean; retries?: number; timeoutMs?: number } = {}): Promise<Buffer> {
    const tries = 1 + (opts.retries ?? this.limits.retries);
    const timeout = opts.timeoutMs ?? this.limits.timeoutMs;
    for (let i = 0; i < tries; i++) {
      await this.send(data);
      const deadline = Date.now() + timeout;
      for (;;) {
        const left = deadline - Date.now();
        if (left <= 0) break;
        const m = await this.receive(left);
        if (!m) break;
        if (!opts.accept || opts.accept(m)) return m;
      }
      if (this.limits.signal?.aborted) break;
      if (this.refused) throw new ProbeError('connection-refused', `${this.remote.ip}:${this.remote.port}/udp: port unreachable`);
    }
    throw new ProbeError('io-timeout', `no UDP answer from ${this.remote.ip}:${this.remote.port} after ${tries} tries`);
  }

  close(): void {
    // Also after an error (ICMP unreachable marks the channel closed): the socket itself must be released, or it
    // keeps the process alive.
    this.closed = true;
    try {
      this.sock.close();
    } catch {
      /* already closed */
    }
  }
}

function normalise(a: string): string {
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}
