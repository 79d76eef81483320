// Stage: CLI front-end over the store: `hosts` and `services` list what scans and imports recorded, with filters,
// as a table or JSON.
import type { Command } from 'commander';
import { PROBE_STATUSES, type ProbeStatus } from '../../core/observation.ts';
import type { ObservationFilter } from '../../store/store.ts';
import { describeObservation } from '../describe.ts';
import { CliError } from '../errors.ts';
import { openStore } from '../store.ts';
import { renderTable } from '../table.ts';

interface FilterOptions {
  db?: string;
  run?: string;
  ip?: string;
  network?: string;
  port?: string;
  protocol?: string;
  transport?: string;
  status?: string;
  since?: string;
  until?: string;
  limit?: string;
  offset?: string;
  json?: boolean;
}

function addFilters(cmd: Command): Command {
  return cmd
    .option('--db <path>', 'store file (default $IOTSCOPE_DB or the user data directory)')
    .option('--run <id>', 'only this scan or import run')
    .option('--ip <address>', 'only this address')
    .option('--network <cidr>', 'only addresses in this CIDR or range')
    .option('--port <n>', 'only this port')
    .option('--protocol <name>', 'only this protocol (http, telnet, mqtt, …)')
    .option('--transport <tcp|udp>', 'only this transport')
    .option('--status <status>', `probe outcome (${PROBE_STATUSES.join(', ')}, or any); default success`)
    .option('--since <iso-time>', 'seen at or after')
    .option('--until <iso-time>', 'seen at or before')
    .option('--limit <n>', 'at most n rows')
    .option('--offset <n>', 'skip the first n rows')
    .option('--json', 'JSON output');
}

export function filterFrom(o: FilterOptions): ObservationFilter {
  const f: ObservationFilter = {};
  if (o.run) f.runId = o.run;
  if (o.ip) f.ip = o.ip;
  if (o.network) f.network = o.network;
  if (o.port !== undefined) {
    const p = Number(o.port);
    if (!Number.isInteger(p) || p < 0 || p > 65535) throw new CliError(`--port must be 0-65535 (got "${o.port}")`);
    f.port = p;
  }
  if (o.protocol) f.protocol = o.protocol;
  if (o.transport) {
    if (o.transport !== 'tcp' && o.transport !== 'udp') throw new CliError('--transport must be tcp or udp');
    f.transport = o.transport;
  }
  if (o.status) {
    if (o.status !== 'any' && !(PROBE_STATUSES as readonly string[]).includes(o.status)) throw new CliError(`--status must be one of ${PROBE_STATUSES.join(', ')} or any`);
    f.status = o.status as ProbeStatus | 'any';
  }
  if (o.since) f.since = o.since;
  if (o.until) f.until = o.until;
  Object.assign(f, pageFrom(o));
  return f;
}

/** --limit and --offset, checked: the paging every list command shares. */
export function pageFrom(o: { limit?: string; offset?: string }): { limit?: number; offset?: number } {
  const page: { limit?: number; offset?: number } = {};
  for (const k of ['limit', 'offset'] as const) {
    if (o[k] !== undefined) {
      const n = Number(o[k]);
      if (!Number.isInteger(n) || n < 0) throw new CliError(`--${k} must be a whole number ≥ 0`);
      page[k] = n;
    }
  }
  return page;
}

export function registerInventoryCommands(program: Command): void {
  addFilters(program.command('hosts').description('addresses with at least one responding service')).action(async (o: FilterOptions) => {
    const store = await openStore(o.db);
    try {
      const rows = await store.hosts(filterFrom(o));
      if (o.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      else process.stdout.write(`${renderTable(['address', 'services', 'ports', 'protocols', 'first seen', 'last seen'], rows.map((h) => [h.ip, h.services, h.ports.join(' '), h.protocols.join(' '), h.firstSeen, h.lastSeen]), 80)}\n${rows.length} hosts\n`);
    } finally {
      await store.close();
    }
  });

  addFilters(program.command('services').description('each (address, port) with the latest thing it said')).action(async (o: FilterOptions) => {
    const store = await openStore(o.db);
    try {
      const rows = await store.services(filterFrom(o));
      if (o.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      else process.stdout.write(`${renderTable(['address', 'port', 'protocol', 'status', 'what it says', 'last seen'], rows.map((s) => [s.ip, `${s.port}/${s.transport}`, s.protocol, s.status, describeObservation(s), s.lastSeen]), 70)}\n${rows.length} services\n`);
    } finally {
      await store.close();
    }
  });
}
