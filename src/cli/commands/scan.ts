// Stage: CLI front-end for the scan engine: parses targets, scope and ports, creates or resumes a run in the store,
// shows progress, and turns Ctrl-C into a clean stop that keeps everything found so far.
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, existsSync } from 'node:fs';
import cliProgress from 'cli-progress';
import { Command, Option } from 'commander';
import { parse as parseYaml } from 'yaml';
import { type IpRange, formatRange, parseRange } from '../../core/ipnum.ts';
import type { Observation } from '../../core/observation.ts';
import { formatPortList, parsePortList, type PortList } from '../../core/ports.ts';
import { type Scope, parseScopeYaml } from '../../core/scope.ts';
import { TargetSet, parseTargetFile, parseTargetSpec } from '../../core/targets.ts';
import { PROBES, defaultPorts } from '../../probes/index.ts';
import { runScan, type ScanProgress } from '../../scan/engine.ts';
import type { Run } from '../../store/store.ts';
import { openStore } from '../store.ts';
import { describeObservation } from '../describe.ts';
import { renderTable } from '../table.ts';
import { CliError } from '../errors.ts';
import { fingerprintAfterRun } from './devices.ts';
import { assessAfterRun } from './findings.ts';
import { assertAuditAllowed, auditRun } from '../../assess/credentials/audit.ts';

export interface ScanCliOptions {
  scope?: string;
  ports?: string;
  rate: string;
  concurrency: string;
  perHost: string;
  timeout: string;
  connectTimeout: string;
  retries: string;
  resume?: string | true;
  json?: boolean;
  progress: boolean;
  seed?: string;
  db?: string;
  checkCredentials?: boolean;
}

export const SCAN_DEFAULTS = { rate: '500', concurrency: '200', perHost: '8', timeout: '4000', connectTimeout: '2000', retries: '2', progress: true } as const;

/** Command-line targets: addresses, CIDRs, ranges, or files of them (a path that exists, or @path). */
export function readTargets(args: string[]): IpRange[] {
  const out: IpRange[] = [];
  for (const a of args) {
    const path = a.startsWith('@') ? a.slice(1) : !parseRange(a) && existsSync(a) ? a : null;
    if (path !== null) {
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (e) {
        throw new CliError(`cannot read target file ${path}: ${(e as Error).message}`);
      }
      out.push(...parseTargetFile(text, path));
    } else out.push(parseTargetSpec(a, 'target'));
  }
  return out;
}

export function loadScope(path: string): { scope: Scope; text: string } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new CliError(`cannot read scope file ${path}: ${(e as Error).message}`);
  }
  return { scope: parseScopeYaml(text, path, parseYaml), text };
}

const int = (v: string, name: string, min: number) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) throw new CliError(`--${name} must be a number ≥ ${min} (got "${v}")`);
  return n;
};

export function registerScanCommand(program: Command): void {
  program
    .command('scan')
    .description('scan targets inside an authorised scope and record what every service says')
    .argument('[targets...]', 'IP addresses, CIDRs, ranges (a.b.c.d-e.f.g.h), or files listing them')
    .option('--scope <file>', 'YAML scope file (allow:, exclude:, authorize:, operator:); required for a new scan')
    .option('-p, --ports <list>', 'nmap-style port list, e.g. T:23,80,8000-8100,U:161,1900 (default: every probe\'s usual ports)')
    .option('--rate <n>', 'new connections per second, whole scan', SCAN_DEFAULTS.rate)
    .option('--concurrency <n>', 'probes in flight at once', SCAN_DEFAULTS.concurrency)
    .option('--per-host <n>', 'probes in flight against one host at once', SCAN_DEFAULTS.perHost)
    .option('--timeout <ms>', 'read timeout per operation', SCAN_DEFAULTS.timeout)
    .option('--connect-timeout <ms>', 'TCP connect timeout', SCAN_DEFAULTS.connectTimeout)
    .option('--retries <n>', 'UDP resends before a port counts as silent', SCAN_DEFAULTS.retries)
    .option('--resume [run]', 'continue an interrupted scan (the latest, or the given run id)')
    .option('--seed <n>', 'order of the walk (default random)')
    .option('--json', 'print observations as JSON lines on stdout')
    .option('--check-credentials', 'after the scan, try listed default credentials on the services found (only if the scope file authorises "credentials")')
    .option('--no-progress', 'no progress display')
    .addOption(new Option('--db <path>', 'store file (default $IOTSCOPE_DB or the user data directory)'))
    .action(async (targetArgs: string[], o: ScanCliOptions) => {
      await scanCommand(targetArgs, o);
    });
}

