// Stage: probes, SNMP. The probe against the testbed's net-snmp 5.9.3 agent (checked against what snmpget reads
// from it), against net-snmp's own agent on loopback, a v1-only agent that answers noSuchName, a silent port and a
// port that answers something else.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import type { SnmpData } from '../../core/fields.ts';
import { parseScopeYaml } from '../../core/scope.ts';
import { runProbe } from '../../scan/run-probe.ts';
import { LAB_SCOPE_YAML, ensureTestbed, require_ } from '../../../test/testbed.ts';
import { SNMP_V1, SNMP_V2C, SYSTEM_OIDS, type SnmpMessage, type SnmpValue, TAG, decodeMessage, encodeMessage } from './codec.ts';
import { snmpProbe } from './probe.ts';

const scope = parseScopeYaml(LAB_SCOPE_YAML, 'test scope', parseYaml);
const limits = { timeoutMs: 1500, udpRetries: 1 };

describe('snmp probe against the testbed net-snmp agent', () => {
  it('10.213.0.20: v2c "public" answers the system group, as snmpget reads it', async (t) => {
    if (!require_(t, 'testbed')) return;
    ensureTestbed();
    const r = await runProbe(snmpProbe, { ip: '10.213.0.20', port: 161, transport: 'udp' }, { scope, limits });
    assert.equal(r.status, 'success', r.error);
    const d = r.data as SnmpData;
    assert.equal(d.version, 'v2c');
    assert.equal(d.community, 'public');
    const { stdout } = await promisify(execFile)('snmpget', ['-On', '-Oq', '-Ov', '-t', '2', '-v2c', '-c', 'public', '10.213.0.20', SYSTEM_OIDS.sysDescr, SYSTEM_OIDS.sysObjectID, SYSTEM_OIDS.sysContact, SYSTEM_OIDS.sysName, SYSTEM_OIDS.sysLocation]);
    const [descr, objectId, contact, name, location] = stdout.trim().split('\n').map((l) => l.replace(/^"|"$/g, ''));
    assert.equal(d.sysDescr, descr);
    assert.equal(d.sysObjectID, objectId!.replace(/^\./, ''));
    assert.equal(d.sysContact, contact);
    assert.equal(d.sysName, name);
    assert.equal(d.sysLocation, location);
    // the facts the lab router is built to show
    assert.match(d.sysDescr!, /^Linux OpenWrt .* TL-WR841N/);
    assert.equal(d.sysObjectID, '1.3.6.1.4.1.8072.3.2.10');
    assert.ok(typeof d.sysUpTime === 'number' && d.sysUpTime > 0);
  });

  it('a host without an agent is reported closed (ICMP port unreachable) well within the probe deadline', async (t) => {
    if (!require_(t, 'testbed')) return;
    ensureTestbed();
    const t0 = Date.now();
    const r = await runProbe(snmpProbe, { ip: '10.213.0.30', port: 161, transport: 'udp' }, { scope, limits: { timeoutMs: 600, udpRetries: 1 } });
    // the host answers the datagram with ICMP port unreachable: closed, without waiting out the retries
    assert.equal(r.status, 'connection-refused');
    assert.ok(Date.now() - t0 < 3 * 600 + 300, `${Date.now() - t0} ms`);
  });
});

type Responder = (m: SnmpMessage) => Buffer | null;

