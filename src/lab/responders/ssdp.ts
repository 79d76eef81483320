// Stage: lab. The SSDP responder: unicast M-SEARCH answered with the device's SERVER, ST, USN and a LOCATION on its
// own loopback address, plus the UPnP device description XML that the device's HTTP service then serves.
import dgram from 'node:dgram';
import type { ServiceOf, UpnpDeviceSpec } from '../profile.ts';
import { type RunningService, type ServiceContext, bindUdp } from './common.ts';
import type { HttpRoute } from './http.ts';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function deviceXml(d: UpnpDeviceSpec, indent: string): string {
  const el = (name: string, v: string | undefined) => (v === undefined ? '' : `${indent}  <${name}>${esc(v)}</${name}>\n`);
  let out = `${indent}<device>\n`;
  out += el('deviceType', d.deviceType) + el('friendlyName', d.friendlyName) + el('manufacturer', d.manufacturer) + el('manufacturerURL', d.manufacturerURL);
  out += el('modelDescription', d.modelDescription) + el('modelName', d.modelName) + el('modelNumber', d.modelNumber) + el('modelURL', d.modelURL);
  out += el('serialNumber', d.serialNumber) + el('UDN', d.udn);
  if (d.services.length) {
    out += `${indent}  <serviceList>\n`;
    for (const s of d.services) {
      out += `${indent}    <service>\n`;
      for (const k of ['serviceType', 'serviceId', 'controlURL', 'eventSubURL', 'SCPDURL'] as const) out += `${indent}      <${k}>${esc(s[k])}</${k}>\n`;
      out += `${indent}    </service>\n`;
    }
    out += `${indent}  </serviceList>\n`;
  }
  if (d.devices.length) out += `${indent}  <deviceList>\n${d.devices.map((c) => deviceXml(c, `${indent}    `)).join('')}${indent}  </deviceList>\n`;
  out += el('presentationURL', d.presentationURL);
  return out + `${indent}</device>\n`;
}

/** The root description document (UPnP Device Architecture 1.0). */
export function descriptionXml(spec: ServiceOf<'ssdp'>): string {
  return `<?xml version="1.0"?>\n<root xmlns="urn:schemas-upnp-org:device-1-0">\n  <specVersion>\n    <major>1</major>\n    <minor>0</minor>\n  </specVersion>\n${deviceXml(spec.device, '  ')}</root>\n`;
}

/** The route the lab adds to the device's HTTP service on the location port. */
export function descriptionRoute(spec: ServiceOf<'ssdp'>): HttpRoute {
  return { path: spec.location.path, method: 'GET', status: 200, headers: { 'Content-Type': 'text/xml; charset="utf-8"' }, body: descriptionXml(spec) };
}

function allDevices(d: UpnpDeviceSpec): UpnpDeviceSpec[] {
  return [d, ...d.devices.flatMap(allDevices)];
}

/** The (ST, USN) pairs a device announces, per UPnP DA 1.0 §1.1.2. */
export function searchTargets(root: UpnpDeviceSpec): { st: string; usn: string }[] {
  const out = [{ st: 'upnp:rootdevice', usn: `${root.udn}::upnp:rootdevice` }];
  for (const d of allDevices(root)) {
    out.push({ st: d.udn, usn: d.udn }, { st: d.deviceType, usn: `${d.udn}::${d.deviceType}` });
    for (const s of d.services) out.push({ st: s.serviceType, usn: `${d.udn}::${s.serviceType}` });
  }
  // a service type used by two embedded devices is still one answer per USN; keep the list bounded
  return out.slice(0, 32);
}

export interface MSearch {
  st: string;
  man: string;
}

export function parseMSearch(text: string): MSearch | null {
  const lines = text.split(/\r?\n/);
  if (!/^M-SEARCH \* HTTP\/1\.1$/i.test(lines[0]?.trim() ?? '')) return null;
  const h: Record<string, string> = {};
  for (const l of lines.slice(1)) {
    const c = l.indexOf(':');
    if (c > 0) h[l.slice(0, c).trim().toUpperCase()] = l.slice(c + 1).trim();
  }
  if (!h.ST || !/ssdp:discover/i.test(h.MAN ?? '')) return null;
  return { st: h.ST, man: h.MAN! };
}

export async function startSsdp(spec: ServiceOf<'ssdp'>, ctx: ServiceContext): Promise<RunningService> {
  const location = `http://${ctx.address}:${ctx.portOf(spec.location.port)}${spec.location.path}`;
  const targets = searchTargets(spec.device);
  const socket = dgram.createSocket('udp4');
  socket.on('message', (msg, rinfo) => {
    if (msg.length > 2048) return;
    const req = parseMSearch(msg.toString('latin1'));
    if (!req) return;
    const matching = req.st === 'ssdp:all' ? targets : targets.filter((t) => t.st === req.st);
    for (const t of matching) {
      const reply =
        'HTTP/1.1 200 OK\r\n' +
        `CACHE-CONTROL: max-age=${spec.maxAge}\r\n` +
        `DATE: ${new Date().toUTCString()}\r\n` +
        'EXT:\r\n' +
        `LOCATION: ${location}\r\n` +
        `SERVER: ${spec.server}\r\n` +
        `ST: ${t.st}\r\n` +
        `USN: ${t.usn}\r\n` +
        '\r\n';
      socket.send(reply, rinfo.port, rinfo.address);
    }
  });
  return bindUdp(socket, ctx);
}
