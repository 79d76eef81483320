// Stage: scan engine. Pacing: a global token bucket (new connections/datagrams per second) and a per-host cap on
// simultaneous probes, so a scan never floods one network or one device.

export class RateLimiter {
  private nextSlot = 0;
  private readonly interval: number;

  /** rate: operations per second; 0 or Infinity means unlimited */
  constructor(rate: number, private readonly signal?: AbortSignal) {
    this.interval = rate > 0 && Number.isFinite(rate) ? 1000 / rate : 0;
  }

  /** Resolves when the caller may start its next operation. Slots are handed out evenly spaced. */
  async acquire(): Promise<void> {
    if (!this.interval) return;
    // Strict pacing: slots evenly spaced, no banked burst after idle time.
    const now = performance.now();
    const slot = Math.max(this.nextSlot, now);
    this.nextSlot = slot + this.interval;
    const wait = slot - now;
    if (wait > 0) await sleep(wait, this.signal);
  }
}

export class HostGate {
  private active = new Map<string, number>();
  private waiting = new Map<string, (() => void)[]>();

  constructor(private readonly perHost: number) {}

  async enter(host: string): Promise<void> {
    for (;;) {
      const n = this.active.get(host) ?? 0;
      if (n < this.perHost) {
        this.active.set(host, n + 1);
        return;
      }
      await new Promise<void>((resolve) => {
        const list = this.waiting.get(host) ?? [];
        list.push(resolve);
        this.waiting.set(host, list);
      });
    }
  }

  leave(host: string): void {
    const n = (this.active.get(host) ?? 1) - 1;
    if (n <= 0) this.active.delete(host);
    else this.active.set(host, n);
    const list = this.waiting.get(host);
    const next = list?.shift();
    if (list && !list.length) this.waiting.delete(host);
    next?.();
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
