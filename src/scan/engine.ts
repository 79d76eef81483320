// Stage: scan engine. Walks every (host, port) of the plan in a keyed random order under the global rate limit, the
// concurrency limit and the per-host cap; identifies and probes each open service; hands observations and progress
// to `commit` in batches so that a scan killed at any point can be resumed without losing or repeating work.
import { setMaxListeners } from 'node:events';
import type { Observation } from '../core/observation.ts';
import { Permutation } from '../core/permutation.ts';
import type { PortList } from '../core/ports.ts';
import type { Scope } from '../core/scope.ts';
import type { TargetSet } from '../core/targets.ts';
import type { RunProgress } from '../store/store.ts';
import { DEFAULT_LIMITS, type ProbeLimits, userAgentFor } from './context.ts';
import { type IdentifyOptions, identifyTcpService, identifyUdpService } from './identify.ts';
import type { Probe, ProbeTarget } from './probe.ts';
import { HostGate, RateLimiter } from './rate.ts';

export interface ScanPlan {
  runId: string;
  targets: TargetSet;
  ports: PortList;
  /** orders the walk; stored with the run so a resume walks the same order */
  seed: number;
}

export interface ScanOptions {
  scope: Scope;
  probes: readonly Probe[];
  /** new connections (and UDP requests) per second across the whole scan */
  rate: number;
  /** (host, port) tasks in flight at once */
  concurrency: number;
  /** tasks in flight against one host at once */
  perHost: number;
  limits?: Partial<ProbeLimits>;
  bannerWaitMs?: number;
  shortBannerWaitMs?: number;
  maxTries?: number;
  signal?: AbortSignal;
  /** where to continue from (a stored run's progress) */
  resume?: RunProgress | null;
  /** persist observations and progress together; called in order, never concurrently */
  commit: (observations: Observation[], progress: RunProgress) => Promise<void>;
  flushIntervalMs?: number;
  onObservation?: (o: Observation) => void;
  onProgress?: (p: ScanProgress) => void;
  onError?: (error: unknown, taskIndex: number) => void;
}

export interface ScanProgress {
  total: number;
  done: number;
  found: number;
  /** tasks finished per second since start (this session) */
  rate: number;
  elapsedMs: number;
}

export interface ScanOutcome {
  progress: RunProgress;
  interrupted: boolean;
}

export async function runScan(plan: ScanPlan, opts: ScanOptions): Promise<ScanOutcome> {
  const portEntries: { port: number; transport: 'tcp' | 'udp' }[] = [
    ...plan.ports.tcp.map((port) => ({ port, transport: 'tcp' as const })),
    ...plan.ports.udp.map((port) => ({ port, transport: 'udp' as const })),
  ];
  // Every task in flight listens for cancel on the same signal: hundreds of listeners are expected, not a leak.
  if (opts.signal) setMaxListeners(0, opts.signal);
  const hosts = plan.targets.size;
  const total = hosts * portEntries.length;
  const perm = new Permutation(total, plan.seed);
  const limiter = new RateLimiter(opts.rate, opts.signal);
  const gate = new HostGate(Math.max(1, opts.perHost));
  const limits: ProbeLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const identifyOpts: IdentifyOptions = {
    scope: opts.scope,
    probes: opts.probes,
    limits,
    userAgent: userAgentFor(opts.scope.operator),
    signal: opts.signal,
    beforeDial: () => limiter.acquire(),
    bannerWaitMs: opts.bannerWaitMs ?? 1500,
    shortBannerWaitMs: opts.shortBannerWaitMs ?? 250,
    maxTries: opts.maxTries ?? 6,
  };

  // Completion bookkeeping: all indices below `watermark` are done, plus those in `doneAbove`.
  const resume = opts.resume;
  let watermark = resume?.watermark ?? 0;
  const doneAbove = new Set<number>(resume?.doneAbove ?? []);
  let found = resume?.found ?? 0;
  let doneCount = watermark + doneAbove.size;
  const startedAt = performance.now();
  const doneAtStart = doneCount;
  let pending: Observation[] = [];

  const markDone = (i: number) => {
    doneCount++;
    if (i === watermark) {
      watermark++;
      while (doneAbove.delete(watermark)) watermark++;
    } else doneAbove.add(i);
  };
  const snapshot = (): RunProgress => ({ total, watermark, doneAbove: [...doneAbove].sort((a, b) => a - b), found });

  let flushing: Promise<void> = Promise.resolve();
  const flush = () => {
    // Take the batch and the progress that covers exactly it in one synchronous step.
    const batch = pending;
    pending = [];
    const progress = snapshot();
    flushing = flushing.then(() => opts.commit(batch, progress));
    return flushing;
  };
  const reportProgress = () => {
    const elapsedMs = performance.now() - startedAt;
    opts.onProgress?.({ total, done: doneCount, found, rate: ((doneCount - doneAtStart) * 1000) / Math.max(1, elapsedMs), elapsedMs });
  };
  const ticker = setInterval(() => {
    void flush();
    reportProgress();
  }, opts.flushIntervalMs ?? 1000);

  let next = 0;
  const runTask = async (i: number) => {
    const p = perm.at(i);
    const ip = plan.targets.hostAt(p % hosts);
    const entry = portEntries[Math.floor(p / hosts)]!;
    const target: ProbeTarget = { ip, port: entry.port, transport: entry.transport };
    await gate.enter(ip);
    try {
      if (opts.scope.refusal(ip)) return; // defence in depth: targets were cut to the scope already
      const identified = entry.transport === 'tcp' ? await identifyTcpService(target, identifyOpts) : await identifyUdpService(target, identifyOpts);
      // A task cut short by cancel is not done: its result may be partial, so a resume does it again.
      if (opts.signal?.aborted) return;
      if (identified) {
        const r = identified.result;
        const data = { ...r.data };
        if (r.error && r.status !== 'success') data.error = r.error;
        if (identified.tried.length > 1) data.triedProbes = identified.tried;
        const o: Observation = {
          runId: plan.runId,
          source: `probe:${identified.probe}`,
          ip,
          port: entry.port,
          transport: entry.transport,
          protocol: r.protocol ?? (r.status === 'success' ? identified.probe : 'unknown'),
          time: new Date().toISOString(),
          status: r.status,
          data,
          raw: r.raw ? r.raw.subarray(0, 2048) : undefined,
        };
        if (o.raw === undefined) delete o.raw;
        pending.push(o);
        found++;
        opts.onObservation?.(o);
      }
      markDone(i);
      if (pending.length >= 500) void flush();
    } finally {
      gate.leave(ip);
    }
  };

  const worker = async () => {
    for (;;) {
      if (opts.signal?.aborted) return;
      const i = next++;
      if (i >= total) return;
      if (i < watermark || doneAbove.has(i)) continue;
      try {
        await runTask(i);
      } catch (e) {
        // A bug in one task must not sink a long scan: report it and leave the task undone for a resume.
        opts.onError?.(e, i);
      }
    }
  };

  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency, total)) }, worker));
  } finally {
    clearInterval(ticker);
    await flush();
    reportProgress();
  }
  return { progress: snapshot(), interrupted: !!opts.signal?.aborted && watermark < total };
}
