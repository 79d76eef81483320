// Stage: CLI front-end for the fingerprint stage: `devices`, `stats`, `fingerprint` (re-identify everything) and
// `fingerprints import-recog DIR`. Recog databases a user imports are kept beside the store file, so every command
// using that store classifies with them.
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Command } from 'commander';
import { loadClassifier, importRecog, loadRules, type Classifier, type Device } from '../../fingerprint/index.ts';
import { refreshDevices } from '../../fingerprint/refresh.ts';
import type { DeviceFilter, Store } from '../../store/store.ts';
import { CliError } from '../errors.ts';
import { pageFrom } from './inventory.ts';
import { openStore, resolveDbPath } from '../store.ts';
import { renderTable } from '../table.ts';
import { printable } from '../../core/bytes.ts';
import { vulnerabilityStats } from './kb.ts';

export function recogDirFor(dbOption: string | undefined): string {
  return join(dirname(resolveDbPath(dbOption)), 'fingerprints', 'recog');
}

/** Own rules, plus the Recog databases imported for this store. */
export function classifierFor(dbOption: string | undefined): Classifier {
  const recogDir = recogDirFor(dbOption);
  return loadClassifier(existsSync(recogDir) ? { recogDir } : {});
}

/** Re-identify the addresses a run touched; prints one line. Used by scan, import and demo. */
export async function fingerprintAfterRun(store: Store, dbOption: string | undefined, runId: string, quiet = false): Promise<void> {
  const ips = (await store.hosts({ runId })).map((h) => h.ip);
  if (!ips.length) return;
  const r = await refreshDevices(store, classifierFor(dbOption), ips);
  if (!quiet) {
    const changed = r.events.filter((e) => e.kind !== 'new-device').length;
    const fresh = r.events.length - changed;
    process.stderr.write(`fingerprinted ${r.devices} device(s): ${fresh} new, ${changed} change(s) since earlier scans\n`);
  }
}

interface DeviceCliOptions {
  db?: string;
  vendor?: string;
  type?: string;
  model?: string;
  firmware?: string;
  network?: string;
  noise?: string;
  limit?: string;
  offset?: string;
  json?: boolean;
  history?: boolean;
}

function addDeviceFilters(cmd: Command): Command {
  return cmd
    .option('--db <path>', 'store file (default $IOTSCOPE_DB or the user data directory)')
    .option('--vendor <name>', 'vendor (normalised name, e.g. Hikvision, D-Link)')
    .option('--type <type>', 'device type (ip-camera, router, nas, printer, plc, …)')
    .option('--model <text>', 'model contains this text')
    .option('--firmware <version>', 'firmware starts with this')
    .option('--network <cidr>', 'addresses in this CIDR or range')
    .option('--noise <mode>', 'likely honeypots/tarpits: exclude (default), include, only')
    .option('--limit <n>', 'at most n rows')
    .option('--offset <n>', 'skip the first n rows')
    .option('--json', 'JSON output');
}

export function deviceFilterFrom(o: DeviceCliOptions): DeviceFilter {
  const f: DeviceFilter = {};
  if (o.vendor) f.vendor = o.vendor;
  if (o.type) f.type = o.type;
  if (o.model) f.model = o.model;
  if (o.firmware) f.firmware = o.firmware;
  if (o.network) f.network = o.network;
  if (o.noise) {
    if (!['exclude', 'include', 'only'].includes(o.noise)) throw new CliError('--noise must be exclude, include or only');
    f.noise = o.noise as DeviceFilter['noise'];
  }
  Object.assign(f, pageFrom(o));
  return f;
}

function deviceRow(d: Device): unknown[] {
  const os = d.os ? [...new Set([d.os.vendor, d.os.product, d.os.version].filter(Boolean))].join(' ') : '';
  return [d.ip, d.vendor, d.model ?? d.product, d.firmware, d.deviceType, d.confidence.toFixed(2), os, d.noise ? `${d.noise.kind}?` : '', d.lastSeen];
}

