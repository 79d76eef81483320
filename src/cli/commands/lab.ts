// Stage: CLI front-end for the lab: `iotscope lab` starts the emulated devices of content/lab in the foreground,
// prints where they listen and a scope line for `iotscope scan`, and closes everything on Ctrl-C or SIGTERM.
import type { Command } from 'commander';
import { LabError, type LabDevice, labScopeYaml, startLab, DEFAULT_BASE } from '../../lab/lab.ts';
import { ProfileError, loadProfiles } from '../../lab/profile.ts';
import { CliError } from '../errors.ts';
import { renderTable } from '../table.ts';

interface LabCliOptions {
  profiles?: string;
  base: string;
  list?: boolean;
  highPorts?: boolean;
}

function servicesCell(d: LabDevice): string {
  return d.services.map((s) => `${s.protocol} ${s.transport}/${s.port}${s.port !== s.declaredPort ? ` (${s.declaredPort})` : ''}`).join(', ');
}

export function labTable(devices: LabDevice[]): string {
  return renderTable(
    ['address', 'profile', 'device', 'services'],
    devices.map((d) => [d.address, d.profile.name, `${d.profile.device.vendor} ${d.profile.device.model}`, servicesCell(d)]),
    400,
  );
}

export function registerLabCommand(program: Command): void {
  program
    .command('lab')
    .description('start emulated IoT devices on 127.0.0.x loopback addresses, to try iotscope with no network of your own')
    .option('--profiles <names>', 'comma-separated profile names (default: all under content/lab)')
    .option('--base <address>', 'address of the first device; the others follow it', DEFAULT_BASE)
    .option('--list', 'list the profiles and exit')
    .option('--high-ports', 'move ports below 1024 to port+10000 (for running without root)')
    .action(async (opts: LabCliOptions) => {
      try {
        if (opts.list) {
          const profiles = loadProfiles();
          process.stdout.write(
            renderTable(
              ['profile', 'type', 'device', 'services', 'description'],
              profiles.map((p) => [p.name, p.device.type, `${p.device.vendor} ${p.device.model}`, p.services.map((s) => `${s.protocol}/${s.port}`).join(' '), p.description]),
              120,
            ) + '\n',
          );
          return;
        }
        const profiles = opts.profiles
          ?.split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        const lab = await startLab({ ...(profiles ? { profiles } : {}), base: opts.base, highPorts: !!opts.highPorts });
        const first = lab.devices[0]?.address;
        const last = lab.devices.at(-1)?.address;
        process.stdout.write(`${labTable(lab.devices)}\n\n`);
        process.stdout.write(`scope file for these devices (save as lab-scope.yaml):\n${labScopeYaml(lab.devices)}\n`);
        if (first && last) process.stdout.write(`then: iotscope scan ${first}-${last} --scope lab-scope.yaml\n`);
        process.stdout.write(`lab running; Ctrl-C stops it\n`);
        await new Promise<void>((resolve) => {
          const done = () => {
            process.off('SIGINT', done);
            process.off('SIGTERM', done);
            resolve();
          };
          process.on('SIGINT', done);
          process.on('SIGTERM', done);
        });
        await lab.stop();
        process.stdout.write('lab stopped\n');
      } catch (e) {
        if (e instanceof LabError || e instanceof ProfileError) throw new CliError(e.message);
        throw e;
      }
    });
}
