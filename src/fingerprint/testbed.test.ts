// Stage: fingerprint (tests). What the testbed's real daemons say, fetched with small bounded clients, classified
// and merged: the camera, the router and the hub must come out as what they imitate.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { before, describe, test } from 'node:test';
import { XMLParser } from 'fast-xml-parser';
import { ensureTestbed, require_ } from '../../test/testbed.ts';
import type { Observation } from '../core/observation.ts';
import { fingerprintHost, loadClassifier } from './index.ts';

const TIMEOUT = 3000;
const CAP = 64 * 1024;

/** Send `request` (if any), collect what comes back until `done`, the peer closes, the cap, or the timeout. */
function tcpExchange(host: string, port: number, request: string | null, done: (b: Buffer) => boolean, ms = TIMEOUT): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const s = connect({ host, port });
    const finish = () => {
      clearTimeout(timer);
      s.destroy();
      resolve(Buffer.concat(chunks));
    };
    const timer = setTimeout(finish, ms);
    s.on('connect', () => request !== null && s.write(request));
    s.on('data', (d) => {
      chunks.push(d);
      size += d.length;
      if (size > CAP || done(Buffer.concat(chunks))) finish();
    });
    s.on('error', finish);
    s.on('close', finish);
  });
}

function parseHttp(raw: Buffer): Record<string, unknown> {
  const text = raw.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  const head = text.slice(0, end < 0 ? text.length : end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of head.slice(1)) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  const body = end < 0 ? '' : text.slice(end + 4);
  const data: Record<string, unknown> = { statusCode: Number(head[0]!.split(' ')[1]), headers, body };
  if (headers.server) data.server = headers.server;
  const realm = /realm="([^"]*)"/i.exec(headers['www-authenticate'] ?? '');
  if (realm) data.realm = realm[1];
  const title = /<title>([^<]*)<\/title>/i.exec(body);
  if (title) data.title = title[1]!.trim();
  return data;
}

const httpGet = async (ip: string, port: number, path: string) =>
  parseHttp(await tcpExchange(ip, port, `GET ${path} HTTP/1.0\r\nHost: ${ip}\r\nUser-Agent: iotscope test suite\r\n\r\n`, () => false));

/** Telnet text with option negotiation (IAC sequences) removed; nothing is ever answered or sent. */
async function telnetBanner(ip: string): Promise<string> {
  const raw = await tcpExchange(ip, 23, null, (b) => /login: ?$/i.test(b.toString('latin1')), TIMEOUT);
  const out: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === 0xff) {
      const cmd = raw[i + 1];
      if (cmd === 0xfa) {
        while (i < raw.length && !(raw[i] === 0xff && raw[i + 1] === 0xf0)) i++;
        i++;
      } else i += cmd !== undefined && cmd >= 0xfb ? 2 : 1;
    } else out.push(raw[i]!);
  }
  return Buffer.from(out).toString('latin1');
}

function upnpDevice(xml: string): Record<string, unknown> {
  const doc = new XMLParser({ parseTagValue: false, isArray: (n) => n === 'device' }).parse(xml) as { root?: { device?: Record<string, unknown>[] } };
  const conv = (d: Record<string, unknown>): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const k of ['manufacturer', 'modelName', 'modelNumber', 'modelDescription', 'friendlyName']) if (typeof d[k] === 'string') out[k] = d[k];
    const sub = (d.deviceList as { device?: Record<string, unknown>[] } | undefined)?.device;
    if (sub) out.devices = sub.map(conv);
    return out;
  };
  const root = doc.root?.device?.[0];
  return root ? conv(root) : {};
}

function ssdpServer(ip: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const sock = createSocket('udp4');
    const timer = setTimeout(() => {
      sock.close();
      resolve(undefined);
    }, TIMEOUT);
    sock.on('message', (m) => {
      const server = /^server:\s*(.+)$/im.exec(m.toString('latin1'));
      clearTimeout(timer);
      sock.close();
      resolve(server?.[1]?.trim());
    });
    sock.send(`M-SEARCH * HTTP/1.1\r\nHOST: ${ip}:1900\r\nMAN: "ssdp:discover"\r\nMX: 1\r\nST: ssdp:all\r\n\r\n`, 1900, ip);
  });
}

