// Stage: scan engine ⇄ probes. The one small interface every protocol folder under src/probes/ implements.
// The engine owns dialing, scope, rate limits, timeouts and byte caps; a probe only speaks its protocol over the
// connections the context hands it, so no probe can reach an address outside the authorised scope.
import type { ProbeStatus, Transport } from '../core/observation.ts';
import type { Conn, TlsDialOptions } from './conn.ts';
import type { UdpChannel } from './udp.ts';

export interface ProbeTarget {
  ip: string;
  port: number;
  transport: Transport;
}

export interface ProbeResult {
  status: ProbeStatus;
  /** the protocol actually recognised; defaults to the probe's name on success */
  protocol?: string;
  data: Record<string, unknown>;
  /** first bytes the service sent, capped; kept as evidence */
  raw?: Uint8Array;
  /** human-readable reason for a non-success status */
  error?: string;
}

export interface ConnectOptions {
  /** another port on the same host (e.g. the UPnP description URL); scope-checked */
  port?: number;
  /** another host (an HTTP redirect or UPnP LOCATION); refused unless inside the scope */
  ip?: string;
  tls?: boolean | TlsDialOptions;
}

export interface ProbeContext {
  readonly target: ProbeTarget;
  /** Opens a TCP connection (to the target unless told otherwise), scope-checked and rate-limited. The first call
   *  may return the connection the engine already opened to read a banner: its bytes are in `conn.buffered`. */
  connect(opts?: ConnectOptions): Promise<Conn>;
  /** A UDP channel to the target (or another in-scope host/port) that only accepts datagrams from it. */
  udp(opts?: { port?: number; ip?: string; connected?: boolean }): Promise<UdpChannel>;
  /** per-read timeout, ms */
  readonly timeoutMs: number;
  /** how many times a UDP request is sent before giving up */
  readonly udpRetries: number;
  /** byte cap per response */
  readonly maxBytes: number;
  /** operator contact, announced where the protocol allows (HTTP User-Agent, …) */
  readonly userAgent: string;
  readonly signal: AbortSignal;
  /** opt-in active checks authorised by the scope file, e.g. 'credentials' */
  readonly authorized: ReadonlySet<string>;
}

export interface Probe {
  /** protocol name, also the folder name: 'http', 'mqtt', … */
  readonly name: string;
  readonly transport: Transport;
  readonly defaultPorts: readonly number[];
  /** speaks over TLS from the first byte (https, mqtts) */
  readonly tls?: boolean;
  /** for services that speak first: does this greeting belong to this protocol? */
  recognizes?(banner: Buffer): boolean;
  /** Speak the protocol to the target and report what it said. Never throws for network trouble: the engine
   *  catches ProbeError and socket errors and maps them to a status. */
  scan(ctx: ProbeContext, target: ProbeTarget): Promise<ProbeResult>;
}

/** Thrown inside probes and connections; the engine turns it into a result with that status. */
export class ProbeError extends Error {
  constructor(
    readonly status: ProbeStatus,
    message: string,
  ) {
    super(message);
    this.name = 'ProbeError';
  }
}

/** Map a Node socket/TLS error to the closed status set. */
export function statusOfError(err: unknown): ProbeStatus {
  if (err instanceof ProbeError) return err.status;
  const e = err as NodeJS.ErrnoException & { library?: string; reason?: string };
  switch (e?.code) {
    case 'ECONNREFUSED':
      return 'connection-refused';
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EINVAL':
      return 'connection-timeout';
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ERR_STREAM_DESTROYED':
      return 'connection-closed';
  }
  if (typeof e?.code === 'string' && (e.code.startsWith('ERR_SSL') || e.code.startsWith('ERR_TLS') || e.library === 'SSL routines'))
    return 'handshake-error';
  if (e?.name === 'AbortError') return 'io-timeout';
  return 'unknown-error';
}