export function registerDeviceCommands(program: Command): void {
  addDeviceFilters(program.command('devices').description('the device inventory: one identified device per address'))
    .option('--history', 'what changed between scans (new devices, firmware and identity changes) instead of the list')
    .action(async (o: DeviceCliOptions) => {
    const store = await openStore(o.db);
    try {
      const rows = await store.devices(deviceFilterFrom(o));
      if (o.history) {
        const wanted = new Set(rows.map((d) => d.ip));
        const events = (await store.deviceEvents()).filter((e) => wanted.has(e.ip));
        if (o.json) process.stdout.write(`${JSON.stringify(events, null, 2)}\n`);
        else
          process.stdout.write(
            `${renderTable(['time', 'address', 'event', 'change'], events.map((e) => [e.time, e.ip, e.kind, e.kind === 'new-device' ? '' : `${'field' in e ? `${e.field}: ` : 'firmware: '}${e.from} → ${e.to}`]), 80)}\n${events.length} events\n`,
          );
        return;
      }
      if (o.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      else process.stdout.write(`${renderTable(['address', 'vendor', 'model', 'firmware', 'type', 'confidence', 'os', 'noise', 'last seen'], rows.map(deviceRow), 40)}\n${rows.length} devices\n`);
    } finally {
      await store.close();
    }
  });

  addDeviceFilters(program.command('stats').description('counts by device type, vendor, model, firmware, port and protocol')).action(async (o: DeviceCliOptions) => {
    const store = await openStore(o.db);
    try {
      const s = await store.inventoryStats(deviceFilterFrom(o));
      const vulns = await vulnerabilityStats(store);
      if (o.json) {
        process.stdout.write(`${JSON.stringify({ ...s, vulnerabilities: vulns }, null, 2)}\n`);
        return;
      }
      const section = (title: string, rows: { key: string; count: number }[]) =>
        `${title}\n${renderTable(['', 'count', 'share'], rows.map((r) => [r.key, r.count, s.devices ? `${((100 * r.count) / s.devices).toFixed(1)}%` : '']), 70)}\n`;
      process.stdout.write(
        [
          `${s.devices} devices${s.noiseExcluded ? ` (${s.noiseExcluded} likely honeypots/tarpits left out; --noise include counts them)` : ''}\n`,
          section('by device type', s.byType),
          section('by vendor', s.byVendor),
          section('by model', s.byModel),
          section('by firmware', s.byFirmware),
          section('by port (devices with the port open)', s.byPort),
          section('by protocol (devices speaking it)', s.byProtocol),
          `vulnerabilities (open CVE findings; iotscope vulns lists them)\n${renderTable(['', 'count'], [['vulnerable devices', vulns.vulnerableDevices], ['CVEs', vulns.cves], ['CVEs in CISA KEV', vulns.kevCves], ['devices with a KEV CVE', vulns.kevDevices], ['findings definite / possible', `${vulns.definite} / ${vulns.possible}`]])}\n`,
        ].join('\n'),
      );
    } finally {
      await store.close();
    }
  });

  program
    .command('fingerprint')
    .description('re-identify every address in the store (after new rules or a Recog import)')
    .option('--db <path>', 'store file (default $IOTSCOPE_DB or the user data directory)')
    .action(async (o: { db?: string }) => {
      const store = await openStore(o.db);
      try {
        const r = await refreshDevices(store, classifierFor(o.db));
        process.stdout.write(`${r.devices} devices identified; ${r.events.filter((e) => e.kind !== 'new-device').length} changes recorded\n`);
      } finally {
        await store.close();
      }
    });

  const fp = program.command('fingerprints').description('fingerprint rule sets');
  fp.command('import-recog')
    .description('import Rapid7 Recog XML databases: translated to iotscope rules, used by every later identification')
    .argument('<dir>', 'folder with Recog XML files (the xml/ folder of a Recog checkout)')
    .option('--db <path>', 'store file (default $IOTSCOPE_DB or the user data directory)')
    .option('--json', 'print the import report as JSON')
    .action(async (dir: string, o: { db?: string; json?: boolean }) => {
      if (!existsSync(dir)) throw new CliError(`no such folder: ${dir}`);
      const { vocabulary } = loadRules();
      const imported = importRecog(dir, vocabulary);
      if (!imported.report.total) throw new CliError(`${dir}: no Recog fingerprints found (expected *.xml files of <fingerprints>)`);
      // Keep the user's databases beside the store, replacing any earlier import.
      const target = recogDirFor(o.db);
      rmSync(target, { recursive: true, force: true });
      mkdirSync(target, { recursive: true });
      for (const f of readdirSync(dir)) if (f.endsWith('.xml')) copyFileSync(join(dir, f), join(target, basename(f)));
      const r = imported.report;
      if (o.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      else {
        process.stdout.write(
          `${renderTable(['database', 'fields', 'fingerprints', 'translated', 'approximated', 'skipped', 'examples'], r.databases.map((d) => [d.database, d.fields.join(' '), d.fingerprints, d.translated, d.approximated, d.skipped, d.examples]), 60)}\n`,
        );
        for (const s of r.skipped.slice(0, 20)) process.stdout.write(`skipped ${s.database} #${s.index}: ${printable(s.reason, 200)}\n`);
        if (r.skipped.length > 20) process.stdout.write(`… and ${r.skipped.length - 20} more skipped (--json lists all)\n`);
        if (r.unmapped.length) process.stdout.write(`not used (no matching observation field): ${r.unmapped.join(', ')}\n`);
        process.stdout.write(`${r.translated} of ${r.total} fingerprints translated; kept in ${target}\n`);
      }
      const store = await openStore(o.db);
      try {
        const refreshed = await refreshDevices(store, classifierFor(o.db));
        process.stdout.write(`${refreshed.devices} devices re-identified with the new rules\n`);
      } finally {
        await store.close();
      }
    });
}
