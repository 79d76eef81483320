// Tests of the exposure checks: every check file's examples (one generator over all of them), loader errors that
// name the file and the check, and the checks over observations read by the real importers from their samples.
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Observation } from '../core/observation.ts';
import { readImport } from '../importers/index.ts';
import { CheckLoadError, evaluateChecks, exampleObservation, loadChecks, parseCheckFile, valuesAt } from './checks.ts';
import { assessObservations } from './exposure.ts';
import { evaluatePopulation } from './population.ts';

const checks = loadChecks();
const here = dirname(fileURLToPath(import.meta.url));

describe('check examples', () => {
  it('loads the required set of checks', () => {
    const ids = new Set([...checks.checks, ...checks.population].map((c) => c.id));
    for (const id of ['telnet-exposed', 'http-cleartext-login', 'ftp-cleartext', 'mqtt-anonymous', 'mqtt-cleartext', 'snmp-default-community', 'ssdp-amplifier', 'upnp-igd-control', 'coap-exposed', 'rtsp-no-auth', 'modbus-exposed', 'adb-exposed', 'cwmp-exposed', 'tls-old-version', 'tls-weak-cipher', 'tls-rsa-key-short', 'tls-certificate-expired', 'tls-self-signed-m2m', 'ssh-weak-kex', 'ssh-weak-cipher', 'ssh-weak-mac', 'upnp-serial-number-leak', 'mac-address-leak', 'firmware-version-leak', 'ssh-host-key-shared', 'tls-key-shared'])
      assert.ok(ids.has(id), `missing check ${id}`);
  });
  for (const c of checks.checks) {
    it(`${c.file} ${c.id}: positive examples match, negative ones do not`, () => {
      for (const [i, e] of c.examples.entries()) {
        const o = exampleObservation(e);
        assert.equal(c.test(o), true, `example ${i + 1} ${e.note ?? JSON.stringify(e.data).slice(0, 80)} should match`);
        const f = evaluateChecks([c], [o]);
        assert.equal(f.length, 1);
        assert.equal(f[0]!.kind, c.kind);
        for (const ev of c.evidence) if (valuesAt(o, ev).length) assert.ok(ev in f[0]!.evidence, `evidence ${ev} recorded`);
      }
      for (const [i, e] of c.counterexamples.entries()) assert.equal(c.test(exampleObservation(e)), false, `counterexample ${i + 1} ${e.note ?? JSON.stringify(e.data).slice(0, 80)} must not match`);
    });
  }
  for (const p of checks.population) {
    it(`${p.file} ${p.id}: flags exactly the listed addresses`, () => {
      for (const ex of p.examples) {
        const obs = ex.observations.map((e) => exampleObservation(e));
        const flagged = [...new Set(evaluatePopulation([p], obs).map((f) => f.ip))].sort();
        assert.deepEqual(flagged, [...ex.flagged].sort(), ex.note);
      }
    });
  }
  it('a failed probe exposes nothing', () => {
    const o: Observation = { ...exampleObservation({ port: 23, transport: 'tcp', protocol: 'telnet', data: {} }), status: 'connection-refused' };
    assert.equal(evaluateChecks(checks.checks, [o]).length, 0);
  });
});

describe('check loader', () => {
  const good = (over: string) => `checks:
  - id: demo-check
    title: Demo
    kind: exposure
    severity: low
    tags: [demo]
    references: [https://example.org/]
    remediation: Fix it.
    reads: [protocol]
${over}`;
  const base = `    match: { field: protocol, equals: telnet }
    examples: [{ port: 23, protocol: telnet }]
    counterexamples: [{ port: 22, protocol: ssh }]
`;
  it('accepts a valid check', () => {
    assert.equal(parseCheckFile(good(base), 'demo.yaml').checks.length, 1);
  });
  const cases: [string, string, RegExp][] = [
    ['unknown key', good(base + '    bogus: 1\n'), /bogus/],
    ['field not under reads', good(base.replace('field: protocol', 'field: data.banner')), /reads data\.banner/],
    ['bad regex', good(base.replace('equals: telnet', "regex: '(('")), /bad regex/],
    ['no test', good(base.replace(', equals: telnet', '')), /needs a test/],
    ['no counterexample', good(base.replace('counterexamples: [{ port: 22, protocol: ssh }]', 'counterexamples: []')), /negative example/],
    ['bad field path', good(base.replace('field: protocol', 'field: "constructor"')), /a field is/],
    ['bad kind', good(base).replace('kind: exposure', 'kind: vulnerability'), /kind/],
  ];
  for (const [name, text, re] of cases)
    it(`refuses ${name}, naming file and check`, () => {
      assert.throws(
        () => parseCheckFile(text, 'demo.yaml'),
        (e: unknown) => e instanceof CheckLoadError && e.file === 'demo.yaml' && e.checkId === 'demo-check' && re.test(e.message) && e.message.startsWith('demo.yaml: check demo-check'),
      );
    });
  it('refuses text that is not YAML, naming the file', () => {
    assert.throws(() => parseCheckFile('checks: [', 'x.yaml'), /x\.yaml: not YAML/);
  });
  it('matchers never throw on hostile observation data', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.string(), (data, proto) => {
        const o: Observation = { ...exampleObservation({ port: 1, transport: 'tcp', protocol: proto, data: {} }), data: { x: data, tls: data, upnp: data, kex: data } as Record<string, unknown> };
        evaluateChecks(checks.checks, [o]);
        evaluatePopulation(checks.population, [o, o]);
      }),
      { numRuns: 300 },
    );
  });
});

