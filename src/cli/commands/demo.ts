// Stage: CLI front-end. The first thing a new user runs: emulated devices from content/lab on 127.0.0.x, a scope
// that allows exactly them, a real scan into the embedded store, and the table of what was found.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { formatPortList } from '../../core/ports.ts';
import { LabError, labScopeYaml, startLab } from '../../lab/lab.ts';
import { ProfileError } from '../../lab/profile.ts';
import { defaultPorts } from '../../probes/index.ts';
import { CliError } from '../errors.ts';
import { labTable } from './lab.ts';
import { SCAN_DEFAULTS, scanCommand } from './scan.ts';

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('start the emulated IoT lab on 127.0.0.x, scan it into the store, and show what was found')
    .option('--profiles <names>', 'comma-separated lab profiles (default: all)')
    .option('--base <address>', 'address of the first emulated device', '127.0.0.10')
    .option('--db <path>', 'store file (default $IOTSCOPE_DB or the user data directory)')
    .option('--json', 'print observations as JSON lines instead of the table')
    .action(async (o: { profiles?: string; base: string; db?: string; json?: boolean }) => {
      const root = process.getuid?.() === 0;
      let lab;
      try {
        lab = await startLab({ base: o.base, highPorts: !root, ...(o.profiles ? { profiles: o.profiles.split(',').map((s) => s.trim()) } : {}) });
      } catch (e) {
        if (e instanceof LabError || e instanceof ProfileError) throw new CliError(e.message);
        throw e;
      }
      const dir = mkdtempSync(join(tmpdir(), 'iotscope-demo-'));
      try {
        process.stderr.write(`emulated devices${root ? '' : ' (not root: ports below 1024 moved to port+10000)'}:\n${labTable(lab.devices)}\n\n`);
        const scopeFile = join(dir, 'lab-scope.yaml');
        writeFileSync(scopeFile, labScopeYaml(lab.devices));
        // The usual ports of every probe, plus wherever the lab put its services.
        const ports = defaultPorts();
        for (const d of lab.devices) for (const s of d.services) (s.transport === 'tcp' ? ports.tcp : ports.udp).push(s.port);
        ports.tcp = [...new Set(ports.tcp)].sort((a, b) => a - b);
        ports.udp = [...new Set(ports.udp)].sort((a, b) => a - b);
        await scanCommand(
          lab.devices.map((d) => d.address),
          { ...SCAN_DEFAULTS, scope: scopeFile, ports: formatPortList(ports), db: o.db, json: o.json, progress: true },
        );
        if (!o.json) process.stdout.write('explore: iotscope hosts · iotscope services --protocol telnet · iotscope services --json\n');
      } finally {
        await lab.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    });
}
