// Stage: probes, MQTT. The probe against the testbed's Mosquitto 2.0.11 (anonymous 1883, TLS 8883, password-only
// 1884) and against loopback peers: an HTTP server, a greeting service, a broker that only speaks 3.1, a silent port.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import * as mqttPacket from 'mqtt-packet';
import { parse as parseYaml } from 'yaml';
import type { MqttData } from '../../core/fields.ts';
import { parseScopeYaml } from '../../core/scope.ts';
import { runProbe } from '../../scan/run-probe.ts';
import { LAB_SCOPE_YAML, ensureTestbed, require_ } from '../../../test/testbed.ts';
import { mqttProbe, mqttsProbe } from './probe.ts';

const scope = parseScopeYaml(LAB_SCOPE_YAML, 'test scope', parseYaml);
const limits = { timeoutMs: 1500, connectTimeoutMs: 1500 };
const HUB = '10.213.0.30';

describe('mqtt probe against the testbed Mosquitto', () => {
  it('1883: anonymous, broker version from $SYS, retained topic names only', async (t) => {
    if (!require_(t, 'testbed')) return;
    ensureTestbed();
    const r = await runProbe(mqttProbe, { ip: HUB, port: 1883, transport: 'tcp' }, { scope, limits });
    assert.equal(r.status, 'success', r.error);
    assert.equal(r.protocol, 'mqtt');
    const d = r.data as MqttData;
    assert.equal(d.connackCode, 0);
    assert.equal(d.protocolVersion, 4);
    assert.equal(d.anonymous, true);
    assert.equal(d.brokerVersion, 'mosquitto version 2.0.11');
    for (const topic of ['home/livingroom/temperature', 'tele/sonoff_4F2A1B/STATE', 'zigbee2mqtt/bridge/state']) assert.ok(d.topics?.includes(topic), topic);
    // names only: no payload text anywhere in the record
    assert.doesNotMatch(JSON.stringify(d), /HomeWifi|21\.5/);
    assert.deepEqual([...r.raw!], [0x20, 0x02, 0x00, 0x00]);
  });

  it('1884: the CONNACK refusal is recorded, anonymous false, nothing subscribed', async (t) => {
    if (!require_(t, 'testbed')) return;
    ensureTestbed();
    const r = await runProbe(mqttProbe, { ip: HUB, port: 1884, transport: 'tcp' }, { scope, limits });
    assert.equal(r.status, 'success', r.error);
    assert.deepEqual(r.data as MqttData, { connackCode: 5, protocolVersion: 4, anonymous: false });
  });

  it('8883: MQTT over TLS with the self-signed hub.lan certificate', async (t) => {
    if (!require_(t, 'testbed')) return;
    ensureTestbed();
    const r = await runProbe(mqttsProbe, { ip: HUB, port: 8883, transport: 'tcp' }, { scope, limits });
    assert.equal(r.status, 'success', r.error);
    assert.equal(r.protocol, 'mqtts');
    const d = r.data as MqttData;
    assert.equal(d.anonymous, true);
    assert.equal(d.brokerVersion, 'mosquitto version 2.0.11');
    assert.equal(d.tls?.certificate?.subject.CN, 'hub.lan');
    assert.equal(d.tls?.certificate?.selfSigned, true);
    assert.match(d.tls?.version ?? '', /^TLSv1\.[23]$/);
  });

  it('the plain probe on the TLS port is not taken for MQTT', async (t) => {
    if (!require_(t, 'testbed')) return;
    ensureTestbed();
    const r = await runProbe(mqttProbe, { ip: HUB, port: 8883, transport: 'tcp' }, { scope, limits });
    assert.notEqual(r.status, 'success');
  });
});

