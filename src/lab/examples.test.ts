// Stage: lab ⇄ probes. Every profile's `examples` are checked against a scan of the running lab: by our own probe
// for the protocol where src/probes/<p>/probe.ts exists, otherwise by a real client (UDP M-SEARCH and the UPnP
// description over HTTP, coap-client, a Modbus/TCP request), so the profiles promise only what a scan records.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { XMLParser } from 'fast-xml-parser';
import { parse as parseYaml } from 'yaml';
import { parseScopeYaml } from '../core/scope.ts';
import type { Probe } from '../scan/probe.ts';
import { runProbe } from '../scan/run-probe.ts';
import { type LabDevice, type RunningLab, startLab } from './lab.ts';
import type { LabExample, ServiceSpec } from './profile.ts';

const run = promisify(execFile);
const scope = parseScopeYaml('allow: [127.0.0.0/8]\noperator: iotscope lab examples test\n', 'test', parseYaml);
const BASE = '127.0.0.130';

let lab: RunningLab;
before(async () => {
  lab = await startLab({ base: BASE, highPorts: process.getuid?.() !== 0 });
});
after(async () => {
  await lab?.stop();
});

const probeFolder = (p: ServiceSpec['protocol']) => (p === 'https' ? 'http' : p === 'mqtts' ? 'mqtt' : p);

async function ourProbe(protocol: ServiceSpec['protocol']): Promise<Probe | null> {
  const file = new URL(`../probes/${probeFolder(protocol)}/probe.ts`, import.meta.url);
  if (!existsSync(file)) return null;
  const mod = (await import(file.href)) as Record<string, unknown>;
  return (mod[`${protocol}Probe`] as Probe | undefined) ?? null;
}

async function ssdpByClient(address: string, port: number): Promise<Record<string, unknown>> {
  const sock = dgram.createSocket('udp4');
  const reply = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no SSDP answer')), 3000);
    sock.on('message', (m) => {
      clearTimeout(timer);
      resolve(m.toString('latin1'));
    });
    sock.send(`M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\nMX: 1\r\nST: upnp:rootdevice\r\n\r\n`, port, address);
  });
  sock.close();
  const h: Record<string, string> = {};
  for (const l of reply.split('\r\n').slice(1)) {
    const c = l.indexOf(':');
    if (c > 0) h[l.slice(0, c).toLowerCase()] = l.slice(c + 1).trim();
  }
  const xml = await (await fetch(h.location!)).text();
  const dev = new XMLParser({ parseTagValue: false }).parse(xml).root.device;
  const upnp = { ...dev, udn: dev.UDN };
  return { server: h.server, location: h.location, st: h.st, usn: h.usn, upnp };
}

async function coapByClient(address: string, port: number): Promise<Record<string, unknown>> {
  const { stdout } = await run('coap-client-notls', ['-B', '3', '-m', 'get', `coap://${address}:${port}/.well-known/core`]);
  const resources = stdout
    .trim()
    .split(',')
    .map((entry) => {
      const [target, ...attrs] = entry.split(';');
      return { path: target!.replace(/^<|>$/g, ''), attributes: Object.fromEntries(attrs.map((a) => a.split('=') as [string, string])) };
    });
  return { code: '2.05', resources };
}

async function modbusByClient(address: string, port: number): Promise<Record<string, unknown>> {
  const s = net.connect(port, address);
  const answer = await new Promise<Buffer>((resolve, reject) => {
    s.setTimeout(3000, () => reject(new Error('no Modbus answer')));
    s.on('error', reject);
    s.on('data', resolve);
    s.write(Buffer.from([0x00, 0x07, 0, 0, 0, 5, 0xff, 0x2b, 0x0e, 0x02, 0x00]));
  });
  s.destroy();
  const names = ['vendorName', 'productCode', 'revision', 'vendorUrl', 'productName', 'modelName'];
  const out: Record<string, unknown> = { unitId: answer[6] };
  let pos = 14;
  for (let i = 0; i < answer[13]!; i++) {
    const id = answer[pos]!;
    const len = answer[pos + 1]!;
    if (names[id]) out[names[id]] = answer.subarray(pos + 2, pos + 2 + len).toString('latin1');
    pos += 2 + len;
  }
  return out;
}

function fieldValue(data: Record<string, unknown>, path: string): unknown {
  let v: unknown = data;
  for (const k of path.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

function check(ex: LabExample, value: unknown): void {
  const what = `${ex.port} ${ex.field}`;
  if (ex.equals !== undefined) assert.deepEqual(value, ex.equals, what);
  else if (ex.contains !== undefined) {
    const hay = typeof value === 'string' ? value : JSON.stringify(value ?? null);
    assert.ok(hay.includes(ex.contains), `${what}: ${hay} should contain ${ex.contains}`);
  } else assert.match(String(value), new RegExp(ex.matches!), what);
}

/** which tool checked which protocol, printed at the end */
const checkedBy = new Map<string, string>();

async function observe(device: LabDevice, spec: ServiceSpec): Promise<Record<string, unknown>> {
  const svc = device.services.find((s) => s.declaredPort === spec.port && s.transport === spec.transport)!;
  const probe = await ourProbe(spec.protocol);
  if (probe) {
    checkedBy.set(spec.protocol, `src/probes/${probeFolder(spec.protocol)} ${probe.name} probe`);
    const r = await runProbe(probe, { ip: device.address, port: svc.port, transport: spec.transport }, { scope, limits: { timeoutMs: 3000, connectTimeoutMs: 2000 } });
    assert.equal(r.status, 'success', `${device.profile.name} ${spec.protocol}/${spec.port}: ${r.error ?? ''}`);
    return r.data;
  }
  checkedBy.set(spec.protocol, 'real client');
  if (spec.protocol === 'ssdp') return ssdpByClient(device.address, svc.port);
  if (spec.protocol === 'coap') return coapByClient(device.address, svc.port);
  if (spec.protocol === 'modbus') return modbusByClient(device.address, svc.port);
  throw new Error(`no probe and no client for ${spec.protocol}`);
}

describe('profile examples hold for a scan of the running lab', () => {
  it('covers every profile', () => assert.ok(lab.devices.length >= 8));
  for (const name of ['hikvision-camera', 'hp-printer', 'schneider-plc', 'smarthome-hub', 'synology-nas', 'tplink-router', 'xiongmai-dvr', 'zte-ont']) {
    it(name, async () => {
      const device = lab.devices.find((d) => d.profile.name === name);
      assert.ok(device, `profile ${name} is running`);
      const cache = new Map<ServiceSpec, Promise<Record<string, unknown>>>();
      for (const ex of device.profile.examples) {
        const spec = device.profile.services.find((s) => s.port === ex.port && (!ex.transport || s.transport === ex.transport))!;
        if (!cache.has(spec)) cache.set(spec, observe(device, spec));
        check(ex, fieldValue(await cache.get(spec)!, ex.field));
      }
    });
  }
  after(() => {
    process.stdout.write(`# examples checked by: ${[...checkedBy].map(([p, by]) => `${p}=${by}`).join('; ')}\n`);
  });
});