async function mqttVersion(ip: string): Promise<string | undefined> {
  const mqtt = await import('mqtt');
  return new Promise((resolve) => {
    const client = mqtt.connect(`mqtt://${ip}:1883`, { connectTimeout: TIMEOUT, reconnectPeriod: 0, clientId: 'iotscope-fp-test' });
    const timer = setTimeout(() => {
      client.end(true);
      resolve(undefined);
    }, TIMEOUT);
    client.on('connect', () => client.subscribe('$SYS/broker/version'));
    client.on('message', (_t, payload) => {
      clearTimeout(timer);
      client.end(true);
      resolve(payload.toString('utf8'));
    });
    client.on('error', () => undefined);
  });
}

/** Modbus/TCP Read Device Identification (0x2B/0x0E), basic objects: vendor name, product code, revision. */
async function modbusIdentity(ip: string): Promise<Record<string, string>> {
  const req = Buffer.from([0x00, 0x01, 0x00, 0x00, 0x00, 0x05, 0x01, 0x2b, 0x0e, 0x01, 0x00]);
  const raw = await tcpExchange(ip, 502, req.toString('latin1'), (b) => b.length >= 6 && b.length >= 6 + b.readUInt16BE(4));
  const out: Record<string, string> = {};
  if (raw.length < 15 || raw[7] !== 0x2b) return out;
  const count = raw[13]!;
  let off = 14;
  const names = ['vendorName', 'productCode', 'revision'];
  for (let k = 0; k < count && off + 2 <= raw.length; k++) {
    const id = raw[off]!;
    const len = raw[off + 1]!;
    const value = raw.subarray(off + 2, off + 2 + len).toString('latin1');
    if (names[id]) out[names[id]!] = value;
    off += 2 + len;
  }
  return out;
}

function snmp(ip: string, oid: string): string | undefined {
  try {
    return execFileSync('snmpget', ['-v2c', '-c', 'public', '-t', '2', '-r', '0', '-Oqvn', ip, oid], { encoding: 'utf8', timeout: 5000 }).trim().replace(/^"|"$/g, '');
  } catch {
    return undefined;
  }
}

const now = () => new Date().toISOString();
function obs(ip: string, port: number, transport: 'tcp' | 'udp', protocol: string, data: Record<string, unknown>): Observation {
  return { ip, port, transport, protocol, source: 'test:testbed', runId: 'fingerprint-test', time: now(), status: 'success', data };
}

