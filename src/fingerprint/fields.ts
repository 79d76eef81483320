// Stage: fingerprint (input). Reads the observation fields rules are written against ('http.server',
// 'snmp.sysDescr', …) out of an observation's `data`, by the protocol the service was recognised as. Device text is
// capped here, once, so no rule ever runs over an unbounded string.
import type { Observation } from '../core/observation.ts';

/** Longest text of one field a rule sees; bodies are capped harder than one-line fields. */
export const FIELD_CAP = 2048;
export const BODY_CAP = 8192;

/** Every field name rules may read. `http.headers.<name>` reads one (lower-case) response header. */
export const FIELDS = [
  'http.server', 'http.title', 'http.realm', 'http.body', 'http.faviconMmh3', 'http.faviconMd5', 'http.cookie',
  'http.poweredBy',
  'tls.subject', 'tls.issuer',
  'ssh.ident', 'ssh.software',
  'telnet.banner', 'ftp.banner', 'ftp.text', 'banner', 'banner.text',
  'ssdp.server', 'upnp.manufacturer', 'upnp.modelName', 'upnp.modelNumber', 'upnp.modelDescription', 'upnp.friendlyName',
  'snmp.sysDescr', 'snmp.sysObjectID',
  'rtsp.server', 'mqtt.brokerVersion',
  'modbus.vendorName', 'modbus.productCode', 'modbus.revision', 'modbus.productName', 'modbus.modelName',
  'service.name', 'service.product', 'service.version', 'service.extraInfo', 'service.deviceType', 'service.cpe', 'service.banner',
] as const;

export function isKnownField(f: string): boolean {
  return (FIELDS as readonly string[]).includes(f) || /^http\.headers\.[a-z0-9-]+$/.test(f);
}

export type FieldValues = [field: string, value: string][];

function str(v: unknown, cap = FIELD_CAP): string | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v !== 'string' || !v) return undefined;
  return v.length > cap ? v.slice(0, cap) : v;
}

/**
 * The generic banner probe stores terminal-safe text (control bytes as \r, \n, \t, \xNN). Banner rules are written
 * against the bytes the service sent, so undo that escaping.
 */
export function unescapePrintable(s: string): string {
  if (!s.includes('\\')) return s;
  return s.replace(/\\(?:x([0-9a-fA-F]{2})|([nrt]))/g, (_, h: string | undefined, c: string | undefined) =>
    h ? String.fromCharCode(parseInt(h, 16)) : c === 'n' ? '\n' : c === 'r' ? '\r' : '\t',
  ).replace(/…$/, '');
}

/**
 * A line-protocol greeting without its status prefixes ("220 ", "220-", "+OK ", "* OK "), the form Recog's banner
 * databases are written against.
 */
export function replyText(s: string): string {
  return s
    .split('\n')
    .map((l) => l.replace(/\r$/, '').replace(/^(?:\d{3}(?:[ -]|$)|\+OK |\* OK )/, ''))
    .join('\n')
    .trim();
}

/** Distinguished name in the order Go's pkix.Name.String() prints it, which is how Recog writes x509 patterns. */
const DN_ORDER: [string, string][] = [
  ['serialNumber', 'SERIALNUMBER'], ['CN', 'CN'], ['OU', 'OU'], ['O', 'O'], ['postalCode', 'POSTALCODE'],
  ['street', 'STREET'], ['L', 'L'], ['ST', 'ST'], ['C', 'C'],
];
export function distinguishedName(rec: unknown): string | undefined {
  // Imported records may carry the DN already formatted.
  if (typeof rec === 'string') return rec ? rec.slice(0, FIELD_CAP) : undefined;
  if (!rec || typeof rec !== 'object') return undefined;
  const r = rec as Record<string, unknown>;
  const parts: string[] = [];
  for (const [key, label] of DN_ORDER) {
    const v = r[key];
    if (typeof v !== 'string' || !v) continue;
    // Node joins repeated attributes with ", ", which cannot be told from a comma inside one value ("Acme, Inc."),
    // the far more common case: keep it one value, its comma escaped as Go does.
    parts.push(`${label}=${v.replace(/([,+"\\<>;])/g, '\\$1')}`);
  }
  return parts.length ? parts.join(',') : undefined;
}