describe('snmp probe against loopback agents', () => {
  const sockets: dgram.Socket[] = [];
  const ports: Record<string, number> = {};
  const received: Record<string, SnmpMessage[]> = {};
  let agent: { close(): void } | null = null;

  const udpServer = (name: string, respond: (msg: Buffer) => Buffer | null) =>
    new Promise<void>((resolve) => {
      const s = dgram.createSocket('udp4');
      s.on('message', (msg, rinfo) => {
        const reply = respond(msg);
        if (reply) s.send(reply, rinfo.port, rinfo.address);
      });
      s.bind(0, '127.0.0.1', () => {
        ports[name] = s.address().port;
        resolve();
      });
      sockets.push(s);
    });
  const fakeAgent = (name: string, respond: Responder) =>
    udpServer(name, (msg) => {
      const d = decodeMessage(msg);
      if (!d.ok) return null;
      (received[name] ??= []).push(d.message);
      return respond(d.message);
    });

  before(async () => {
    // net-snmp's agent: a real, independent implementation, serving two objects of the system group.
    const snmp = createRequire(import.meta.url)('net-snmp');
    // net-snmp turns port 0 into 161: take a free port first.
    const probeSock = dgram.createSocket('udp4');
    await new Promise<void>((r) => probeSock.bind(0, '127.0.0.1', r));
    ports['net-snmp'] = probeSock.address().port;
    await new Promise<void>((r) => probeSock.close(() => r()));
    const a = snmp.createAgent({ port: ports['net-snmp'], address: '127.0.0.1' }, () => {});
    a.getAuthorizer().addCommunity('public');
    const mib = a.getMib();
    for (const [name, oid, value] of [
      ['sysDescr', '1.3.6.1.2.1.1.1', 'Lab agent (net-snmp for Node)'],
      ['sysName', '1.3.6.1.2.1.1.5', 'lab-node'],
    ] as const) {
      mib.registerProvider({ name, type: snmp.MibProviderType.Scalar, oid, scalarType: snmp.ObjectType.OctetString, maxAccess: snmp.MaxAccess['read-only'] });
      mib.setScalarValue(name, value);
    }
    agent = a;

    // An old agent: silent to v2c; in v1 a request naming an unknown object is refused whole with noSuchName.
    const known: Record<string, SnmpValue> = {
      [SYSTEM_OIDS.sysDescr]: { type: 'string', value: Buffer.from('VxWorks SNMPv1/v2c Agent') },
      [SYSTEM_OIDS.sysName]: { type: 'string', value: Buffer.from('plc-7\0') },
      [SYSTEM_OIDS.sysUpTime]: { type: 'timeticks', value: 42 },
    };
    await fakeAgent('v1-only', (m) => {
      if (m.version !== SNMP_V1) return null;
      const unknown = m.varbinds.findIndex((v) => !known[v.oid]);
      if (unknown >= 0) return encodeMessage({ ...m, pduType: TAG.GET_RESPONSE, errorStatus: 2, errorIndex: unknown + 1 });
      return encodeMessage({ ...m, pduType: TAG.GET_RESPONSE, varbinds: m.varbinds.map((v) => ({ oid: v.oid, value: known[v.oid]! })) });
    });
    await fakeAgent('wrong-request-id', (m) => encodeMessage({ ...m, requestId: m.requestId + 1, pduType: TAG.GET_RESPONSE }));
    await udpServer('silent', () => null);
    await udpServer('dns-like', () => Buffer.from('8180000100000000000000', 'hex'));
  });
  after(() => {
    for (const s of sockets) s.close();
    agent?.close();
  });
  const target = (name: string) => ({ ip: '127.0.0.1', port: ports[name]!, transport: 'udp' as const });

  it('net-snmp’s agent: v2c, the objects it has, none it lacks', async () => {
    assert.ok(ports['net-snmp'], 'agent port');
    const r = await runProbe(snmpProbe, target('net-snmp'), { scope, limits });
    assert.equal(r.status, 'success', r.error);
    assert.deepEqual(r.data as SnmpData, { version: 'v2c', community: 'public', sysDescr: 'Lab agent (net-snmp for Node)', sysName: 'lab-node' });
  });

  it('a v1-only agent: falls back to v1 and drops each object it refuses', async () => {
    const r = await runProbe(snmpProbe, target('v1-only'), { scope, limits: { timeoutMs: 600, udpRetries: 1 } });
    assert.equal(r.status, 'success', r.error);
    assert.deepEqual(r.data as SnmpData, { version: 'v1', community: 'public', sysDescr: 'VxWorks SNMPv1/v2c Agent', sysName: 'plc-7', sysUpTime: 42 });
    const msgs = received['v1-only']!;
    assert.equal(msgs.filter((m) => m.version === SNMP_V2C).length, 2, 'v2c sent once plus one retry');
    const v1 = msgs.filter((m) => m.version === SNMP_V1);
    assert.deepEqual(
      v1.map((m) => m.varbinds.length),
      [6, 5, 4, 3],
    );
    assert.ok(new Set(msgs.map((m) => m.requestId)).size === msgs.length - 1, 'a retry repeats its request id; every new request gets a new one');
  });

  it('answers with another request id are not taken; the run ends in protocol-error with what came', async () => {
    const r = await runProbe(snmpProbe, target('wrong-request-id'), { scope, limits: { timeoutMs: 400, udpRetries: 0 } });
    assert.equal(r.status, 'protocol-error');
    assert.ok(r.raw?.length);
  });

  it('a silent port: io-timeout within the deadline; a non-SNMP answer: protocol-error with raw', async () => {
    const t0 = Date.now();
    const silent = await runProbe(snmpProbe, target('silent'), { scope, limits: { timeoutMs: 500, udpRetries: 1 } });
    assert.equal(silent.status, 'io-timeout');
    assert.ok(Date.now() - t0 < 1500);
    const dns = await runProbe(snmpProbe, target('dns-like'), { scope, limits: { timeoutMs: 400, udpRetries: 0 } });
    assert.equal(dns.status, 'protocol-error');
    assert.equal(Buffer.from(dns.raw!).toString('hex'), '8180000100000000000000');
  });
});