describe('mqtt probe against loopback peers', () => {
  const servers: net.Server[] = [];
  const ports: Record<string, number> = {};
  const connects: Record<string, mqttPacket.IConnectPacket[]> = {};

  const listen = (name: string, onConn: (s: net.Socket) => void) =>
    new Promise<void>((resolve) => {
      const srv = net.createServer((s) => {
        s.on('error', () => {});
        onConn(s);
      });
      srv.listen(0, '127.0.0.1', () => {
        ports[name] = (srv.address() as net.AddressInfo).port;
        resolve();
      });
      servers.push(srv);
    });

  /** A broker that answers CONNECT per `answer(level)` and records what it was sent. */
  const broker = (name: string, answer: (level: number) => Buffer | null) =>
    listen(name, (s) => {
      const parser = mqttPacket.parser({ protocolVersion: 5 });
      parser.on('packet', (p: mqttPacket.Packet) => {
        if (p.cmd !== 'connect') return;
        (connects[name] ??= []).push(p as mqttPacket.IConnectPacket);
        const a = answer((p as mqttPacket.IConnectPacket).protocolVersion ?? 4);
        if (a) s.write(a);
        else s.destroy();
      });
      parser.on('error', () => s.destroy());
      s.on('data', (d) => parser.parse(d));
    });

  before(async () => {
    await listen('http', (s) => s.once('data', () => s.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n')));
    await listen('greeting', (s) => s.write('SSH-2.0-OpenSSH_9.2\r\n'));
    await listen('silent', () => {});
    await broker('v31-only', (level) => mqttPacket.generate({ cmd: 'connack', returnCode: level === 3 ? 0 : 1, sessionPresent: false }));
    await broker('refuses-all', () => mqttPacket.generate({ cmd: 'connack', returnCode: 1, sessionPresent: false }));
  });
  after(() => {
    for (const s of servers) s.close();
  });
  const target = (name: string) => ({ ip: '127.0.0.1', port: ports[name]!, transport: 'tcp' as const });

  it('an HTTP answer is a protocol error with the raw bytes, fast', async () => {
    const t0 = Date.now();
    const r = await runProbe(mqttProbe, target('http'), { scope, limits });
    assert.equal(r.status, 'protocol-error');
    assert.match(Buffer.from(r.raw!).toString(), /^HTTP\/1\.1 400/);
    assert.ok(Date.now() - t0 < 1000);
  });

  it('a service that speaks first is handed back without sending CONNECT', async () => {
    const r = await runProbe(mqttProbe, target('greeting'), { scope, limits });
    assert.equal(r.status, 'protocol-error');
    assert.match(Buffer.from(r.raw!).toString(), /^SSH-2\.0-/);
  });

  it('a broker refusing level 4 gets one CONNECT at level 3 and is recorded at that level', async () => {
    const r = await runProbe(mqttProbe, target('v31-only'), { scope, limits });
    assert.equal(r.status, 'success', r.error);
    assert.equal((r.data as MqttData).protocolVersion, 3);
    assert.equal((r.data as MqttData).anonymous, true);
    assert.deepEqual(
      connects['v31-only']!.map((c) => [c.protocolId, c.protocolVersion]),
      [
        ['MQTT', 4],
        ['MQIsdp', 3],
      ],
    );
    assert.match(connects['v31-only']![0]!.clientId, /^iotscope-[0-9a-f]{4}$/);
  });

  it('a broker refusing every level is tried once per level, then recorded with its code', async () => {
    const r = await runProbe(mqttProbe, target('refuses-all'), { scope, limits });
    assert.equal(r.status, 'success', r.error);
    assert.deepEqual(r.data, { connackCode: 1, protocolVersion: 5 });
    assert.deepEqual(
      connects['refuses-all']!.map((c) => c.protocolVersion),
      [4, 3, 5],
    );
  });

  it('a silent port ends in io-timeout within the read timeout', async () => {
    const t0 = Date.now();
    const r = await runProbe(mqttProbe, target('silent'), { scope, limits: { timeoutMs: 400, connectTimeoutMs: 400 } });
    assert.equal(r.status, 'io-timeout');
    assert.ok(Date.now() - t0 < 1200);
  });
});