export async function scanCommand(targetArgs: string[], o: ScanCliOptions): Promise<void> {
  const store = await openStore(o.db);
  try {
    let run: Run;
    let scope: Scope;
    let targets: IpRange[];
    let ports: PortList;
    if (o.resume) {
      if (targetArgs.length) throw new CliError('--resume continues a stored scan: give no targets');
      const candidate = o.resume === true ? (await store.listRuns({ kind: 'scan' })).find((r) => r.status !== 'done') : await store.getRun(o.resume);
      if (!candidate) throw new CliError(o.resume === true ? 'no interrupted scan to resume' : `no scan run ${o.resume}`);
      if (candidate.kind !== 'scan') throw new CliError(`run ${candidate.id} is an import, not a scan`);
      if (candidate.status === 'done') throw new CliError(`scan ${candidate.id} is already complete`);
      run = candidate;
      const spec = run.spec as { scopeYaml: string; scopeFile: string; targets: string[]; ports: string };
      scope = o.scope ? loadScope(o.scope).scope : parseScopeYaml(spec.scopeYaml, `${spec.scopeFile} (as stored with run ${run.id})`, parseYaml);
      targets = spec.targets.map((t) => parseRange(t)!);
      ports = parsePortList(spec.ports);
      process.stderr.write(`resuming scan ${run.id}: ${run.progress?.watermark ?? 0} of ${run.progress?.total ?? '?'} tasks were done\n`);
    } else {
      if (!o.scope) throw new CliError('a scan needs --scope FILE: the addresses you are authorised to scan');
      if (!targetArgs.length) throw new CliError('no targets given');
      const loaded = loadScope(o.scope);
      scope = loaded.scope;
      const requested = readTargets(targetArgs);
      const cut = scope.cut(requested);
      for (const r of cut.refused) process.stderr.write(`refused: ${r.reason}\n`);
      if (!cut.inScope.length) throw new CliError('nothing left to scan: every target is outside the scope');
      targets = cut.inScope;
      ports = o.ports ? parsePortList(o.ports) : defaultPorts();
      const seed = o.seed !== undefined ? int(o.seed, 'seed', 0) : randomBytes(4).readUInt32BE();
      run = {
        id: `scan-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}-${randomUUID().slice(0, 8)}`,
        kind: 'scan',
        status: 'running',
        startedAt: new Date().toISOString(),
        finishedAt: null,
        spec: {
          targets: targets.map(formatRange),
          ports: formatPortList(ports),
          seed,
          scopeFile: o.scope,
          scopeYaml: loaded.text,
          options: { rate: o.rate, concurrency: o.concurrency, perHost: o.perHost, timeout: o.timeout, retries: o.retries },
        },
        progress: null,
        summary: {},
      };
      await store.createRun(run);
    }

    // Refuse before the first packet, not after a long scan.
    if (o.checkCredentials) {
      try {
        assertAuditAllowed(scope, true);
      } catch (e) {
        throw new CliError((e as Error).message);
      }
    }
    const targetSet = new TargetSet(targets);
    const seed = Number((run.spec as { seed: number }).seed);
    const controller = new AbortController();
    let interrupts = 0;
    const onSignal = () => {
      interrupts++;
      if (interrupts === 1) {
        process.stderr.write('\nstopping: finishing the record of what was found (Ctrl-C again to quit at once)\n');
        controller.abort();
      } else process.exit(130);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);

    const display = progressDisplay(o.progress);
    const found: Observation[] = [];
    const outcome = await runScan(
      { runId: run.id, targets: targetSet, ports, seed },
      {
        scope,
        probes: PROBES,
        rate: int(o.rate, 'rate', 0),
        concurrency: int(o.concurrency, 'concurrency', 1),
        perHost: int(o.perHost, 'per-host', 1),
        limits: { timeoutMs: int(o.timeout, 'timeout', 100), connectTimeoutMs: int(o.connectTimeout, 'connect-timeout', 100), udpRetries: int(o.retries, 'retries', 0) },
        signal: controller.signal,
        resume: run.progress,
        commit: (obs, progress) => store.commitScanBatch(run.id, obs, progress),
        onObservation: (ob) => {
          found.push(ob);
          if (o.json) process.stdout.write(`${JSON.stringify(ob, (k, v) => (k === 'raw' ? Buffer.from(v as Uint8Array).toString('base64') : v))}\n`);
        },
        onProgress: display.update,
        onError: (e) => process.stderr.write(`internal error in a probe task (left for --resume): ${(e as Error).stack ?? e}\n`),
      },
    );
    display.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    const status = outcome.interrupted ? 'interrupted' : 'done';
    await fingerprintAfterRun(store, o.db, run.id, !!o.json);
    await assessAfterRun(store, run.id, !!o.json);
    if (o.checkCredentials && !outcome.interrupted) {
      const audit = await auditRun(store, { runId: run.id, scope, requested: true, rate: int(o.rate, 'rate', 0), limits: {}, probeLimits: { timeoutMs: int(o.timeout, 'timeout', 100) } });
      if (!o.json) process.stderr.write(`credential audit: ${audit.audited.length} service(s), ${audit.attempts} attempt(s), ${audit.findings.length} default credential(s) accepted\n`);
    }
    await store.finishRun(run.id, status, { found: outcome.progress.found, total: outcome.progress.total, done: outcome.progress.watermark + outcome.progress.doneAbove.length });
    if (!o.json) {
      if (found.length) process.stdout.write(`${renderTable(['address', 'port', 'protocol', 'status', 'what it says'], found.sort(byAddress).map((f) => [f.ip, `${f.port}/${f.transport}`, f.protocol, f.status, describeObservation(f)]), 70)}\n`);
      process.stdout.write(`scan ${run.id}: ${found.length} services found this session, ${outcome.progress.found} in the run; store ${store.location}\n`);
    }
    if (outcome.interrupted) {
      process.stderr.write(`interrupted: resume with  iotscope scan --resume ${run.id}\n`);
      process.exitCode = 130;
    }
  } finally {
    await store.close();
  }
}

