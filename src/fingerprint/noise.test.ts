// Stage: fingerprint (tests). Honeypot and tarpit tagging, and that ordinary devices stay untagged.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import type { Observation, ProbeStatus } from '../core/observation.ts';
import { createClassifier } from './classify.ts';
import { mergeHost } from './merge.ts';
import { excludeNoise, tagNoise, withNoise } from './noise.ts';
import { loadRules } from './rules.ts';

const { rules, vocabulary } = loadRules();
const classifier = createClassifier(rules, vocabulary);
function obs(port: number, protocol: string, data: Record<string, unknown>, status: ProbeStatus = 'success'): Observation {
  return { ip: '198.51.100.9', port, transport: 'tcp', protocol, source: `probe:${protocol}`, runId: 'r', time: '2026-11-01T00:00:00Z', status, data };
}
const device = (os: Observation[]) => mergeHost(os, os.map((o) => (o.status === 'success' ? classifier.classify(o) : [])));

test('an ordinary camera is not noise', () => {
  const os = [obs(80, 'http', { server: 'Hikvision-Webs' }), obs(554, 'rtsp', { server: 'LIVE555 Streaming Media v2013.04.08' }), obs(23, 'telnet', { banner: '(none) login: ' })];
  assert.equal(tagNoise(device(os), os), undefined);
});

test('contradictory identities: several makers and device kinds claimed with high certainty', () => {
  const os = [
    obs(80, 'http', { server: 'Hikvision-Webs' }),
    obs(8080, 'http', { realm: 'NETGEAR R7000' }),
    obs(8081, 'http', { server: 'HP HTTP Server; HP LaserJet Pro MFP M426fdw - F6W17A; Serial Number: X;' }),
    obs(21, 'ftp', { banner: '220 MikroTik FTP server (MikroTik 6.45.9) ready' }),
  ];
  const tag = tagNoise(device(os), os);
  assert.equal(tag?.kind, 'honeypot');
  assert.ok(tag!.reasons.some((r) => /claims 4 makers/.test(r)), tag!.reasons.join('; '));
  assert.ok(tag!.reasons.some((r) => /kinds of device/.test(r)), tag!.reasons.join('; '));
});

test('many different server banners', () => {
  const servers = ['lighttpd/1.4.69', 'nginx/1.18.0', 'Boa/0.94.14rc21', 'GoAhead-Webs', 'thttpd/2.25b 29dec2003', 'mini_httpd/1.19'];
  const os = servers.map((s, i) => obs(8000 + i, 'http', { server: s }));
  const tag = tagNoise(device(os), os);
  assert.ok(tag?.reasons.some((r) => /6 different server identities/.test(r)));
});

test('a tarpit: hundreds of ports that accept and say nothing', () => {
  const os = Array.from({ length: 200 }, (_, i) => obs(1000 + i, 'unknown', {}, 'io-timeout'));
  const tag = tagNoise(device(os), os);
  assert.equal(tag?.kind, 'tarpit');
  assert.match(tag!.reasons[0]!, /accepts connections on 200 ports and says nothing on 200/);
});

test('implausibly many answering ports make a honeypot', () => {
  const os = Array.from({ length: 60 }, (_, i) => obs(2000 + i, 'unknown', { banner: `svc ${i}` }));
  const tag = tagNoise(device(os), os);
  assert.equal(tag?.kind, 'honeypot');
  assert.match(tag!.reasons[0]!, /answers on 60 ports/);
  assert.equal(tagNoise(device(os), os, { maxOpenPorts: 100 }), undefined);
});

test('honeypot defaults count with another sign, and statistics can leave tagged hosts out', () => {
  const os = [
    obs(22, 'ssh', { ident: 'SSH-2.0-OpenSSH_6.0p1 Debian-4+deb7u2', software: 'OpenSSH_6.0p1 Debian-4+deb7u2' }),
    obs(161, 'snmp', { sysDescr: 'Siemens, SIMATIC, S7-200', sysName: 'Technodrome' }),
  ];
  const d = withNoise(device(os), os);
  assert.ok(d.noise?.reasons.some((r) => /Cowrie default SSH version/.test(r) && /Conpot/.test(r)), JSON.stringify(d.noise));
  const clean = device([obs(80, 'http', { server: 'lighttpd/1.4.69' })]);
  assert.deepEqual(excludeNoise([d, clean]), [clean]);
  // One default alone is not enough.
  assert.equal(tagNoise(device([os[0]!]), [os[0]!]), undefined);
});