function pushTls(out: FieldValues, tls: unknown): void {
  const cert = (tls as { certificate?: { subject?: unknown; issuer?: unknown } } | undefined)?.certificate;
  if (!cert) return;
  const s = distinguishedName(cert.subject);
  if (s) out.push(['tls.subject', s]);
  const i = distinguishedName(cert.issuer);
  if (i) out.push(['tls.issuer', i]);
}

function pushUpnp(out: FieldValues, dev: unknown, depth: number): void {
  if (!dev || typeof dev !== 'object' || depth > 4) return;
  const d = dev as Record<string, unknown>;
  for (const k of ['manufacturer', 'modelName', 'modelNumber', 'modelDescription', 'friendlyName'] as const) {
    const v = str(d[k], 256);
    if (v) out.push([`upnp.${k}`, v]);
  }
  if (Array.isArray(d.devices)) for (const sub of d.devices.slice(0, 8)) pushUpnp(out, sub, depth + 1);
}

/**
 * The field values of one observation. `wanted` (the fields some rule reads) limits which response headers are
 * emitted; everything else is cheap enough to emit always.
 */
export function observationFields(obs: Pick<Observation, 'protocol' | 'data'>, wantedHeaders?: ReadonlySet<string>): FieldValues {
  const out: FieldValues = [];
  const d = (obs.data ?? {}) as Record<string, unknown>;
  const p = (obs.protocol ?? '').toLowerCase();

  if (p === 'http' || p === 'https' || p.startsWith('http') || p === 'upnp-http') {
    pushField(out, 'http.server', d.server);
    pushField(out, 'http.title', d.title, 512);
    pushField(out, 'http.realm', d.realm, 512);
    pushField(out, 'http.body', d.body, BODY_CAP);
    pushField(out, 'http.faviconMmh3', d.faviconMmh3);
    pushField(out, 'http.faviconMd5', d.faviconMd5);
    const h = d.headers;
    if (h && typeof h === 'object') {
      const headers = h as Record<string, unknown>;
      if (!d.server) pushField(out, 'http.server', headers.server);
      pushField(out, 'http.cookie', headers['set-cookie']);
      pushField(out, 'http.poweredBy', headers['x-powered-by']);
      if (wantedHeaders) for (const name of wantedHeaders) pushField(out, `http.headers.${name}`, headers[name]);
    }
    pushTls(out, d.tls);
  } else if (p === 'rtsp') {
    pushField(out, 'rtsp.server', d.server);
  } else if (p === 'ssh') {
    pushField(out, 'ssh.ident', d.ident);
    pushField(out, 'ssh.software', d.software ?? (typeof d.ident === 'string' ? d.ident.replace(/^SSH-[\d.]+-/, '') : undefined));
  } else if (p === 'telnet') {
    pushField(out, 'telnet.banner', d.banner);
  } else if (p === 'ftp' || p === 'ftps') {
    pushField(out, 'ftp.banner', d.banner);
    if (typeof d.banner === 'string') pushField(out, 'ftp.text', replyText(d.banner));
  } else if (p === 'snmp') {
    pushField(out, 'snmp.sysDescr', d.sysDescr);
    if (typeof d.sysObjectID === 'string') pushField(out, 'snmp.sysObjectID', d.sysObjectID.replace(/^\./, ''));
  } else if (p === 'ssdp' || p === 'upnp') {
    pushField(out, 'ssdp.server', d.server);
    pushUpnp(out, d.upnp, 0);
  } else if (p === 'mqtt' || p === 'mqtts') {
    pushField(out, 'mqtt.brokerVersion', d.brokerVersion);
    pushTls(out, d.tls);
  } else if (p === 'modbus') {
    pushField(out, 'modbus.vendorName', d.vendorName);
    pushField(out, 'modbus.productCode', d.productCode);
    pushField(out, 'modbus.revision', d.revision);
    pushField(out, 'modbus.productName', d.productName);
    pushField(out, 'modbus.modelName', d.modelName);
  } else if (typeof d.banner === 'string') {
    const b = unescapePrintable(d.banner);
    pushField(out, 'banner', b);
    pushField(out, 'banner.text', replyText(b));
  }
  // Generic fallbacks any probe may fill: a TLS handshake and a banner of a recognised-but-unmodelled protocol.
  if (!(p.startsWith('http') || p === 'mqtt' || p === 'mqtts' || p === 'upnp-http') && d.tls) pushTls(out, d.tls);

  // Imported Nmap service detection: { name, product, version, extraInfo, deviceType, cpe[] }.
  const svc = d.service;
  if (svc && typeof svc === 'object') {
    const s = svc as Record<string, unknown>;
    pushField(out, 'service.name', s.name, 256);
    pushField(out, 'service.product', s.product, 256);
    pushField(out, 'service.version', s.version, 256);
    pushField(out, 'service.extraInfo', s.extraInfo, 256);
    pushField(out, 'service.deviceType', s.deviceType, 256);
    if (Array.isArray(s.cpe)) for (const c of s.cpe.slice(0, 16)) pushField(out, 'service.cpe', c, 256);
    // Product and version together, as Nmap prints them, so one pattern can read both.
    if (typeof s.product === 'string' && s.product) {
      const v = typeof s.version === 'string' && s.version ? ` ${s.version}` : '';
      const x = typeof s.extraInfo === 'string' && s.extraInfo ? ` (${s.extraInfo})` : '';
      pushField(out, 'service.banner', `${s.product}${v}${x}`, 512);
    }
  }
  return out;
}

