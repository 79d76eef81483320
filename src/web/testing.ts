// Stage: web front-end (test support). A small constituency written through the Store interface — runs,
// observations, devices, findings — including devices whose banners and identities are hostile markup and
// terminal escapes, for the API, browser and report tests.
import type { Observation } from '../core/observation.ts';
import type { Finding } from '../core/finding.ts';
import type { Device } from '../fingerprint/types.ts';
import type { Store } from '../store/store.ts';

type NewFinding = Omit<Finding, 'firstSeen' | 'lastSeen' | 'state' | 'fixedAt'>;

/** Text a hostile device or import can carry; every page must show it literally and run none of it. */
export const HOSTILE = {
  vendor: '<script>window.__pwned=1;alert("vendor")</script>',
  model: '<img src=x onerror="window.__pwned=2;alert(2)">',
  firmware: '"><svg onload=alert(3)>',
  banner: '\u001b[31mRED\u001b]0;owned\u0007 <script>alert(4)</script> login:',
  title: '</title><script>alert(5)</script>',
  csvFormula: '=HYPERLINK("http://evil.invalid","click")',
} as const;

const T1 = '2026-10-01T10:00:00.000Z';
const T2 = '2026-11-01T10:00:00.000Z';

function obs(runId: string, time: string, ip: string, port: number, protocol: string, data: Record<string, unknown>): Observation {
  return { ip, port, transport: 'tcp', protocol, source: `probe:${protocol}`, runId, time, status: 'success', data };
}

function device(ip: string, d: Partial<Device>, time: string): Device {
  return { ip, software: [], cpe: [], confidence: 0.9, evidence: [], firstSeen: T1, lastSeen: time, ...d };
}

function vuln(ip: string, cve: string, score: number, kev: boolean, epss: number): NewFinding {
  return {
    ip,
    kind: 'vulnerability',
    id: cve,
    title: `${cve} in the firmware`,
    severity: score >= 9 ? 'critical' : score >= 7 ? 'high' : 'medium',
    evidence: { answer: 'definite', confidence: 'version-verified' },
    remediation: 'Update the firmware.',
    details: { answer: 'definite', confidence: 'version-verified', cvss: { version: '3.1', score }, kev: kev ? { dateAdded: '2021-11-03', knownRansomwareCampaignUse: 'Unknown' } : null, epss: { score: epss, percentile: 0.9 } },
  };
}

function exposure(ip: string, port: number, id: string, severity: Finding['severity'], title: string): NewFinding {
  return { ip, port, transport: 'tcp', kind: 'exposure', id, title, severity, evidence: { port }, remediation: `Close port ${port} to the internet.` };
}

export interface SeedFacts {
  devices: number;
  noise: number;
  exposedDevices: number;
  vulnerableDevices: number;
  kevDevices: number;
  kevCves: number;
  openFindings: number;
  fixedFindings: number;
  observations: number;
  hostileIp: string;
}

