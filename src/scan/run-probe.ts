// Stage: scan engine. Runs one probe against one target under a hard deadline and turns whatever happens —
// an answer, a socket error, a thrown exception, a hang — into a ProbeResult with a status from the closed set.
import type { Conn } from './conn.ts';
import { type ContextOptions, createProbeContext } from './context.ts';
import { type Probe, type ProbeResult, type ProbeTarget, statusOfError } from './probe.ts';

export interface RunProbeOptions extends ContextOptions {
  /** hard limit for the whole probe run, ms (defaults to 3 × the read timeout) */
  deadlineMs?: number;
}

export async function runProbe(probe: Probe, target: ProbeTarget, opts: RunProbeOptions): Promise<ProbeResult> {
  const inner = new AbortController();
  const onOuterAbort = () => inner.abort();
  opts.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const ctx = createProbeContext(target, { ...opts, signal: inner.signal });
  const deadline = opts.deadlineMs ?? 3 * ctx.timeoutMs;
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<ProbeResult>((resolve) => {
      timer = setTimeout(() => {
        inner.abort();
        resolve({ status: 'io-timeout', data: {}, error: `${probe.name} probe did not finish within ${deadline} ms` });
      }, deadline);
    });
    const run = probe.scan(ctx, target).catch(
      (e: unknown): ProbeResult => ({ status: statusOfError(e), data: {}, error: e instanceof Error ? e.message : String(e) }),
    );
    const result = await Promise.race([run, timeout]);
    if (result.status === 'success' && !result.protocol) result.protocol = probe.name;
    return result;
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onOuterAbort);
    ctx.closeAll();
  }
}

export type { Conn };
