// Stage: CLI front-end for the assessment: `findings` lists what is wrong (worst first) and `assess` runs the
// exposure checks over the store now. `assessAfterRun` is what scan and import call after fingerprinting.
import type { Command } from 'commander';
import { FINDING_KINDS, type Finding, type FindingKind, SEVERITIES, type Severity, severityRank } from '../../core/finding.ts';
import { assessExposure } from '../../assess/exposure.ts';
import type { FindingFilter, Store } from '../../store/store.ts';
import { CliError } from '../errors.ts';
import { openStore } from '../store.ts';
import { renderTable } from '../table.ts';

/** Run the exposure checks over the addresses a run touched; prints one line unless quiet. */
export async function assessAfterRun(store: Store, runId: string, quiet = false): Promise<void> {
  const ips = (await store.hosts({ runId })).map((h) => h.ip);
  if (!ips.length) return;
  const r = await assessExposure(store, ips);
  if (!quiet) process.stderr.write(`assessed ${r.addresses} address(es): ${r.findings} finding(s), ${r.opened} new, ${r.fixed} fixed since the last assessment\n`);
}

interface FindingCliOptions {
  db?: string;
  ip?: string;
  network?: string;
  kind?: string;
  id?: string;
  severity?: string;
  state?: string;
  limit?: string;
  json?: boolean;
}

export function findingFilterFrom(o: FindingCliOptions): FindingFilter {
  const f: FindingFilter = {};
  if (o.ip) f.ip = o.ip;
  if (o.network) f.network = o.network;
  if (o.kind) {
    if (!(FINDING_KINDS as readonly string[]).includes(o.kind)) throw new CliError(`--kind must be one of ${FINDING_KINDS.join(', ')}`);
    f.kind = o.kind as FindingKind;
  }
  if (o.id) f.id = o.id;
  if (o.severity) {
    if (!(SEVERITIES as readonly string[]).includes(o.severity)) throw new CliError(`--severity must be one of ${SEVERITIES.join(', ')}`);
    f.minSeverity = o.severity as Severity;
  }
  const state = o.state ?? 'open';
  if (!['open', 'fixed', 'accepted', 'any'].includes(state)) throw new CliError('--state must be open, fixed, accepted or any');
  f.state = state as FindingFilter['state'];
  if (o.limit !== undefined) {
    const n = Number(o.limit);
    if (!Number.isInteger(n) || n < 1) throw new CliError('--limit must be a whole number ≥ 1');
    f.limit = n;
  }
  return f;
}

/** Worst first: severity, then address and port. */
export function byWorst(a: Finding, b: Finding): number {
  return severityRank(a.severity) - severityRank(b.severity) || a.ip.localeCompare(b.ip, undefined, { numeric: true }) || (a.port ?? 0) - (b.port ?? 0) || a.id.localeCompare(b.id);
}

function evidenceText(f: Finding): string {
  const skip = new Set(['protocol', 'source', 'observed']);
  return Object.entries(f.evidence)
    .filter(([k]) => !skip.has(k))
    .map(([k, v]) => `${k.replace(/^data\./, '')}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
}

export function registerFindingCommands(program: Command): void {
  program
    .command('findings')
    .description('what is wrong with the devices: exposures, missing authentication, cleartext, weak crypto, default credentials')
    .option('--db <path>', 'store file (default $IOTSCOPE_DB or the user data directory)')
    .option('--ip <address>', 'one address')
    .option('--network <cidr>', 'addresses in this CIDR or range')
    .option('--kind <kind>', `one kind: ${FINDING_KINDS.join(', ')}`)
    .option('--id <id>', 'one check id or CVE id')
    .option('--severity <level>', 'this severity or worse: critical, high, medium, low, info')
    .option('--state <state>', 'open (default), fixed, accepted or any')
    .option('--limit <n>', 'at most n rows')
    .option('--json', 'JSON output')
    .action(async (o: FindingCliOptions) => {
      const filter = findingFilterFrom(o);
      const store = await openStore(o.db);
      try {
        const rows = (await store.findings(filter)).sort(byWorst);
        if (o.json) {
          process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
          return;
        }
        process.stdout.write(
          `${renderTable(
            ['severity', 'address', 'port', 'kind', 'check', 'state', 'first seen', 'last seen', 'evidence'],
            rows.map((f) => [f.severity, f.ip, f.port !== undefined ? `${f.port}/${f.transport ?? ''}` : '', f.kind, f.id, f.state, f.firstSeen.slice(0, 19), f.lastSeen.slice(0, 19), evidenceText(f)]),
            60,
          )}\n${rows.length} findings\n`,
        );
      } finally {
        await store.close();
      }
    });

  program
    .command('assess')
    .description('run the exposure checks over the store now (every address, or --ip / --network)')
    .option('--db <path>', 'store file (default $IOTSCOPE_DB or the user data directory)')
    .option('--ip <address>', 'only this address')
    .option('--network <cidr>', 'only addresses in this CIDR or range')
    .option('--json', 'print the summary as JSON')
    .action(async (o: { db?: string; ip?: string; network?: string; json?: boolean }) => {
      const store = await openStore(o.db);
      try {
        const ips = o.ip || o.network ? (await store.hosts({ ip: o.ip, network: o.network })).map((h) => h.ip) : undefined;
        const r = await assessExposure(store, ips);
        if (o.json) process.stdout.write(`${JSON.stringify(r)}\n`);
        else process.stdout.write(`assessed ${r.addresses} address(es): ${r.findings} finding(s); ${r.opened} new, ${r.stillOpen} still open, ${r.fixed} fixed\n`);
      } finally {
        await store.close();
      }
    });
}
