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
  /** datagrams dropped because they came from somewhere else */
  foreign = 0;

  private constructor(
    private sock: dgram.Socket,
    readonly remote: { ip: string; port: number },
    private limits: UdpLimits,
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
    sock.on('error', () => {
      this.closed = true;
      this.wake();
    });
    sock.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  static async open(ip: string, port: number, limits: UdpLimits): Promise<UdpChannel> {
    const family = net.isIPv6(ip) ? 'udp6' : 'udp4';
    const sock = dgram.createSocket({ type: family });
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(0, () => {
        sock.removeListener('error', reject);
        resolve();
      });
    });
    return new UdpChannel(sock, { ip, port }, limits);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  async send(data: Uint8Array, port = this.remote.port): Promise<void> {
    await new Promise<void>((resolve, reject) =>
      this.sock.send(data, port, this.remote.ip, (err) => (err ? reject(err) : resolve())),
    );
  }

  /** Next datagram from the peer, or null when none arrives within timeoutMs. */
  async receive(timeoutMs = this.limits.timeoutMs): Promise<Buffer | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.queue.shift();
      if (m) return m;
      const left = deadline - Date.now();
      if (this.closed || left <= 0 || this.limits.signal?.aborted) return null;
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
      const m = await this.receive(left);
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
    }
    throw new ProbeError('io-timeout', `no UDP answer from ${this.remote.ip}:${this.remote.port} after ${tries} tries`);
  }

  close(): void {
    if (!this.closed) {
      this.closed = true;
      try {
        this.sock.close();
      } catch {
        /* already closed */
      }
    }
  }
}

function normalise(a: string): string {
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}
