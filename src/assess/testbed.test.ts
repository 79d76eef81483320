// The exposure checks against the real testbed daemons: each service probed with iotscope's own probe, the checks
// run on what it recorded, and the expected findings (and their absence where the daemon is safe) asserted.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import type { Observation } from '../core/observation.ts';
import { parseScopeYaml } from '../core/scope.ts';
import { PROBES } from '../probes/index.ts';
import { runProbe } from '../scan/run-probe.ts';
import { LAB_SCOPE_YAML, ensureTestbed, require_ } from '../../test/testbed.ts';
import { assessObservations, defaultChecks } from './exposure.ts';

const scope = parseScopeYaml(LAB_SCOPE_YAML, 'lab scope', parseYaml);

async function probe(name: string, ip: string, port: number): Promise<Observation> {
  const p = PROBES.find((x) => x.name === name)!;
  const r = await runProbe(p, { ip, port, transport: p.transport }, { scope });
  return { ip, port, transport: p.transport, protocol: r.protocol ?? name, status: r.status, data: r.data, time: new Date().toISOString(), source: `probe:${name}`, runId: 'test' };
}

const cases: [probe: string, ip: string, port: number, expect: string[], absent: string[]][] = [
  ['mqtt', '10.213.0.30', 1883, ['mqtt-anonymous', 'mqtt-cleartext'], []],
  ['mqtt', '10.213.0.30', 1884, ['mqtt-cleartext'], ['mqtt-anonymous']],
  ['mqtts', '10.213.0.30', 8883, ['mqtt-anonymous', 'tls-self-signed-m2m'], ['mqtt-cleartext', 'tls-old-version']],
  ['snmp', '10.213.0.20', 161, ['snmp-default-community', 'firmware-version-leak'], []],
  ['telnet', '10.213.0.10', 23, ['telnet-exposed'], ['telnet-shell-without-login']],
  ['telnet', '10.213.0.20', 23, ['telnet-exposed'], []],
  ['rtsp', '10.213.0.10', 554, [], ['rtsp-no-auth']],
  ['rtsp', '10.213.0.10', 8554, ['rtsp-no-auth'], []],
  ['http', '10.213.0.10', 80, ['http-cleartext-login'], []],
  ['http', '10.213.0.30', 8200, [], ['http-cleartext-login']],
  ['ssdp', '10.213.0.20', 1900, ['ssdp-amplifier', 'upnp-igd-control', 'upnp-serial-number-leak'], []],
  ['ssdp', '10.213.0.10', 1900, ['ssdp-amplifier'], ['upnp-igd-control']],
  ['modbus', '10.213.0.30', 502, ['modbus-exposed'], []],
  ['coap', '10.213.0.30', 5683, ['coap-exposed'], []],
  ['ftp', '10.213.0.20', 21, ['ftp-cleartext'], []],
  ['ssh', '10.213.0.20', 22, [], ['ssh-weak-kex', 'ssh-weak-cipher', 'ssh-weak-mac']],
];

describe('checks against the testbed daemons', () => {
  for (const [name, ip, port, expect, absent] of cases) {
    it(`${name} ${ip}:${port}`, async (t) => {
      if (!require_(t, 'testbed')) return;
      ensureTestbed();
      const o = await probe(name, ip, port);
      assert.equal(o.status, 'success', `probe ${name} on ${ip}:${port}`);
      const ids = assessObservations(defaultChecks(), [o]).map((f) => f.id);
      for (const id of expect) assert.ok(ids.includes(id), `${id} expected, got ${ids.join(', ')}`);
      for (const id of absent) assert.ok(!ids.includes(id), `${id} must not be raised`);
    });
  }
});
