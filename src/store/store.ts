// Stage: storage. The Store interface every implementation (SQLite now, PostgreSQL next) provides, and the shapes
// it returns. Stages above talk to this interface only; src/store/conformance.ts is the suite each must pass.
import type { Observation, ProbeStatus, Transport } from '../core/observation.ts';
import type { Finding, FindingKind, FindingState, Severity } from '../core/finding.ts';
import type { Device, DeviceEvent } from '../fingerprint/types.ts';

export type RunKind = 'scan' | 'import';
export type RunStatus = 'running' | 'done' | 'interrupted' | 'failed';

/** Where a scan stands, so an interrupted one can continue: every task index below `watermark`, and those listed
 *  in `doneAbove`, are finished and their observations stored. */
export interface RunProgress {
  total: number;
  watermark: number;
  doneAbove: number[];
  found: number;
}

export interface Run {
  id: string;
  kind: RunKind;
  status: RunStatus;
  startedAt: string;
  finishedAt: string | null;
  /** what was asked for: targets, ports, options (scan) or file and format (import) */
  spec: Record<string, unknown>;
  progress: RunProgress | null;
  /** free-form counters and messages of the run */
  summary: Record<string, unknown>;
}

export interface ObservationFilter {
  runId?: string;
  ip?: string;
  /** CIDR or range */
  network?: string;
  port?: number;
  transport?: Transport;
  protocol?: string;
  status?: ProbeStatus | 'any';
  since?: string;
  until?: string;
  limit?: number;
  offset?: number;
}

export interface HostObservations {
  ip: string;
  observations: StoredObservation[];
}

/** One service: the latest observation of an (ip, port, transport), with when it was first and last seen. */
export interface ServiceRow {
  ip: string;
  port: number;
  transport: Transport;
  protocol: string;
  status: ProbeStatus;
  source: string;
  firstSeen: string;
  lastSeen: string;
  data: Record<string, unknown>;
}

export interface HostRow {
  ip: string;
  services: number;
  ports: string[];
  protocols: string[];
  firstSeen: string;
  lastSeen: string;
}

export interface StoredObservation extends Observation {
  id: number;
}

export interface DeviceFilter {
  vendor?: string;
  /** device type from the vocabulary: ip-camera, router, … */
  type?: string;
  model?: string;
  firmware?: string;
  /** CIDR or range */
  network?: string;
  /** hosts tagged as likely honeypots or tarpits: left out by default */
  noise?: 'exclude' | 'include' | 'only';
  limit?: number;
  offset?: number;
}

export interface CountRow {
  key: string;
  count: number;
}

/** Counts over the inventory: devices by identity, services by port and protocol. */
export interface InventoryStats {
  devices: number;
  noiseExcluded: number;
  byType: CountRow[];
  byVendor: CountRow[];
  byModel: CountRow[];
  byFirmware: CountRow[];
  byPort: CountRow[];
  byProtocol: CountRow[];
}

export interface FindingFilter {
  ip?: string;
  network?: string;
  kind?: FindingKind;
  /** check id or CVE id */
  id?: string;
  /** this severity or worse */
  minSeverity?: Severity;
  state?: FindingState | 'any';
  limit?: number;
  offset?: number;
}

/** What one assessment looked at: its findings replace the open ones of these kinds on these addresses. */
export interface AssessmentScope {
  ips: string[];
  kinds: FindingKind[];
  /** when the assessment saw the data */
  time: string;
}

export interface FindingChanges {
  opened: number;
  stillOpen: number;
  fixed: number;
}

export class StoreError extends Error {
  override name = 'StoreError';
}

export interface ImportOptions {
  batchSize?: number;
  /** counters known only once the source is exhausted (records skipped, format found), kept in the run's summary */
  summary?: () => Record<string, unknown>;
}

export interface Store {
  readonly kind: string;
  /** where the data lives, for messages */
  readonly location: string;

  createRun(run: Omit<Run, 'finishedAt' | 'summary'> & Partial<Pick<Run, 'finishedAt' | 'summary'>>): Promise<void>;
  getRun(id: string): Promise<Run | null>;
  listRuns(opts?: { kind?: RunKind; limit?: number }): Promise<Run[]>;
  finishRun(id: string, status: RunStatus, summary?: Record<string, unknown>): Promise<void>;

  /** Store a batch of observations and the run's new progress atomically: either both land or neither does. */
  commitScanBatch(runId: string, observations: Observation[], progress: RunProgress): Promise<void>;

  /**
   * Store everything an import yields (observations, or batches of them as importers produce them) in one
   * transaction. If the iterable throws, nothing is stored and the error propagates; not even the run is recorded.
   */
  importObservations(run: Omit<Run, 'status' | 'finishedAt' | 'progress' | 'summary'>, source: AsyncIterable<Observation | readonly Observation[]>, opts?: ImportOptions): Promise<{ stored: number }>;

  observations(filter?: ObservationFilter): Promise<StoredObservation[]>;
  /** Stream every matching observation, for stages that walk the whole store (fingerprinting, assessment). */
  iterateObservations(filter?: ObservationFilter): AsyncIterable<StoredObservation>;
  countObservations(filter?: ObservationFilter): Promise<number>;
  /**
   * The observations of each address, one address at a time (in address order, each address's observations in
   * the order they were stored): of the given addresses, or of every address in the store. For the stages that
   * re-read what they know of every address an import or a scan touched: one query per few hundred addresses
   * instead of one per address. Addresses without matching observations are left out.
   */
  observationsByHost(filter?: { ips?: Iterable<string>; status?: ProbeStatus | 'any' }): AsyncIterable<HostObservations>;
  services(filter?: ObservationFilter): Promise<ServiceRow[]>;
  hosts(filter?: ObservationFilter): Promise<HostRow[]>;

  /** Save device records (replacing each address's previous record) and the events that led to them, atomically. */
  saveDevices(devices: Device[], events: DeviceEvent[]): Promise<void>;
  getDevice(ip: string): Promise<Device | null>;
  devices(filter?: DeviceFilter): Promise<Device[]>;
  deviceEvents(ip?: string): Promise<DeviceEvent[]>;
  /** Counts of devices (by type, vendor, model, firmware) and of services (by port, protocol) matching the filter. */
  inventoryStats(filter?: DeviceFilter): Promise<InventoryStats>;

  /**
   * Record an assessment's findings: new ones open (first seen = time), ones seen again keep their first-seen and
   * state and get last seen = time, and open ones of the assessed kinds on the assessed addresses that this
   * assessment no longer reports become fixed. A fixed finding seen again re-opens. Atomic.
   */
  recordFindings(scope: AssessmentScope, findings: Omit<Finding, 'firstSeen' | 'lastSeen' | 'state' | 'fixedAt'>[]): Promise<FindingChanges>;
  findings(filter?: FindingFilter): Promise<Finding[]>;
  /** Mark a finding accepted (risk accepted by the owner) or open again. */
  setFindingState(key: string, state: 'open' | 'accepted'): Promise<void>;

  close(): Promise<void>;
}
