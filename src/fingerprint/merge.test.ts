// Stage: fingerprint (tests). Merging per host and tracking over time, on observations shaped like real scans.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import type { Observation } from '../core/observation.ts';
import { createClassifier } from './classify.ts';
import { mergeHost, trackDevice } from './merge.ts';
import { loadRules } from './rules.ts';
import type { Match } from './types.ts';

const { rules, vocabulary } = loadRules();
const classifier = createClassifier(rules, vocabulary);

function obs(port: number, protocol: string, data: Record<string, unknown>, time = '2026-11-01T10:00:00Z', ip = '192.0.2.7'): Observation {
  return { ip, port, transport: protocol === 'snmp' || protocol === 'ssdp' ? 'udp' : 'tcp', protocol, source: `probe:${protocol}`, runId: 'r1', time, status: 'success', data };
}
const merge = (os: Observation[]) => mergeHost(os, os.map((o) => classifier.classify(o)));

test('a Hikvision camera: vendor, model, type and CPE from several services agree', () => {
  const d = merge([
    obs(80, 'http', { server: 'Hikvision-Webs', realm: 'DS-2CD2032-I' }),
    obs(161, 'snmp', { sysObjectID: '1.3.6.1.4.1.39165.1.1', sysDescr: 'Hikvision camera' }, '2026-11-01T10:00:05Z'),
    obs(554, 'rtsp', { server: 'LIVE555 Streaming Media v2013.04.08' }),
  ]);
  assert.equal(d.vendor, 'Hikvision');
  assert.equal(d.model, 'DS-2CD2032-I');
  assert.equal(d.deviceType, 'ip-camera');
  assert.ok(d.cpe.includes('cpe:2.3:h:hikvision:ds-2cd2032-i:-:*:*:*:*:*:*:*'));
  assert.ok(d.cpe.includes('cpe:2.3:a:live555:streaming_media:2013.04.08:*:*:*:*:*:*:*'));
  assert.deepEqual(d.software.map((s) => `${s.port} ${s.product} ${s.version ?? ''}`.trim()), ['80 Hikvision-Webs', '554 LIVE555 Streaming Media 2013.04.08']);
  // Agreement of three sources beats any one of them.
  assert.ok(d.confidence > 0.95, String(d.confidence));
  assert.equal(d.firstSeen, '2026-11-01T10:00:00Z');
  assert.equal(d.lastSeen, '2026-11-01T10:00:05Z');
  for (const e of d.evidence) assert.ok(e.ruleId && e.field && e.observation.port > 0);
});

test('conflicts: the more certain vendor wins, the loser stays as evidence not accepted, its model is not taken', () => {
  const d = merge([
    obs(80, 'http', { realm: 'NETGEAR R7000' }),
    obs(1900, 'ssdp', { upnp: { manufacturer: 'D-Link', modelName: 'DIR-615' } }),
  ]);
  assert.equal(d.vendor, 'Netgear');
  assert.equal(d.model, 'R7000');
  const loser = d.evidence.find((e) => e.gave.device?.vendor === 'D-Link');
  assert.ok(loser && !loser.accepted);
  assert.ok(d.confidence < 0.9, 'a contradiction lowers confidence');
});

test('agreement of two weaker sources outweighs one stronger dissenting source', () => {
  const m = (vendor: string, certainty: number, field: string): Match => ({ ruleId: `r-${vendor}-${field}`, origin: 'own', field, value: 'x', certainty, device: { vendor }, cpe: [], captures: {} });
  const os = [obs(80, 'http', {}), obs(21, 'ftp', {}), obs(22, 'ssh', {})];
  const d = mergeHost(os, [[m('Zyxel', 0.7, 'http.title')], [m('Zyxel', 0.7, 'ftp.banner')], [m('TP-Link', 0.85, 'ssh.software')]]);
  assert.equal(d.vendor, 'Zyxel');
});

test('a specific device type beats the embedded-server fallback; OS of the vendor gives the firmware', () => {
  const d = merge([
    obs(80, 'http', { server: 'GoAhead-Webs' }),
    obs(23, 'telnet', { banner: 'MikroTik v6.42.3 (stable)\r\nLogin: ' }),
    obs(22, 'ssh', { ident: 'SSH-2.0-ROSSSH', software: 'ROSSSH' }),
  ]);
  assert.equal(d.deviceType, 'router');
  assert.equal(d.vendor, 'MikroTik');
  assert.equal(d.firmware, '6.42.3');
  assert.deepEqual(d.os, { vendor: 'MikroTik', product: 'RouterOS', version: '6.42.3' });
});

test('no matches: an empty but valid record; mixed addresses are refused', () => {
  const d = merge([obs(9999, 'unknown', { banner: 'hello' })]);
  assert.equal(d.vendor, undefined);
  assert.equal(d.confidence, 0);
  assert.deepEqual(d.cpe, []);
  assert.throws(() => merge([obs(80, 'http', {}), obs(80, 'http', {}, undefined, '192.0.2.8')]), /mixed/);
});

test('tracking: first seen kept, firmware change reported, unknowns carried over', () => {
  const first = merge([obs(21, 'ftp', { banner: '220 MikroTik FTP server (MikroTik 6.45.9) ready' }, '2026-10-01T00:00:00Z')]);
  const t0 = trackDevice(undefined, first);
  assert.deepEqual(t0.events.map((e) => e.kind), ['new-device']);
  const second = merge([obs(21, 'ftp', { banner: '220 MikroTik FTP server (MikroTik 6.49.10) ready' }, '2026-11-01T00:00:00Z')]);
  const t1 = trackDevice(t0.device, second);
  assert.equal(t1.device.firstSeen, '2026-10-01T00:00:00Z');
  assert.equal(t1.device.lastSeen, '2026-11-01T00:00:00Z');
  assert.deepEqual(t1.events, [{ kind: 'firmware-changed', ip: '192.0.2.7', time: '2026-11-01T00:00:00Z', from: '6.45.9', to: '6.49.10' }]);
  // A scan that saw only the web server keeps what was known.
  const third = merge([obs(80, 'http', { title: 'RouterOS router configuration page' }, '2026-12-01T00:00:00Z')]);
  const t2 = trackDevice(t1.device, third);
  assert.equal(t2.device.firmware, '6.49.10');
  assert.deepEqual(t2.events, []);
  // Another maker at the same address: identity change, nothing carried over.
  const fourth = merge([obs(80, 'http', { realm: 'NETGEAR R7000' }, '2027-01-01T00:00:00Z')]);
  const t3 = trackDevice(t2.device, fourth);
  assert.deepEqual(t3.events.map((e) => e.kind), ['identity-changed']);
  assert.equal(t3.device.firmware, undefined);
});