/** Fill the store; returns what the dashboard and report must show for it. */
export async function seedStore(store: Store): Promise<SeedFacts> {
  const run1 = [
    obs('run-1', T1, '10.0.0.1', 80, 'http', { statusCode: 200, server: 'App-webs/', title: 'Hikvision' }),
    obs('run-1', T1, '10.0.0.2', 23, 'telnet', { banner: HOSTILE.banner, loginPrompt: true }),
    obs('run-1', T1, '10.0.1.5', 8291, 'unknown', {}),
  ];
  const run2 = [
    obs('run-2', T2, '10.0.0.1', 80, 'http', { statusCode: 200, server: 'App-webs/', title: 'Hikvision' }),
    obs('run-2', T2, '10.0.0.1', 554, 'rtsp', { server: 'Hikvision RTSP', authRequired: false }),
    obs('run-2', T2, '10.0.0.2', 23, 'telnet', { banner: HOSTILE.banner, loginPrompt: true }),
    obs('run-2', T2, '10.0.0.2', 80, 'http', { statusCode: 200, title: HOSTILE.title, server: HOSTILE.csvFormula }),
    obs('run-2', T2, '10.0.1.5', 80, 'http', { statusCode: 200, title: 'RouterOS router configuration page' }),
    obs('run-2', T2, '2001:db8::7', 1883, 'mqtt', { anonymous: true, connackCode: 0 }),
    obs('run-2', T2, '10.0.2.9', 23, 'telnet', { banner: 'honeypot' }),
  ];
  async function* each(list: Observation[]) {
    yield* list;
  }
  await store.importObservations({ id: 'run-1', kind: 'import', startedAt: T1, spec: { file: 'seed-1' } }, each(run1));
  await store.importObservations({ id: 'run-2', kind: 'import', startedAt: T2, spec: { file: 'seed-2' } }, each(run2));
  await store.saveDevices(
    [
      device('10.0.0.1', { vendor: 'Hikvision', model: 'DS-2CD2032', firmware: 'V5.4.0', deviceType: 'ip-camera' }, T2),
      device('10.0.0.2', { vendor: HOSTILE.vendor, model: HOSTILE.model, firmware: HOSTILE.firmware, deviceType: 'dvr', product: HOSTILE.csvFormula }, T2),
      device('10.0.1.5', { vendor: 'MikroTik', model: 'RB951', firmware: '6.40.1', deviceType: 'router' }, T2),
      device('2001:db8::7', { vendor: 'Eclipse', product: 'Mosquitto', deviceType: 'mqtt-broker' }, T2),
      device('10.0.2.9', { vendor: 'Generic', deviceType: 'router', noise: { kind: 'honeypot', reasons: ['answers on 300 ports'] } }, T2),
    ],
    [
      { kind: 'new-device', ip: '10.0.0.1', time: T1 },
      { kind: 'firmware-changed', ip: '10.0.0.1', time: T2, from: 'V5.3.0', to: 'V5.4.0' },
      { kind: 'new-device', ip: '10.0.0.2', time: T1 },
      { kind: 'identity-changed', ip: '10.0.0.2', time: T2, field: 'model', from: 'x', to: HOSTILE.model },
    ],
  );
  const ips = ['10.0.0.1', '10.0.0.2', '10.0.1.5', '2001:db8::7', '10.0.2.9'];
  // First assessment: an FTP exposure on the router that the second one no longer sees, so it becomes fixed.
  await store.recordFindings({ ips, kinds: ['exposure'], time: T1 }, [exposure('10.0.1.5', 21, 'ftp-exposed', 'medium', 'FTP exposed'), exposure('10.0.0.2', 23, 'telnet-exposed', 'high', 'Telnet exposed')]);
  await store.recordFindings({ ips, kinds: ['exposure'], time: T2 }, [
    exposure('10.0.0.2', 23, 'telnet-exposed', 'high', 'Telnet exposed'),
    exposure('10.0.0.1', 554, 'rtsp-no-auth', 'high', 'RTSP without authentication'),
    exposure('2001:db8::7', 1883, 'mqtt-anonymous', 'high', 'Anonymous MQTT'),
    exposure('10.0.2.9', 23, 'telnet-exposed', 'high', 'Telnet exposed'),
  ]);
  await store.recordFindings({ ips, kinds: ['vulnerability'], time: T2 }, [
    vuln('10.0.0.1', 'CVE-2021-36260', 9.8, true, 0.94),
    vuln('10.0.0.1', 'CVE-2017-7921', 10, true, 0.93),
    vuln('10.0.1.5', 'CVE-2018-14847', 9.1, true, 0.94),
    vuln('10.0.1.5', 'CVE-2019-3924', 5.8, false, 0.2),
  ]);
  return {
    devices: 4,
    noise: 1,
    exposedDevices: 3,
    vulnerableDevices: 2,
    kevDevices: 2,
    kevCves: 3,
    // open findings on non-noise devices: 3 exposures + 4 CVEs
    openFindings: 7,
    fixedFindings: 1,
    observations: run1.length + run2.length,
    hostileIp: '10.0.0.2',
  };
}
