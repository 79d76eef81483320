// Stage: probes, SSDP/UPnP. The probe against the testbed's minissdpd camera, MiniUPnPd router and the minidlna NAS
// (multicast only), and against loopback responders: a description on another loopback port, LOCATIONs that must
// not be fetched (a host name, an address outside the scope), and a port that answers something else.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import type { SsdpData } from '../../core/fields.ts';
import { parseScopeYaml } from '../../core/scope.ts';
import { runProbe } from '../../scan/run-probe.ts';
import { LAB_SCOPE_YAML, ensureTestbed, require_ } from '../../../test/testbed.ts';
import { ssdpProbe } from './probe.ts';

const scope = parseScopeYaml(LAB_SCOPE_YAML, 'test scope', parseYaml);
const limits = { timeoutMs: 1500, connectTimeoutMs: 1500, udpRetries: 1 };

describe('ssdp probe against the testbed', () => {
  it('10.213.0.10 minissdpd: the IPCAM server string and the camera’s description from :49152', async (t) => {
    if (!require_(t, 'testbed')) return;
    ensureTestbed();
    const r = await runProbe(ssdpProbe, { ip: '10.213.0.10', port: 1900, transport: 'udp' }, { scope, limits });
    assert.equal(r.status, 'success', r.error);
    const d = r.data as SsdpData;
    assert.equal(d.server, 'Linux/3.10 UPnP/1.0 IPCAM/1.0');
    assert.equal(d.location, 'http://10.213.0.10:49152/description.xml');
    assert.equal(d.st, 'upnp:rootdevice');
    assert.equal(d.usn, 'uuid:2c6b4f52-0000-1000-8000-0012344f2a1b::upnp:rootdevice');
    assert.deepEqual(d.upnp, {
      deviceType: 'urn:schemas-upnp-org:device:Basic:1',
      friendlyName: 'IPCAM-4F2A1B',
      manufacturer: 'iotlab',
      modelName: 'IPC-1080P',
      modelNumber: 'V5.2.1',
      serialNumber: '4F2A1B000001',
      udn: 'uuid:2c6b4f52-0000-1000-8000-0012344f2a1b',
      presentationURL: 'http://10.213.0.10/',
    });
    assert.match(Buffer.from(r.raw!).toString(), /^HTTP\/1\.1 200 OK\r\n/);
  });

  it('10.213.0.20 MiniUPnPd: the IGD with its WAN devices and control URLs from :5000', async (t) => {
    if (!require_(t, 'testbed')) return;
    ensureTestbed();
    const r = await runProbe(ssdpProbe, { ip: '10.213.0.20', port: 1900, transport: 'udp' }, { scope, limits });
    assert.equal(r.status, 'success', r.error);
    const d = r.data as SsdpData;
    assert.match(d.server!, /UPnP\/1\.1 MiniUPnPd\/2\.3\.1$/);
    assert.equal(d.location, 'http://10.213.0.20:5000/rootDesc.xml');
    const igd = d.upnp!;
    assert.equal(igd.deviceType, 'urn:schemas-upnp-org:device:InternetGatewayDevice:2');
    assert.equal(igd.manufacturer, 'iotlab');
    assert.equal(igd.modelName, 'LabRouter');
    assert.equal(igd.modelNumber, 'WR-1');
    assert.equal(igd.serialNumber, '12345678');
    const wan = igd.devices?.[0];
    assert.equal(wan?.deviceType, 'urn:schemas-upnp-org:device:WANDevice:2');
    const conn = wan?.devices?.[0];
    assert.equal(conn?.modelName, 'MiniUPnPd');
    assert.deepEqual(conn?.services?.find((s) => s.serviceType === 'urn:schemas-upnp-org:service:WANIPConnection:2'), {
      serviceType: 'urn:schemas-upnp-org:service:WANIPConnection:2',
      controlURL: '/ctl/IPConn',
    });
  });

  it('10.213.0.30 minidlna answers multicast only: a unicast search ends in io-timeout, in bounded time', async (t) => {
    if (!require_(t, 'testbed')) return;
    ensureTestbed();
    const t0 = Date.now();
    const r = await runProbe(ssdpProbe, { ip: '10.213.0.30', port: 1900, transport: 'udp' }, { scope, limits });
    assert.equal(r.status, 'io-timeout');
    assert.match(r.error!, /multicast/);
    assert.ok(Date.now() - t0 < 3 * limits.timeoutMs, `${Date.now() - t0} ms`);
  });
});