function pushField(out: FieldValues, f: string, v: unknown, cap?: number): void {
  const s = str(v, cap);
  if (s !== undefined) out.push([f, s]);
}

/**
 * The smallest observation that carries `value` in `field`: how rule examples (ours and Recog's) are classified
 * through the same path as scanned data.
 */
export function observationOf(field: string, value: string): Pick<Observation, 'protocol' | 'data'> {
  const [ns, name = ''] = field.split(/\.(.*)/s) as [string, string?];
  switch (ns) {
    case 'http':
      if (name.startsWith('headers.')) return { protocol: 'http', data: { headers: { [name.slice(8)]: value } } };
      if (name === 'cookie') return { protocol: 'http', data: { headers: { 'set-cookie': value } } };
      if (name === 'poweredBy') return { protocol: 'http', data: { headers: { 'x-powered-by': value } } };
      return { protocol: 'http', data: { [name]: name === 'faviconMmh3' && /^-?\d+$/.test(value) ? Number(value) : value } };
    case 'tls':
      // Rule examples are written as formatted DNs; imported certificates may carry them that way too.
      return { protocol: 'https', data: { tls: { certificate: { [name]: value } } } };
    case 'ssh':
      return { protocol: 'ssh', data: name === 'ident' ? { ident: value } : { software: value } };
    case 'telnet':
    case 'ftp':
      return { protocol: ns, data: { banner: value } };
    case 'banner':
      return { protocol: 'unknown', data: { banner: value } };
    case 'ssdp':
      return { protocol: 'ssdp', data: { server: value } };
    case 'upnp':
      return { protocol: 'ssdp', data: { upnp: { [name]: value } } };
    case 'snmp':
    case 'rtsp':
    case 'mqtt':
    case 'modbus':
      return { protocol: ns, data: { [name]: value } };
    case 'service':
      if (name === 'banner') return { protocol: 'unknown', data: { service: { product: value } } };
      return { protocol: 'unknown', data: { service: { [name]: name === 'cpe' ? [value] : value } } };
    default:
      return { protocol: 'unknown', data: {} };
  }
}
