// Stage: fingerprint (noise). Tags hosts whose answers cannot all be true — implausibly many open ports, several
// makers claimed with high certainty, a different server banner on every port, honeypot defaults — as likely
// honeypots or tarpits, with the reasons, so statistics can leave them out. Pure functions.
import type { Observation } from '../core/observation.ts';
import type { Device, NoiseTag } from './types.ts';
import { nameKey } from './vocabulary.ts';

export interface NoiseOptions {
  /** more open ports than this is implausible for one IoT device */
  maxOpenPorts: number;
  /** more distinct vendors than this, each claimed with at least `strongCertainty`, is contradictory */
  maxStrongVendors: number;
  /** more distinct specific device types than this, each claimed strongly, is contradictory */
  maxStrongTypes: number;
  /** more distinct HTTP/RTSP/SSH/FTP server identities than this across ports is contradictory */
  maxServerBanners: number;
  strongCertainty: number;
  /** share of open ports that accept and then say nothing, above which a port-rich host is a tarpit */
  silentShare: number;
}

export const DEFAULT_NOISE_OPTIONS: NoiseOptions = {
  maxOpenPorts: 40,
  maxStrongVendors: 2,
  maxStrongTypes: 2,
  maxServerBanners: 4,
  strongCertainty: 0.8,
  silentShare: 0.8,
};

/**
 * Default identities of widely deployed honeypots, as their projects ship them. A real device may say the same, so
 * each is one reason among others, and alone it tags only together with another sign.
 */
const HONEYPOT_DEFAULTS: { field: 'ssh' | 'snmp' | 'http' | 'telnet'; pattern: RegExp; what: string }[] = [
  { field: 'ssh', pattern: /^SSH-2\.0-OpenSSH_6\.0p1 Debian-4\+deb7u2$/, what: 'Cowrie default SSH version' },
  { field: 'snmp', pattern: /\bTechnodrome\b/, what: 'Conpot default system name' },
  { field: 'http', pattern: /\bTechnodrome\b/, what: 'Conpot default web page' },
  { field: 'snmp', pattern: /^Siemens, SIMATIC, S7-200$/, what: 'Conpot default S7-200 sysDescr' },
];

/** Statuses that show something listens on the port. */
const OPEN = new Set(['success', 'io-timeout', 'connection-closed', 'protocol-error', 'application-error', 'handshake-error']);

function serverIdentity(o: Observation): string | undefined {
  const d = o.data as Record<string, unknown>;
  const p = o.protocol;
  const v = p === 'ssh' ? d.ident : p === 'ftp' || p === 'telnet' ? d.banner : p.startsWith('http') || p === 'rtsp' ? d.server : undefined;
  return typeof v === 'string' && v.trim() ? `${p}:${v.trim().slice(0, 200)}` : undefined;
}

/** Why this host is likely a honeypot or tarpit, or undefined when nothing speaks against it. */
export function tagNoise(device: Device, observations: readonly Observation[], options: Partial<NoiseOptions> = {}): NoiseTag | undefined {
  const opt = { ...DEFAULT_NOISE_OPTIONS, ...options };
  const reasons: string[] = [];
  let tarpit = false;

  const open = new Map<string, Observation[]>();
  for (const o of observations) {
    if (o.ip !== device.ip || !OPEN.has(o.status)) continue;
    const k = `${o.transport}/${o.port}`;
    const l = open.get(k);
    if (l) l.push(o);
    else open.set(k, [o]);
  }
  if (open.size > opt.maxOpenPorts) {
    const silent = [...open.values()].filter((os) => os.every((o) => o.status !== 'success')).length;
    if (silent / open.size >= opt.silentShare) {
      tarpit = true;
      reasons.push(`accepts connections on ${open.size} ports and says nothing on ${silent} of them`);
    } else reasons.push(`answers on ${open.size} ports (more than ${opt.maxOpenPorts})`);
  }

  const strongVendors = new Map<string, string>();
  const strongTypes = new Set<string>();
  for (const e of device.evidence) {
    if (e.certainty < opt.strongCertainty) continue;
    const v = e.gave.device?.vendor;
    if (v) strongVendors.set(nameKey(v), v);
    const t = e.gave.device?.type;
    if (t && t !== 'embedded-server' && t !== 'iot-device') strongTypes.add(t);
  }
  if (strongVendors.size > opt.maxStrongVendors) {
    reasons.push(`claims ${strongVendors.size} makers with high certainty: ${[...strongVendors.values()].sort().join(', ')}`);
  }
  if (strongTypes.size > opt.maxStrongTypes) {
    reasons.push(`claims to be ${strongTypes.size} kinds of device: ${[...strongTypes].sort().join(', ')}`);
  }

  const servers = new Set<string>();
  for (const o of observations) {
    if (o.ip !== device.ip || o.status !== 'success') continue;
    const s = serverIdentity(o);
    if (s) servers.add(s);
  }
  if (servers.size > opt.maxServerBanners) reasons.push(`${servers.size} different server identities across its ports`);

  const defaults: string[] = [];
  for (const o of observations) {
    if (o.ip !== device.ip) continue;
    const d = o.data as Record<string, unknown>;
    const text: Record<string, unknown> = { ssh: d.ident, snmp: `${d.sysDescr ?? ''} ${d.sysName ?? ''}`, http: `${d.title ?? ''} ${d.body ?? ''}`, telnet: d.banner };
    for (const h of HONEYPOT_DEFAULTS) {
      const v = text[h.field];
      if ((o.protocol === h.field || (h.field === 'http' && o.protocol.startsWith('http'))) && typeof v === 'string' && h.pattern.test(v)) defaults.push(h.what);
    }
  }
  // A honeypot default alone may be a real device that happens to match; with another sign it is decisive.
  const uniqueDefaults = [...new Set(defaults)];
  if (uniqueDefaults.length >= 2 || (uniqueDefaults.length && reasons.length)) reasons.push(`honeypot defaults: ${uniqueDefaults.join(', ')}`);

  if (!reasons.length) return undefined;
  return { kind: tarpit && reasons.length === 1 ? 'tarpit' : 'honeypot', reasons };
}

/** The device with its noise tag set (or cleared). */
export function withNoise(device: Device, observations: readonly Observation[], options?: Partial<NoiseOptions>): Device {
  const noise = tagNoise(device, observations, options);
  const { noise: _old, ...rest } = device;
  return noise ? { ...rest, noise } : rest;
}

/** Devices that statistics should count: the ones not tagged as noise. */
export function excludeNoise<T extends Pick<Device, 'noise'>>(devices: readonly T[]): T[] {
  return devices.filter((d) => !d.noise);
}
