// Stage: presentation. The columns of every table the dashboard shows and downloads, defined once so the page,
// the CSV and the JSON download of a table always agree.
import type { Finding } from '../core/finding.ts';
import type { ServiceRow } from '../store/store.ts';
import { describeObservation } from '../cli/describe.ts';
import type { Column } from './csv.ts';
import type { AsnRow, CveRow, DeviceRow, NetworkRow, RunTrend, VendorVulnRow } from './queries.ts';

export const DEVICE_COLUMNS: Column<DeviceRow>[] = [
  { header: 'ip', value: (r) => r.ip },
  { header: 'vendor', value: (r) => r.vendor },
  { header: 'product', value: (r) => r.product },
  { header: 'model', value: (r) => r.model },
  { header: 'firmware', value: (r) => r.firmware },
  { header: 'type', value: (r) => r.deviceType },
  { header: 'confidence', value: (r) => Math.round(r.confidence * 100) / 100 },
  { header: 'open_findings', value: (r) => r.openFindings },
  { header: 'cves', value: (r) => r.cves },
  { header: 'kev', value: (r) => r.kev },
  { header: 'first_seen', value: (r) => r.firstSeen },
  { header: 'last_seen', value: (r) => r.lastSeen },
];

const detail = (f: Finding, path: string): unknown => {
  let v: unknown = f.details;
  for (const k of path.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return v ?? null;
};

export const FINDING_COLUMNS: Column<Finding>[] = [
  { header: 'ip', value: (f) => f.ip },
  { header: 'port', value: (f) => (f.port !== undefined ? `${f.port}/${f.transport ?? 'tcp'}` : null) },
  { header: 'severity', value: (f) => f.severity },
  { header: 'kind', value: (f) => f.kind },
  { header: 'id', value: (f) => f.id },
  { header: 'title', value: (f) => f.title },
  { header: 'state', value: (f) => f.state },
  { header: 'cvss', value: (f) => detail(f, 'cvss.score') },
  { header: 'kev', value: (f) => (f.kind === 'vulnerability' ? detail(f, 'kev') !== null : null) },
  { header: 'epss', value: (f) => detail(f, 'epss.score') },
  { header: 'first_seen', value: (f) => f.firstSeen },
  { header: 'last_seen', value: (f) => f.lastSeen },
  { header: 'fixed_at', value: (f) => f.fixedAt ?? null },
  { header: 'remediation', value: (f) => f.remediation },
];

export const CVE_COLUMNS: Column<CveRow>[] = [
  { header: 'cve', value: (r) => r.cve },
  { header: 'title', value: (r) => r.title },
  { header: 'severity', value: (r) => r.severity },
  { header: 'cvss', value: (r) => r.cvss },
  { header: 'kev', value: (r) => r.kev },
  { header: 'epss', value: (r) => r.epss },
  { header: 'devices', value: (r) => r.devices },
];

export const VENDOR_COLUMNS: Column<VendorVulnRow>[] = [
  { header: 'vendor', value: (r) => r.vendor },
  { header: 'devices', value: (r) => r.devices },
  { header: 'vulnerable_devices', value: (r) => r.vulnerableDevices },
  { header: 'cves', value: (r) => r.cves },
  { header: 'kev_cves', value: (r) => r.kevCves },
  { header: 'findings', value: (r) => r.findings },
];

export const MODEL_COLUMNS: Column<VendorVulnRow>[] = [VENDOR_COLUMNS[0]!, { header: 'model', value: (r) => r.model ?? null }, ...VENDOR_COLUMNS.slice(1)];

export const NETWORK_COLUMNS: Column<NetworkRow>[] = [
  { header: 'prefix', value: (r) => r.prefix },
  { header: 'devices', value: (r) => r.devices },
  { header: 'exposed_devices', value: (r) => r.exposedDevices },
  { header: 'vulnerable_devices', value: (r) => r.vulnerableDevices },
  { header: 'kev_devices', value: (r) => r.kevDevices },
  { header: 'open_findings', value: (r) => r.openFindings },
];

export const ASN_COLUMNS: Column<AsnRow>[] = [
  { header: 'asn', value: (r) => (r.asn === null ? 'unknown' : `AS${r.asn}`) },
  { header: 'name', value: (r) => r.name },
  { header: 'devices', value: (r) => r.devices },
  { header: 'exposed_devices', value: (r) => r.exposedDevices },
  { header: 'vulnerable_devices', value: (r) => r.vulnerableDevices },
  { header: 'kev_devices', value: (r) => r.kevDevices },
  { header: 'open_findings', value: (r) => r.openFindings },
];

export const RUN_COLUMNS: Column<RunTrend & { finishedAt?: string | null }>[] = [
  { header: 'run', value: (r) => r.runId },
  { header: 'kind', value: (r) => r.kind },
  { header: 'status', value: (r) => r.status },
  { header: 'started', value: (r) => r.startedAt },
  { header: 'finished', value: (r) => r.finishedAt ?? null },
  { header: 'observations', value: (r) => r.observations },
  { header: 'services', value: (r) => r.services },
  { header: 'hosts', value: (r) => r.hosts },
];

export const SERVICE_COLUMNS: Column<ServiceRow>[] = [
  { header: 'port', value: (s) => `${s.port}/${s.transport}` },
  { header: 'protocol', value: (s) => s.protocol },
  { header: 'summary', value: (s) => describeObservation(s) },
  { header: 'source', value: (s) => s.source },
  { header: 'first_seen', value: (s) => s.firstSeen },
  { header: 'last_seen', value: (s) => s.lastSeen },
];