async function imported(file: string): Promise<Observation[]> {
  const out: Observation[] = [];
  for await (const o of readImport(join(here, '..', 'importers', 'testdata', file), { importTime: '2026-11-25T03:00:00.000Z' })) out.push(o);
  return out;
}
const idsAt = (fs: { ip: string; port?: number; id: string }[], ip: string, port: number) => fs.filter((f) => f.ip === ip && f.port === port).map((f) => f.id).sort();

describe('checks on imported samples', () => {
  it('zgrab2: telnet, cleartext HTTP Basic, FTP, anonymous MQTT, self-signed MQTTS, Modbus', async () => {
    const f = assessObservations(checks, await imported('zgrab2.jsonl'));
    assert.ok(idsAt(f, '10.213.0.10', 23).includes('telnet-exposed'));
    assert.ok(idsAt(f, '10.213.0.20', 21).includes('ftp-cleartext'));
    assert.deepEqual(idsAt(f, '10.213.0.30', 1883), ['mqtt-anonymous', 'mqtt-cleartext']);
    assert.deepEqual(idsAt(f, '10.213.0.30', 1884), ['mqtt-cleartext']);
    assert.ok(idsAt(f, '10.213.0.30', 8883).includes('mqtt-anonymous'));
    assert.ok(idsAt(f, '10.213.0.30', 8883).includes('tls-self-signed-m2m'));
    assert.ok(idsAt(f, '10.213.0.30', 502).includes('modbus-exposed'));
    assert.equal(f.filter((x) => x.ip === '10.213.0.40').length, 0, 'failed zgrab2 records raise nothing');
  });
  it('shodan: anonymous MQTT, old TLS on HTTPS, SNMP answering, CoAP over IPv6', async () => {
    const f = assessObservations(checks, await imported('shodan-banners.json'));
    assert.ok(idsAt(f, '192.0.2.11', 1883).includes('mqtt-anonymous'));
    assert.ok(idsAt(f, '192.0.2.13', 443).includes('tls-old-version'));
    assert.ok(idsAt(f, '192.0.2.14', 161).includes('snmp-default-community'));
    assert.ok(idsAt(f, '2001:db8::15', 5683).includes('coap-exposed'));
  });
  it('nmap: telnet, RTSP, Modbus, MQTT from -sV output', async () => {
    const f = assessObservations(checks, await imported('nmap-testbed-tcp.xml'));
    assert.ok(idsAt(f, '10.213.0.10', 23).includes('telnet-exposed'));
    assert.ok(idsAt(f, '10.213.0.20', 23).includes('telnet-exposed'));
    assert.ok(idsAt(f, '10.213.0.30', 502).includes('modbus-exposed'));
    assert.ok(idsAt(f, '10.213.0.20', 21).includes('ftp-cleartext'));
    assert.equal(idsAt(f, '10.213.0.10', 21).length, 0, 'closed ports raise nothing');
  });
  it('shadowserver: scan_mqtt_anon and scan_telnet reports', async () => {
    const mq = assessObservations(checks, await imported('2026-11-20-scan_mqtt_anon-example-asn.csv'));
    assert.ok(mq.some((x) => x.id === 'mqtt-anonymous'));
    const tn = assessObservations(checks, await imported('2026-11-20-scan_telnet-example-asn.csv'));
    assert.ok(tn.some((x) => x.id === 'telnet-exposed'));
  });
});
