// Stage: probes (ssdp). The M-SEARCH request, a tolerant parse of the HTTPU answers, and the UPnP device description
// XML turned into UpnpDevice records: pure functions, every size capped, no entity expansion beyond XML's own five
// and character references, nesting and counts bounded.
import { XMLParser } from 'fast-xml-parser';
import { bytesToText } from '../../core/bytes.ts';
import type { UpnpDevice } from '../../core/fields.ts';

export const SSDP_LIMITS = {
  maxHeaders: 32,
  maxHeaderValue: 512,
  maxDatagram: 8192,
  /** description documents larger than this are cut off and most likely fail to parse: the point */
  maxDescriptionBytes: 64 * 1024,
  maxFieldChars: 256,
  maxDevices: 16,
  maxDeviceDepth: 4,
  maxServicesPerDevice: 32,
};

export function encodeMSearch(o: { ip: string; port: number; st: string; mx: number; userAgent: string }): Buffer {
  const host = o.ip.includes(':') ? `[${o.ip}]` : o.ip;
  const lines = [
    'M-SEARCH * HTTP/1.1',
    `HOST: ${host}:${o.port}`,
    'MAN: "ssdp:discover"',
    `MX: ${o.mx}`,
    `ST: ${o.st}`,
    `USER-AGENT: ${o.userAgent.replace(/[\r\n]+/g, ' ').slice(0, 200)}`,
    '',
    '',
  ];
  return Buffer.from(lines.join('\r\n'), 'latin1');
}

export interface SsdpResponse {
  statusCode: number;
  /** lower-cased names; repeated headers joined with ", " */
  headers: Record<string, string>;
}

export type SsdpParse = { ok: true; response: SsdpResponse } | { ok: false; error: string };

/** An M-SEARCH answer: "HTTP/1.x 200 OK" and headers. A NOTIFY is not an answer to us and is refused. */
export function parseSsdpResponse(buf: Uint8Array): SsdpParse {
  const text = Buffer.from(buf.subarray(0, SSDP_LIMITS.maxDatagram)).toString('latin1');
  const lines = text.split(/\r?\n/);
  const status = /^HTTP\/1\.[01] (\d{3})(?: |$)/i.exec(lines[0] ?? '');
  if (!status) return { ok: false, error: 'not an HTTPU response' };
  const headers: Record<string, string> = Object.create(null);
  let count = 0;
  for (const line of lines.slice(1)) {
    if (line === '') break;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!/^[!#$%&'*+\-.^_`|~0-9a-z]+$/.test(name)) continue;
    const value = bytesToText(Buffer.from(line.slice(colon + 1).trim(), 'latin1'), SSDP_LIMITS.maxHeaderValue);
    if (Object.hasOwn(headers, name)) headers[name] = `${headers[name]}, ${value}`.slice(0, SSDP_LIMITS.maxHeaderValue);
    else if (count++ < SSDP_LIMITS.maxHeaders) headers[name] = value;
  }
  return { ok: true, response: { statusCode: Number(status[1]), headers: { ...headers } } };
}

// ───────────────────────────── device description ─────────────────────────────

const XML_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** XML's predefined entities and character references; anything else (DTD entities) stays as it is. */
export function decodeXmlText(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-zA-Z]{2,4});/g, (whole, ref: string) => {
    if (ref[0] === '#') {
      const cp = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return cp > 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff) ? String.fromCodePoint(cp) : whole;
    }
    return XML_ENTITIES[ref] ?? whole;
  });
}

const parser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  // entities are decoded by decodeXmlText, field by field: no DTD entity is ever expanded
  processEntities: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  isArray: (name) => name === 'device' || name === 'service',
});

type XmlNode = Record<string, unknown>;

function field(node: XmlNode, name: string): string | undefined {
  let v = node[name];
  if (Array.isArray(v)) v = v[0];
  if (v && typeof v === 'object' && typeof (v as XmlNode)['#text'] === 'string') v = (v as XmlNode)['#text'];
  if (typeof v !== 'string') return undefined;
  const t = decodeXmlText(v).trim().slice(0, SSDP_LIMITS.maxFieldChars);
  return t || undefined;
}

function children(node: XmlNode, list: string, item: string): XmlNode[] {
  const l = node[list];
  if (!l || typeof l !== 'object' || Array.isArray(l)) return [];
  const items = (l as XmlNode)[item];
  return Array.isArray(items) ? items.filter((x): x is XmlNode => !!x && typeof x === 'object') : [];
}

function toDevice(node: XmlNode, depth: number, budget: { devices: number }): UpnpDevice {
  budget.devices++;
  const d: UpnpDevice = {};
  const set = (key: keyof UpnpDevice, xmlName: string) => {
    const v = field(node, xmlName);
    if (v !== undefined) (d as Record<string, unknown>)[key] = v;
  };
  set('deviceType', 'deviceType');
  set('friendlyName', 'friendlyName');
  set('manufacturer', 'manufacturer');
  set('manufacturerURL', 'manufacturerURL');
  set('modelName', 'modelName');
  set('modelNumber', 'modelNumber');
  set('modelDescription', 'modelDescription');
  set('serialNumber', 'serialNumber');
  set('udn', 'UDN');
  set('presentationURL', 'presentationURL');
  const services = children(node, 'serviceList', 'service')
    .slice(0, SSDP_LIMITS.maxServicesPerDevice)
    .flatMap((s) => {
      const serviceType = field(s, 'serviceType');
      if (!serviceType) return [];
      const controlURL = field(s, 'controlURL');
      return [controlURL ? { serviceType, controlURL } : { serviceType }];
    });
  if (services.length) d.services = services;
  if (depth < SSDP_LIMITS.maxDeviceDepth) {
    const devices: UpnpDevice[] = [];
    for (const c of children(node, 'deviceList', 'device')) {
      if (budget.devices >= SSDP_LIMITS.maxDevices) break;
      devices.push(toDevice(c, depth + 1, budget));
    }
    if (devices.length) d.devices = devices;
  }
  return d;
}

export type DescriptionParse = { ok: true; device: UpnpDevice } | { ok: false; error: string };

/** The root device of a UPnP device description (`<root><device>…`), with its embedded devices. */
export function parseDescription(xml: string): DescriptionParse {
  if (xml.length > SSDP_LIMITS.maxDescriptionBytes) return { ok: false, error: 'description larger than the cap' };
  let doc: unknown;
  try {
    doc = parser.parse(xml);
  } catch (e) {
    return { ok: false, error: `not well-formed XML: ${(e as Error).message.slice(0, 200)}` };
  }
  const root = doc && typeof doc === 'object' ? (doc as XmlNode).root : undefined;
  if (!root || typeof root !== 'object') return { ok: false, error: 'no <root> element' };
  const devices = (root as XmlNode).device;
  const first = Array.isArray(devices) ? devices[0] : undefined;
  if (!first || typeof first !== 'object') return { ok: false, error: 'no <device> in <root>' };
  return { ok: true, device: toDevice(first as XmlNode, 0, { devices: 0 }) };
}