describe('ssdp probe against loopback responders', () => {
  const sockets: dgram.Socket[] = [];
  const ports: Record<string, number> = {};
  const searches: Record<string, string[]> = {};
  let web: http.Server;
  let webPort = 0;
  const fetched: string[] = [];

  const responder = (name: string, answer: (st: string) => string[] | Buffer | null) =>
    new Promise<void>((resolve) => {
      searches[name] = [];
      const s = dgram.createSocket('udp4');
      s.on('message', (msg, rinfo) => {
        const st = /\r\nST: ([^\r]*)/i.exec(msg.toString())?.[1] ?? '';
        searches[name]!.push(st);
        const a = answer(st);
        if (!a) return;
        for (const d of Buffer.isBuffer(a) ? [a] : a) s.send(Buffer.isBuffer(d) ? d : Buffer.from(d), rinfo.port, rinfo.address);
      });
      s.bind(0, '127.0.0.1', () => {
        ports[name] = s.address().port;
        resolve();
      });
      sockets.push(s);
    });
  const answer = (st: string, location: string) => `HTTP/1.1 200 OK\r\nST: ${st}\r\nUSN: uuid:1234::${st}\r\nSERVER: Linux UPnP/1.0 Lab/1.0\r\nLOCATION: ${location}\r\n\r\n`;

  before(async () => {
    web = http.createServer((req, res) => {
      fetched.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end('<?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0"><device><manufacturer>Lab</manufacturer><modelName>Loop-1</modelName></device></root>');
    });
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
    webPort = (web.address() as { port: number }).port;
    await responder('local', () => [answer('urn:schemas-upnp-org:device:Basic:1', `http://127.0.0.1:${webPort}/desc.xml`), answer('upnp:rootdevice', `http://127.0.0.1:${webPort}/desc.xml`)]);
    await responder('rootdevice-only', (st) => (st === 'upnp:rootdevice' ? [answer(st, `http://127.0.0.1:${webPort}/root.xml`)] : null));
    await responder('hostname', (st) => [answer(st, `http://localhost:${webPort}/name.xml`)]);
    await responder('out-of-scope', (st) => [answer(st, 'http://192.0.2.7:80/desc.xml')]);
    await responder('dns-like', () => Buffer.from('8180000100000000000000', 'hex'));
  });
  after(() => {
    for (const s of sockets) s.close();
    web.close();
  });
  const target = (name: string) => ({ ip: '127.0.0.1', port: ports[name]!, transport: 'udp' as const });

  it('collects the answers, prefers the root device’s, and fetches its description over the scoped dialer', async () => {
    const r = await runProbe(ssdpProbe, target('local'), { scope, limits });
    assert.equal(r.status, 'success', r.error);
    const d = r.data as SsdpData;
    assert.equal(d.st, 'upnp:rootdevice');
    assert.equal(d.server, 'Linux UPnP/1.0 Lab/1.0');
    assert.deepEqual(d.upnp, { manufacturer: 'Lab', modelName: 'Loop-1' });
    assert.ok(fetched.includes('/desc.xml'));
    assert.deepEqual(searches.local, ['ssdp:all']);
  });

  it('a device silent to ssdp:all is asked for upnp:rootdevice on the retry', async () => {
    const r = await runProbe(ssdpProbe, target('rootdevice-only'), { scope, limits: { ...limits, timeoutMs: 500 } });
    assert.equal(r.status, 'success', r.error);
    assert.deepEqual(searches['rootdevice-only'], ['ssdp:all', 'upnp:rootdevice']);
    assert.equal((r.data as SsdpData).upnp?.modelName, 'Loop-1');
  });

  it('a LOCATION with a host name or an address outside the scope is recorded but never fetched', async () => {
    const before = fetched.length;
    for (const name of ['hostname', 'out-of-scope']) {
      const r = await runProbe(ssdpProbe, target(name), { scope, limits });
      assert.equal(r.status, 'success', r.error);
      const d = r.data as SsdpData;
      assert.ok(d.location);
      assert.equal(d.upnp, undefined);
    }
    assert.equal(fetched.length, before);
  });

  it('a non-SSDP answer is a protocol error with the raw bytes', async () => {
    const r = await runProbe(ssdpProbe, target('dns-like'), { scope, limits });
    assert.equal(r.status, 'protocol-error');
    assert.equal(Buffer.from(r.raw!).toString('hex'), '8180000100000000000000');
  });
});