function byAddress(a: Observation, b: Observation): number {
  return a.ip.localeCompare(b.ip, undefined, { numeric: true }) || a.port - b.port;
}

function progressDisplay(enabled: boolean): { update: (p: ScanProgress) => void; stop: () => void } {
  if (!enabled) return { update: () => {}, stop: () => {} };
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: 'scan [{bar}] {percentage}% | {value}/{total} tasks | {found} found | {rate}/s | ETA {eta_formatted}', stream: process.stderr, hideCursor: true, etaBuffer: 50 },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update: (p) => {
        if (!started) {
          bar.start(p.total, p.done, { found: p.found, rate: '0' });
          started = true;
        }
        bar.update(p.done, { found: p.found, rate: p.rate.toFixed(0) });
      },
      stop: () => started && bar.stop(),
    };
  }
  // Not a terminal: a plain line every few seconds, readable in logs.
  let last = 0;
  return {
    update: (p) => {
      const now = Date.now();
      if (now - last < 5000 && p.done < p.total) return;
      last = now;
      const eta = p.rate > 0 ? Math.round((p.total - p.done) / p.rate) : null;
      process.stderr.write(`progress: ${p.done}/${p.total} tasks, ${p.found} found, ${p.rate.toFixed(0)}/s${eta !== null ? `, ETA ${eta}s` : ''}\n`);
    },
    stop: () => {},
  };
}
