// Stage: imports (foreign files → observations). Event observations: what honeypots, sinkholes and incident
// pipelines report about an address (Cowrie logs, IntelMQ events, Shadowserver event/compromised reports).
// They are kept as observations so they travel with provenance like every other fact; the incidents stage
// turns them into incidents.
//
// Shape: an event observation has protocol 'event', transport 'tcp' unless the event says 'udp', status
// 'success', ip = the address the event is about (the attacking / infected / reported host: Cowrie's src_ip,
// IntelMQ's source.ip, Shadowserver's ip or src_ip), port = that host's own port when the report names a service
// on it, else 0 (a client's ephemeral source port says nothing about the device and goes to data.src.port),
// and data = ImportedEvent below.
import type { Observation } from '../core/observation.ts';
import { type ImportContext, type ImportFormat, compact, observation } from './importer.ts';

export type EventSeverity = 'critical' | 'high' | 'medium' | 'low' | 'info';

export interface EventEndpoint {
  ip?: string;
  port?: number;
  asn?: number;
  geo?: string;
  hostname?: string;
}

export interface ImportedEvent {
  /** which feed reported it: 'cowrie', 'intelmq:<feed.name>', 'shadowserver:<report type>' */
  feed: string;
  /** what kind of event, in IntelMQ classification.type words where known: 'infected-system', 'brute-force',
   *  'scanner', 'ddos', 'vulnerable-system', 'system-compromise', or the feed's own event id ('cowrie.login.failed') */
  category: string;
  /** IntelMQ classification.taxonomy ('malicious-code', 'intrusion-attempts', …) where known */
  taxonomy?: string;
  /** the feed's own event name (Cowrie eventid, Shadowserver report type, IntelMQ classification.identifier) */
  eventType?: string;
  /** malware family / botnet name ('mirai', …) */
  family?: string;
  severity?: EventSeverity;
  tags?: string[];
  /** when the event happened (the observation's time is the same) */
  time: string;
  /** the host the event is about, and the other end (honeypot sensor, sinkhole, victim) */
  src?: EventEndpoint;
  dst?: EventEndpoint;
  /** application protocol involved ('ssh', 'telnet', 'http', …) and transport */
  appProtocol?: string;
  transport?: string;
  /** credentials an attacker tried on a honeypot (the attacker's, not ours) */
  username?: string;
  password?: string;
  /** a command an attacker ran, a URL fetched or reported, a payload hash */
  command?: string;
  url?: string;
  sha256?: string;
  md5?: string;
  /** honeypot session / sensor identifiers */
  session?: string;
  sensor?: string;
  /** device identification the feed attached (Shadowserver device_* columns) */
  device?: { vendor?: string; type?: string; model?: string; version?: string };
  /** CVE ids the feed attached */
  vulnerabilities?: string[];
  message?: string;
}

export function eventObservation(ctx: ImportContext, format: ImportFormat, ev: ImportedEvent, opts: { ip: string; port?: number; transport?: 'tcp' | 'udp'; extra?: Record<string, unknown> }): Observation {
  ctx.stats.records++;
  if (ev.src && !Object.keys(ev.src).length) delete ev.src;
  if (ev.dst && !Object.keys(ev.dst).length) delete ev.dst;
  return observation(ctx, format, {
    ip: opts.ip,
    port: opts.port ?? 0,
    transport: opts.transport ?? (ev.transport === 'udp' ? 'udp' : 'tcp'),
    protocol: 'event',
    time: ev.time,
    status: 'success',
    data: compact(ev as unknown as Record<string, unknown>),
    extra: opts.extra,
  });
}

const SEVERITIES: readonly string[] = ['critical', 'high', 'medium', 'low', 'info'];
export function severity(v: unknown): EventSeverity | undefined {
  if (typeof v !== 'string') return undefined;
  const s = v.trim().toLowerCase();
  return SEVERITIES.includes(s) ? (s as EventSeverity) : undefined;
}

export function cves(s: string | undefined): string[] | undefined {
  if (!s) return undefined;
  const found = s.match(/CVE-\d{4}-\d{4,7}/gi);
  return found ? [...new Set(found.map((c) => c.toUpperCase()))] : undefined;
}