describe('testbed devices', () => {
  const classifier = loadClassifier();
  let ready = false;
  before(() => {
    if (process.getuid?.() === 0 || process.env.CI) {
      ensureTestbed();
      ready = true;
    }
  });

  test('camera 10.213.0.10: an IP camera with its UPnP model and firmware', async (t) => {
    if (!require_(t, 'testbed') || !ready) return;
    const ip = '10.213.0.10';
    const http = await httpGet(ip, 80, '/');
    const telnet = await telnetBanner(ip);
    const rtsp = parseHttp(await tcpExchange(ip, 554, `OPTIONS rtsp://${ip}:554/live.sdp RTSP/1.0\r\nCSeq: 1\r\n\r\n`, (b) => b.includes('\r\n\r\n')));
    const upnp = upnpDevice((await httpGet(ip, 49152, '/description.xml')).body as string);
    const ssdp = await ssdpServer(ip);
    assert.equal(http.realm, 'Network Camera');
    assert.match(telnet, /login:/);
    const observations = [
      obs(ip, 80, 'tcp', 'http', http),
      obs(ip, 23, 'tcp', 'telnet', { banner: telnet }),
      obs(ip, 554, 'tcp', 'rtsp', { server: rtsp.server }),
      obs(ip, 1900, 'udp', 'ssdp', { server: ssdp, upnp }),
    ];
    const d = fingerprintHost(classifier, observations);
    t.diagnostic(JSON.stringify({ vendor: d.vendor, model: d.model, firmware: d.firmware, type: d.deviceType, software: d.software, confidence: d.confidence }));
    assert.equal(d.deviceType, 'ip-camera');
    assert.equal(d.vendor, 'iotlab');
    assert.equal(d.model, 'IPC-1080P');
    assert.equal(d.firmware, '5.2.1');
    assert.ok(d.software.some((s) => s.port === 554 && s.product === 'gst-rtsp-server'));
    assert.ok(d.evidence.some((e) => e.ruleId === 'generic-network-camera-realm' && e.accepted));
    assert.equal(d.noise, undefined);
  });

  test('router 10.213.0.20: TP-Link TL-WR841N on OpenWrt with its embedded servers', async (t) => {
    if (!require_(t, 'testbed') || !ready) return;
    const ip = '10.213.0.20';
    const http = await httpGet(ip, 80, '/');
    const sshLine = (await tcpExchange(ip, 22, null, (b) => b.includes('\n'))).toString('latin1').split(/\r?\n/)[0]!;
    const ftp = (await tcpExchange(ip, 21, null, (b) => b.includes('\n'))).toString('latin1').trim();
    const upnp = upnpDevice((await httpGet(ip, 5000, '/rootDesc.xml')).body as string);
    const upnpServer = (await httpGet(ip, 5000, '/rootDesc.xml')).server;
    const sysDescr = snmp(ip, '1.3.6.1.2.1.1.1.0');
    const sysObjectID = snmp(ip, '1.3.6.1.2.1.1.2.0');
    assert.match(sshLine, /^SSH-2\.0-dropbear/);
    const observations = [
      obs(ip, 80, 'tcp', 'http', http),
      obs(ip, 22, 'tcp', 'ssh', { ident: sshLine, software: sshLine.replace(/^SSH-2\.0-/, '') }),
      obs(ip, 21, 'tcp', 'ftp', { banner: ftp, code: 220 }),
      obs(ip, 161, 'udp', 'snmp', { sysDescr, sysObjectID }),
      obs(ip, 5000, 'tcp', 'ssdp', { server: upnpServer, upnp }),
    ];
    const d = fingerprintHost(classifier, observations);
    t.diagnostic(JSON.stringify({ vendor: d.vendor, model: d.model, type: d.deviceType, os: d.os, software: d.software, cpe: d.cpe, confidence: d.confidence }));
    assert.equal(d.deviceType, 'router');
    assert.equal(d.vendor, 'TP-Link');
    assert.equal(d.model, 'TL-WR841N');
    assert.equal(d.os?.product, 'OpenWrt');
    const sw = Object.fromEntries(d.software.map((s) => [s.port, `${s.product} ${s.version}`]));
    assert.equal(sw[22], 'Dropbear SSH 2022.83');
    assert.equal(sw[80], 'lighttpd 1.4.69');
    assert.equal(sw[21], 'vsftpd 3.0.3');
    assert.equal(sw[5000], 'MiniUPnPd 2.3.1');
    assert.ok(d.cpe.includes('cpe:2.3:a:beasts:vsftpd:3.0.3:*:*:*:*:*:*:*'));
    assert.ok(d.cpe.includes('cpe:2.3:h:tp-link:tl-wr841n:14:*:*:*:*:*:*:*'));
    // The lab's own UPnP manufacturer lost to the more certain SNMP evidence and is kept, not accepted.
    assert.ok(d.evidence.some((e) => e.gave.device?.vendor === 'iotlab' && !e.accepted));
  });

  test('hub 10.213.0.30: an MQTT broker (Mosquitto), with Modbus and media-server evidence kept', async (t) => {
    if (!require_(t, 'testbed') || !ready) return;
    const ip = '10.213.0.30';
    const version = await mqttVersion(ip);
    const modbus = await modbusIdentity(ip);
    const dlna = await httpGet(ip, 8200, '/rootDesc.xml');
    assert.equal(version, 'mosquitto version 2.0.11');
    assert.equal(modbus.vendorName, 'iotlab');
    const observations = [
      obs(ip, 1883, 'tcp', 'mqtt', { connackCode: 0, anonymous: true, brokerVersion: version }),
      obs(ip, 502, 'tcp', 'modbus', modbus),
      obs(ip, 8200, 'tcp', 'ssdp', { server: dlna.server, upnp: upnpDevice(dlna.body as string) }),
    ];
    const d = fingerprintHost(classifier, observations);
    t.diagnostic(JSON.stringify({ vendor: d.vendor, model: d.model, firmware: d.firmware, type: d.deviceType, software: d.software }));
    assert.equal(d.deviceType, 'mqtt-broker');
    assert.ok(d.software.some((s) => s.port === 1883 && s.product === 'Mosquitto' && s.version === '2.0.11'));
    assert.ok(d.software.some((s) => s.port === 8200 && s.product === 'MiniDLNA' && s.version === '1.3.0'));
    assert.ok(d.cpe.includes('cpe:2.3:a:eclipse:mosquitto:2.0.11:*:*:*:*:*:*:*'));
    assert.equal(d.vendor, 'iotlab');
    assert.equal(d.firmware, '3.0.0');
  });
});
