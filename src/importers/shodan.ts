// Stage: imports (foreign files → observations). Shodan banners: the JSON lines of `shodan download` (usually
// .json.gz) and the host JSON of the API (/shodan/host/{ip}: the host's facts plus a `data` array of banners).
// Each banner becomes an observation: the raw banner text, Shodan's product/version/CPE under data.service, and
// its protocol blocks (http, ssl, ssh, mqtt, snmp, telnet, ftp, coap) mapped onto src/core/fields.ts; every other
// key (location, org, tags, vulns, _shodan, …) is kept under extra.
import { hash } from 'node:crypto';
import type { Observation, Transport } from '../core/observation.ts';
import { fieldsFromBanner } from './banner-fields.ts';
import { type Importer, type ImportContext, compact, int, ipAddress, isObject, isoTime, observation, port, protocolName, strings, text, withoutPaths } from './importer.ts';
import type { ImportInput } from './input.ts';
import { readJsonRecords } from './json-records.ts';
import { tlsFromShodan } from './tls-map.ts';
import type { ImportPosition } from './errors.ts';

export const shodanImporter: Importer = {
  format: 'shodan',
  description: 'Shodan banners (shodan download .json.gz, API host JSON)',
  sniff(head) {
    const h = head.replace(/^\uFEFF/, '').trimStart();
    if (!h.startsWith('{') && !h.startsWith('[')) return 0;
    const start = h.slice(0, 16384);
    if (/"_shodan"\s*:/.test(start) || /"ip_str"\s*:/.test(start)) return 0.95;
    return 0;
  },
  parse: parseShodan,
};

/** What host JSON puts beside its banners that the banners' observations already carry. */
const HOST_PATHS = ['data', 'ip', 'ip_str', 'ports'] as const;

async function* parseShodan(input: ImportInput, ctx: ImportContext): AsyncGenerator<Observation[]> {
  for await (const batch of readJsonRecords(input, ctx, { multiLine: true })) {
    const out: Observation[] = [];
    for (const { value, line, offset } of batch) {
      const pos = { line, offset };
      if (!isObject(value)) {
        ctx.reject(pos, 'not a Shodan banner or host (expected a JSON object)');
        continue;
      }
      if (Array.isArray(value.data)) {
        // API host JSON: banners in `data`, host facts beside them
        const hostExtra = withoutPaths(value, HOST_PATHS);
        for (const b of value.data) {
          if (!isObject(b)) {
            ctx.reject(pos, 'host JSON: banner is not an object');
            continue;
          }
          const o = bannerObservation(ctx, { ip_str: value.ip_str, ...b }, pos, hostExtra);
          if (o) out.push(o);
        }
        continue;
      }
      const o = bannerObservation(ctx, value, pos, undefined);
      if (o) out.push(o);
    }
    if (out.length) yield out;
  }
}

/** Shodan module names ("https", "http-simple-new", "rtsp-tcp", "mqtt-8883", …) onto our protocol names. */
function protocolOf(module: string | undefined, hasSsl: boolean): string {
  if (!module) return 'unknown';
  const m = module.toLowerCase();
  if (m === 'https' || m.startsWith('https-')) return 'https';
  const base = m.split('-')[0]!;
  return protocolName(base, hasSsl);
}

const MAPPED = ['ip', 'ip_str', 'ipv6', 'port', 'transport', 'timestamp', 'data', 'product', 'version', 'cpe', 'cpe23', 'devicetype', 'info', 'os', 'hostnames', 'http.status', 'http.title', 'http.server', 'http.html', 'http.favicon.hash', 'http.location', 'http.redirects', 'ssl', 'ssh.type', 'ssh.key', 'ssh.kex', 'mqtt.code', 'mqtt.messages', 'snmp.description', 'snmp.name', 'snmp.contact', 'snmp.location', 'snmp.objectid', 'snmp.uptime', 'ftp.features', 'coap.resources'];

