// Stage: lab. Starts emulated devices from content/lab profiles, each on its own loopback address (127.0.0.10,
// .11, …; Linux answers on all of 127/8 without configuration), so the whole product can be tried with no network.
import { parseRange } from '../core/ipnum.ts';
import { type LabProfile, type ServiceSpec, loadProfiles } from './profile.ts';
import { startBanner } from './responders/banner.ts';
import { startCoap } from './responders/coap.ts';
import type { RunningService, ServiceContext } from './responders/common.ts';
import { startFtp } from './responders/ftp.ts';
import { type HttpRoute, startHttp } from './responders/http.ts';
import { startModbus } from './responders/modbus.ts';
import { startMqtt } from './responders/mqtt.ts';
import { startRtsp } from './responders/rtsp.ts';
import { startSnmp } from './responders/snmp.ts';
import { descriptionRoute, startSsdp } from './responders/ssdp.ts';
import { startSsh } from './responders/ssh.ts';
import { startTelnet } from './responders/telnet.ts';

export class LabError extends Error {
  override name = 'LabError';
}

export interface LabOptions {
  /** names of the profiles to start (all under the content folder when absent) */
  profiles?: string[];
  /** first device address; the next devices take the following addresses */
  base?: string;
  /** move ports below 1024 to port+10000, for a user who is not root */
  highPorts?: boolean;
  /** profile folder (content/lab) */
  dir?: string;
  /** whether privileged ports can be bound; defaults to "running as root" */
  privileged?: boolean;
}

export interface LabService {
  protocol: ServiceSpec['protocol'];
  transport: 'tcp' | 'udp';
  /** the port the profile declares */
  declaredPort: number;
  /** the port actually bound */
  port: number;
}

export interface LabDevice {
  address: string;
  profile: LabProfile;
  services: LabService[];
}

export interface RunningLab {
  devices: LabDevice[];
  stop(): Promise<void>;
}

export const DEFAULT_BASE = '127.0.0.10';
const HIGH_PORT_OFFSET = 10_000;

/** The device addresses: consecutive from base, all inside 127.0.0.0/8 (the lab never binds elsewhere). */
export function labAddresses(base: string, count: number): string[] {
  const range = parseRange(base);
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(base);
  if (!range || !m || range.first !== range.last) throw new LabError(`--base ${base}: the lab runs on loopback only; give an address in 127.0.0.0/8, e.g. ${DEFAULT_BASE}`);
  const start = (Number(m[1]) << 16) | (Number(m[2]) << 8) | Number(m[3]);
  if (start === 0 || start + count - 1 >= 0xffffff) throw new LabError(`--base ${base}: ${count} devices do not fit between it and 127.255.255.254`);
  return Array.from({ length: count }, (_, i) => {
    const n = start + i;
    return `127.${(n >> 16) & 0xff}.${(n >> 8) & 0xff}.${n & 0xff}`;
  });
}

/** Port to bind for a declared port; throws the "needs root" message when that cannot work. */
export function portPlan(profiles: LabProfile[], opts: { highPorts: boolean; privileged: boolean }): (declared: number) => number {
  const low = profiles.flatMap((p) => p.services.filter((s) => s.port < 1024).map((s) => `${p.name} ${s.protocol}/${s.port}`));
  if (low.length && !opts.privileged && !opts.highPorts)
    throw new LabError(
      `the lab's devices listen on their real ports, and ports below 1024 need root (${low.slice(0, 4).join(', ')}${low.length > 4 ? ', …' : ''}). ` +
        `Run as root, or add --high-ports to move them to port+${HIGH_PORT_OFFSET} (80 → ${80 + HIGH_PORT_OFFSET}).`,
    );
  return (declared) => (opts.highPorts && declared < 1024 ? declared + HIGH_PORT_OFFSET : declared);
}

function selectProfiles(all: LabProfile[], names: string[] | undefined): LabProfile[] {
  if (!names?.length) return all;
  return names.map((n) => {
    const p = all.find((x) => x.name === n);
    if (!p) throw new LabError(`no lab profile named "${n}" (known: ${all.map((x) => x.name).join(', ')})`);
    return p;
  });
}

function startService(spec: ServiceSpec, ctx: ServiceContext, extraHttpRoutes: HttpRoute[]): Promise<RunningService> {
  switch (spec.protocol) {
    case 'http':
    case 'https':
      return startHttp(spec, ctx, extraHttpRoutes);
    case 'telnet':
      return startTelnet(spec, ctx);
    case 'ssh':
      return startSsh(spec, ctx);
    case 'ftp':
      return startFtp(spec, ctx);
    case 'rtsp':
      return startRtsp(spec, ctx);
    case 'mqtt':
    case 'mqtts':
      return startMqtt(spec, ctx);
    case 'snmp':
      return startSnmp(spec, ctx);
    case 'ssdp':
      return startSsdp(spec, ctx);
    case 'coap':
      return startCoap(spec, ctx);
    case 'modbus':
      return startModbus(spec, ctx);
    case 'banner':
      return startBanner(spec, ctx);
  }
}

export async function startLab(opts: LabOptions = {}): Promise<RunningLab> {
  const profiles = selectProfiles(loadProfiles(opts.dir), opts.profiles);
  const addresses = labAddresses(opts.base ?? DEFAULT_BASE, profiles.length);
  const portOf = portPlan(profiles, { highPorts: !!opts.highPorts, privileged: opts.privileged ?? process.getuid?.() === 0 });
  const running: RunningService[] = [];
  const devices: LabDevice[] = [];
  const stop = async () => {
    await Promise.all(running.splice(0).map((r) => r.close().catch(() => {})));
  };
  try {
    for (const [i, profile] of profiles.entries()) {
      const address = addresses[i]!;
      const services: LabService[] = [];
      for (const spec of profile.services) {
        const port = portOf(spec.port);
        const ctx: ServiceContext = { address, port, profile, portOf };
        // the UPnP description is served by the device's HTTP service that SSDP's LOCATION names
        const extra = profile.services.flatMap((s) => (s.protocol === 'ssdp' && s.location.port === spec.port ? [descriptionRoute(s)] : []));
        try {
          running.push(await startService(spec, ctx, extra));
        } catch (e) {
          const err = e as NodeJS.ErrnoException;
          const why =
            err.code === 'EADDRINUSE'
              ? 'the address and port are already in use (is another lab running?)'
              : err.code === 'EACCES'
                ? 'permission denied (ports below 1024 need root; try --high-ports)'
                : err.message;
          throw new LabError(`${profile.name}: cannot start ${spec.protocol} on ${address} ${spec.transport}/${port}: ${why}`);
        }
        services.push({ protocol: spec.protocol, transport: spec.transport, declaredPort: spec.port, port });
      }
      devices.push({ address, profile, services });
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return { devices, stop };
}

/** A scope file that allows exactly the lab's devices, for `iotscope scan`. */
export function labScopeYaml(devices: LabDevice[]): string {
  return `allow: [${devices.map((d) => `${d.address}/32`).join(', ')}]\noperator: iotscope lab user\n`;
}
