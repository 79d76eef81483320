// Stage: records. The observation is the one fact type every source produces — the scanner's probes and every
// importer — and every later stage (fingerprinting, assessment, statistics) reads. Pure types, no I/O.

/** The closed set of probe outcomes. The words are ZGrab2's, so its output imports one to one. */
export const PROBE_STATUSES = [
  'success',
  'connection-refused',
  'connection-timeout',
  'connection-closed',
  'handshake-error',
  'io-timeout',
  'protocol-error',
  'application-error',
  'blocklisted-target',
  'unknown-error',
] as const;
export type ProbeStatus = (typeof PROBE_STATUSES)[number];

export function isProbeStatus(s: unknown): s is ProbeStatus {
  return typeof s === 'string' && (PROBE_STATUSES as readonly string[]).includes(s);
}

export type Transport = 'tcp' | 'udp';

/** Where an observation came from: a probe of one of our scan runs, or an importer reading a foreign file. */
export interface Provenance {
  /** 'probe:http', 'import:nmap', … */
  source: string;
  /** the scan run or import run that produced it */
  runId: string;
}

export interface Observation extends Provenance {
  ip: string;
  port: number;
  transport: Transport;
  /** the protocol the service was recognised as speaking ('http', 'mqtt', …), or 'unknown' */
  protocol: string;
  /** ISO 8601 */
  time: string;
  status: ProbeStatus;
  /** structured facts, protocol-specific (see each probe's README-comment for its fields) */
  data: Record<string, unknown>;
  /** a capped copy of the first bytes the service sent, where useful as evidence */
  raw?: Uint8Array;
  /** fields of an imported record that iotscope does not model, kept verbatim */
  extra?: Record<string, unknown>;
}