function bannerObservation(ctx: ImportContext, b: Record<string, unknown>, pos: ImportPosition, hostExtra: Record<string, unknown> | undefined): Observation | null {
  const ip = ipAddress(b.ipv6) ?? ipAddress(b.ip_str) ?? (typeof b.ip === 'number' && b.ip >= 0 && b.ip <= 0xffffffff ? [b.ip >>> 24, (b.ip >>> 16) & 255, (b.ip >>> 8) & 255, b.ip & 255].join('.') : ipAddress(b.ip));
  if (!ip) {
    ctx.reject(pos, 'banner without an IP address ("ip_str")');
    return null;
  }
  const portNo = port(b.port);
  if (portNo === undefined) {
    ctx.reject(pos, `banner without a valid port (${JSON.stringify(b.port ?? null)})`);
    return null;
  }
  const transport: Transport = b.transport === 'udp' ? 'udp' : 'tcp';
  const meta = isObject(b._shodan) ? b._shodan : {};
  const protocol = protocolOf(typeof meta.module === 'string' ? meta.module : undefined, isObject(b.ssl));
  const banner = typeof b.data === 'string' ? b.data : '';
  const data: Record<string, unknown> = fieldsFromBanner(protocol, banner);
  const cpe = strings(b.cpe23) ?? strings(b.cpe);
  const service = compact({
    name: typeof meta.module === 'string' ? meta.module : undefined,
    product: text(b.product, 256),
    version: text(b.version, 256),
    extraInfo: text(b.info, 512),
    deviceType: text(b.devicetype, 64),
    osType: text(b.os, 128),
    cpe: cpe?.length ? cpe : undefined,
  });
  if (Object.keys(service).length) data.service = service;
  const hostnames = strings(b.hostnames);
  if (hostnames?.length) data.host = { hostnames: hostnames.map((name) => ({ name })) };

  const http = isObject(b.http) ? b.http : null;
  if (http) {
    Object.assign(
      data,
      compact({
        statusCode: int(http.status),
        title: text(http.title, 1024),
        server: text(http.server, 512),
        body: text(http.html),
        bodyLength: typeof http.html === 'string' ? Buffer.byteLength(http.html) : undefined,
        bodySha256: typeof http.html === 'string' ? hash('sha256', http.html, 'hex') : undefined,
        faviconMmh3: isObject(http.favicon) ? int(http.favicon.hash) : undefined,
        path: text(http.location, 1024),
        redirects: Array.isArray(http.redirects) ? http.redirects.map((r) => (isObject(r) ? text(r.location, 1024) : undefined)).filter((x): x is string => !!x) : undefined,
      }),
    );
  }
  const tls = tlsFromShodan(b.ssl);
  if (tls) data.tls = tls;
  const ssh = isObject(b.ssh) ? b.ssh : null;
  if (ssh) {
    if (typeof ssh.key === 'string' && typeof ssh.type === 'string') {
      const sha = hash('sha256', Buffer.from(ssh.key, 'base64'), 'base64').replace(/=+$/, '');
      data.hostKey = { type: ssh.type.slice(0, 64), sha256: `SHA256:${sha}` };
    }
    const kex = isObject(ssh.kex) ? ssh.kex : null;
    if (kex) {
      const enc = strings(kex.encryption_algorithms) ?? [];
      const mac = strings(kex.mac_algorithms) ?? [];
      data.kex = { kexAlgorithms: strings(kex.kex_algorithms) ?? [], hostKeyAlgorithms: strings(kex.server_host_key_algorithms) ?? [], ciphersClientToServer: enc, ciphersServerToClient: enc, macsClientToServer: mac, macsServerToClient: mac, compression: strings(kex.compression_algorithms) ?? [] };
    }
  }
  const mqtt = isObject(b.mqtt) ? b.mqtt : null;
  if (mqtt) {
    const code = int(mqtt.code);
    Object.assign(data, compact({ connackCode: code, anonymous: code === undefined ? undefined : code === 0 }));
    if (Array.isArray(mqtt.messages)) {
      const topics = mqtt.messages.map((m) => (isObject(m) ? text(m.topic, 256) : undefined)).filter((x): x is string => !!x);
      if (topics.length) data.topics = topics.slice(0, 50);
    }
  }
  const snmp = isObject(b.snmp) ? b.snmp : null;
  if (snmp) Object.assign(data, compact({ sysDescr: text(snmp.description, 1024), sysName: text(snmp.name, 256), sysContact: text(snmp.contact, 256), sysLocation: text(snmp.location, 256), sysObjectID: text(snmp.objectid, 256), sysUpTime: int(snmp.uptime) }));
  const ftp = isObject(b.ftp) ? b.ftp : null;
  if (ftp && isObject(ftp.features)) data.features = Object.keys(ftp.features).slice(0, 100);
  const coap = isObject(b.coap) ? b.coap : null;
  if (coap && isObject(coap.resources)) {
    data.resources = Object.entries(coap.resources)
      .slice(0, 256)
      .map(([path, attrs]) => ({ path: path.slice(0, 256), attributes: isObject(attrs) ? Object.fromEntries(Object.entries(attrs).map(([k, v]) => [k, String(v).slice(0, 256)])) : {} }));
  }
  const extra: Record<string, unknown> = { ...(withoutPaths(b, MAPPED) ?? {}) };
  if (hostExtra) extra.host = hostExtra;
  ctx.stats.records++;
  return observation(ctx, 'shodan', { ip, port: portNo, transport, protocol, time: isoTime(b.timestamp) ?? ctx.importTime, status: 'success', data, extra });
}
