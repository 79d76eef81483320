// Stage: imports (foreign files → observations). ZGrab2 JSON lines: one observation per module result of every
// line ({"ip", "domain"?, "port"?, "data": {"<scan name>": {"status", "protocol", "result", "timestamp", "error"}}}),
// every status word taken one to one (they are iotscope's), the results of the modules iotscope also probes
// (http, ssh, telnet, ftp, mqtt, modbus, tls, banner and the mail/text banners) mapped onto the fields of
// src/core/fields.ts, and the rest of each result kept under extra.result.
import { hash } from 'node:crypto';
import { isProbeStatus, type Observation, type ProbeStatus } from '../core/observation.ts';
import { authFields } from './banner-fields.ts';
import { type Importer, type ImportContext, compact, int, ipAddress, isObject, isoTime, observation, port, protocolName, strings, text, withoutPaths } from './importer.ts';
import type { ImportInput } from './input.ts';
import { readJsonRecords } from './json-records.ts';
import { tlsFromZgrab } from './tls-map.ts';

/** Ports ZGrab2's modules use when the scan did not set one (its defaults); used only when the output omits it. */
const MODULE_DEFAULT_PORTS: Record<string, number> = {
  http: 80,
  ssh: 22,
  telnet: 23,
  ftp: 21,
  mqtt: 1883,
  modbus: 502,
  tls: 443,
  smtp: 25,
  pop3: 110,
  imap: 143,
  rtsp: 554,
  snmp: 161,
  bacnet: 47808,
  fox: 1911,
  dnp3: 20000,
  siemens: 102,
  redis: 6379,
  mysql: 3306,
  postgres: 5432,
  mssql: 1433,
  mongodb: 27017,
  ntp: 123,
  smb: 445,
  ipp: 631,
  oracle: 1521,
  memcached: 11211,
};
const UDP_MODULES = new Set(['ntp', 'bacnet', 'snmp', 'dnp3-udp']);

// What each mapping copies into `data` (dotted paths in the record, the module entry or its result); the rest of
// the object is kept under extra. Module-level lists, so withoutPaths builds each path tree once.
const RECORD_PATHS = ['ip', 'port', 'data'] as const;
const ENTRY_PATHS = ['status', 'protocol', 'result', 'timestamp', 'error', 'port'] as const;
const FTP_PATHS = ['banner', 'auth_tls', 'tls.handshake_log'] as const;
const MQTT_PATHS = ['connect_return_code', 'session_present', 'tls.handshake_log'] as const;
const TLS_PATHS = ['handshake_log'] as const;
const BANNER_PATHS = ['banner'] as const;
const BANNER_LENGTH_PATHS = ['banner', 'length'] as const;
const BANNER_TLS_PATHS = ['banner', 'tls.handshake_log'] as const;
const HTTP_PATHS = ['response.status_code', 'response.status_line', 'response.headers', 'response.body', 'response.body_sha256', 'response.request.tls_log.handshake_log', 'redirect_response_chain'] as const;
const SSH_PATHS = ['server_id.raw', 'server_id.version', 'server_id.software', 'server_id.comment', 'server_key_exchange.kex_algorithms', 'server_key_exchange.host_key_algorithms', 'server_key_exchange.client_to_server_ciphers', 'server_key_exchange.server_to_client_ciphers', 'server_key_exchange.client_to_server_macs', 'server_key_exchange.server_to_client_macs', 'server_key_exchange.server_to_client_compression', 'server_host_key.raw', 'server_host_key.algorithm'] as const;
const TELNET_PATHS = ['banner', 'do', 'dont', 'will', 'wont'] as const;
const MODBUS_PATHS = ['unit_id', 'mei_response.objects.vendor', 'mei_response.objects.product_code', 'mei_response.objects.revision', 'mei_response.objects.vendor_url', 'mei_response.objects.product_name', 'mei_response.objects.model_name', 'exception_response.exception_type'] as const;

export const zgrab2Importer: Importer = {
  format: 'zgrab2',
  description: 'ZGrab2 JSON lines',
  sniff(head) {
    const line = head.replace(/^\uFEFF/, '').trimStart().split('\n', 1)[0] ?? '';
    if (!line.startsWith('{')) return 0;
    if (/"data"\s*:\s*\{\s*"[^"]+"\s*:\s*\{[^]*"status"\s*:/.test(line) && /"ip"\s*:|"domain"\s*:/.test(line)) return 0.95;
    return 0;
  },
  parse: parseZgrab2,
};

async function* parseZgrab2(input: ImportInput, ctx: ImportContext): AsyncGenerator<Observation[]> {
  for await (const batch of readJsonRecords(input, ctx)) {
    const out: Observation[] = [];
    for (const { value, line, offset } of batch) {
      const pos = { line, offset };
      if (!isObject(value) || !isObject(value.data)) {
        ctx.reject(pos, 'not a ZGrab2 record (expected an object with "ip" and "data")');
        continue;
      }
      const ip = ipAddress(value.ip);
      if (!ip) {
        ctx.reject(pos, value.ip === undefined ? 'ZGrab2 record without "ip" (domain-only targets have no address to record)' : `not an IP address: ${JSON.stringify(String(value.ip).slice(0, 60))}`);
        continue;
      }
      const recordExtra = withoutPaths(value, RECORD_PATHS);
      for (const [scanName, entry] of Object.entries(value.data)) {
        if (!isObject(entry)) {
          ctx.reject(pos, `module ${JSON.stringify(scanName.slice(0, 40))}: result is not an object`);
          continue;
        }
        const o = moduleObservation(ctx, ip, value.port, scanName, entry, recordExtra);
        if (typeof o === 'string') ctx.reject(pos, `module ${JSON.stringify(scanName.slice(0, 40))}: ${o}`);
        else {
          ctx.stats.records++;
          out.push(o);
        }
      }
    }
    if (out.length) yield out;
  }
}

function moduleObservation(ctx: ImportContext, ip: string, recordPort: unknown, scanName: string, entry: Record<string, unknown>, recordExtra: Record<string, unknown> | undefined): Observation | string {
  const module = (typeof entry.protocol === 'string' && entry.protocol ? entry.protocol : scanName).toLowerCase();
  const rawStatus = entry.status;
  const status: ProbeStatus = isProbeStatus(rawStatus) ? rawStatus : 'unknown-error';
  const result = isObject(entry.result) ? entry.result : {};
  const mapped = mapResult(module, result, status);
  let portNo = port(entry.port) ?? port(recordPort) ?? mapped.port ?? MODULE_DEFAULT_PORTS[module];
  if (portNo === undefined) {
    // custom scan names like "http-8080" carry the port
    const m = /(\d{1,5})$/.exec(scanName);
    portNo = m ? port(m[1]) : undefined;
  }
  if (portNo === undefined) return 'no port in the record and no default port for this module';
  const time = isoTime(entry.timestamp) ?? ctx.importTime;
  const data = mapped.data;
  if (typeof entry.error === 'string') data.error = text(entry.error, 1024);
  if (scanName !== module) data.scanName = scanName;
  const extra: Record<string, unknown> = {};
  if (!isProbeStatus(rawStatus)) extra.status = rawStatus;
  const resultRest = withoutPaths(result, mapped.consumed);
  if (resultRest) extra.result = resultRest;
  const entryRest = withoutPaths(entry, ENTRY_PATHS);
  if (entryRest) extra.module = entryRest;
  if (recordExtra) extra.record = recordExtra;
  const protocol = status === 'success' || Object.keys(data).length ? mapped.protocol : 'unknown';
  return observation(ctx, 'zgrab2', { ip, port: portNo, transport: UDP_MODULES.has(module) ? 'udp' : 'tcp', protocol, time, status, data, extra });
}

interface Mapped {
  protocol: string;
  data: Record<string, unknown>;
  /** result paths copied into data; the rest goes to extra */
  consumed: readonly string[];
  port?: number;
}

function mapResult(module: string, r: Record<string, unknown>, status: ProbeStatus): Mapped {
  switch (module) {
    case 'http':
      return mapHttp(r);
    case 'ssh':
      return mapSsh(r);
    case 'telnet':
      return mapTelnet(r);
    case 'ftp':
      return {
        protocol: 'ftp',
        data: compact({ banner: text(r.banner), code: int(/^(\d{3})/.exec(String(r.banner ?? ''))?.[1]), authTls: typeof r.auth_tls === 'string' ? /^234/.test(r.auth_tls) : undefined, tls: tlsFromZgrab(isObject(r.tls) ? r.tls.handshake_log : undefined) }),
        consumed: FTP_PATHS,
      };
    case 'mqtt': {
      // ZGrab2 omits connect_return_code when it is 0 (omitempty): a CONNACK without it means accepted
      const tls = tlsFromZgrab(isObject(r.tls) ? r.tls.handshake_log : undefined);
      // (and session_present when false), so a successful scan may carry an empty result
      const code = int(r.connect_return_code) ?? (status === 'success' ? 0 : undefined);
      return {
        protocol: tls ? 'mqtts' : 'mqtt',
        data: compact({ connackCode: code, anonymous: code === undefined ? undefined : code === 0, sessionPresent: typeof r.session_present === 'boolean' ? r.session_present : undefined, tls }),
        consumed: MQTT_PATHS,
      };
    }
    case 'modbus':
      return mapModbus(r);
    case 'tls':
      return { protocol: 'tls', data: compact({ tls: tlsFromZgrab(r.handshake_log) }), consumed: TLS_PATHS };
    case 'banner':
      return { protocol: 'banner', data: compact({ banner: text(r.banner), bannerLength: int(r.length) }), consumed: BANNER_LENGTH_PATHS };
    case 'smtp':
    case 'pop3':
    case 'imap':
    case 'rtsp':
      return { protocol: protocolName(module), data: compact({ banner: text(r.banner), tls: tlsFromZgrab(isObject(r.tls) ? r.tls.handshake_log : undefined) }), consumed: BANNER_TLS_PATHS };
    default:
      return { protocol: protocolName(module), data: compact({ banner: text(r.banner) }), consumed: BANNER_PATHS };
  }
}

function headersFromZgrab(h: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isObject(h)) return out;
  const count = { n: 0 };
  for (const k in h) {
    const v = h[k];
    if (k === 'unknown' && Array.isArray(v)) {
      for (const u of v) if (isObject(u) && typeof u.key === 'string') addHeader(out, count, u.key, u.value);
    } else addHeader(out, count, k.replace(/_/g, '-'), v);
  }
  return out;
}

/** At most 100 headers, names and values capped; a repeated name joins its values as HTTP does. */
function addHeader(out: Record<string, string>, count: { n: number }, k: string, v: unknown): void {
  if (count.n++ >= 100) return;
  const key = k.toLowerCase().slice(0, 128);
  if (key === '__proto__') return;
  const joined = (Array.isArray(v) ? v.map(String).join(', ') : String(v)).slice(0, 2048);
  const prev = out[key];
  out[key] = prev !== undefined ? `${prev}, ${joined}` : joined;
}

function mapHttp(r: Record<string, unknown>): Mapped {
  const resp = isObject(r.response) ? r.response : {};
  const req = isObject(resp.request) ? resp.request : {};
  const url = isObject(req.url) ? req.url : {};
  const headers = headersFromZgrab(resp.headers);
  const body = typeof resp.body === 'string' ? resp.body : undefined;
  const tlsLog = isObject(req.tls_log) ? req.tls_log.handshake_log : undefined;
  const tls = tlsFromZgrab(tlsLog);
  const statusCode = int(resp.status_code);
  const protoName = isObject(resp.protocol) && typeof resp.protocol.name === 'string' ? resp.protocol.name : 'HTTP/1.1';
  const chain = Array.isArray(r.redirect_response_chain) ? r.redirect_response_chain : [];
  const redirects = chain
    .map((c) => (isObject(c) && isObject(c.headers) && Array.isArray(c.headers.location) ? String(c.headers.location[0]) : undefined))
    .filter((x): x is string => !!x)
    .slice(0, 20)
    .map((x) => x.slice(0, 1024));
  const title = body ? /<title[^>]*>([^<]{0,1024})/i.exec(body)?.[1]?.trim() : undefined;
  const hostPort = typeof url.host === 'string' ? /:(\d{1,5})$/.exec(url.host)?.[1] : undefined;
  const data = compact({
    statusCode,
    statusLine: typeof resp.status_line === 'string' ? text(`${protoName} ${resp.status_line}`, 512) : undefined,
    headers: Object.keys(headers).length ? headers : undefined,
    server: headers.server,
    title,
    ...(headers['www-authenticate'] ? authFields(headers['www-authenticate']) : {}),
    bodyLength: body !== undefined ? Buffer.byteLength(body) : undefined,
    bodySha256: typeof resp.body_sha256 === 'string' ? resp.body_sha256 : body !== undefined ? hash('sha256', body, 'hex') : undefined,
    body: text(body),
    redirects: redirects.length ? redirects : undefined,
    path: text(url.path, 1024),
    tls,
  });
  return {
    protocol: url.scheme === 'https' || tls ? 'https' : 'http',
    data,
    consumed: HTTP_PATHS,
    port: port(hostPort),
  };
}

function mapSsh(r: Record<string, unknown>): Mapped {
  const id = isObject(r.server_id) ? r.server_id : {};
  const kex = isObject(r.server_key_exchange) ? r.server_key_exchange : null;
  const hk = isObject(r.server_host_key) ? r.server_host_key : null;
  let hostKey: Record<string, unknown> | undefined;
  if (hk && typeof hk.raw === 'string') {
    const sha = hash('sha256', Buffer.from(hk.raw, 'base64'), 'base64').replace(/=+$/, '');
    const rsa = isObject(hk.rsa_public_key) ? int(hk.rsa_public_key.length) : undefined;
    hostKey = compact({ type: text(hk.algorithm, 64) ?? 'unknown', sha256: `SHA256:${sha}`, bits: rsa });
  }
  return {
    protocol: 'ssh',
    data: compact({
      ident: text(id.raw, 255),
      protoVersion: text(id.version, 16),
      software: text(id.software, 255),
      comment: text(id.comment, 255),
      kex: kex
        ? {
            kexAlgorithms: kexList(kex, 'kex_algorithms'),
            hostKeyAlgorithms: kexList(kex, 'host_key_algorithms'),
            ciphersClientToServer: kexList(kex, 'client_to_server_ciphers'),
            ciphersServerToClient: kexList(kex, 'server_to_client_ciphers'),
            macsClientToServer: kexList(kex, 'client_to_server_macs'),
            macsServerToClient: kexList(kex, 'server_to_client_macs'),
            compression: kexList(kex, 'server_to_client_compression'),
          }
        : undefined,
      hostKey,
    }),
    consumed: SSH_PATHS,
  };
}

function kexList(kex: Record<string, unknown> | null, k: string): string[] {
  return kex ? (strings(kex[k]) ?? []) : [];
}

function optionCodes(v: unknown): number[] {
  if (!Array.isArray(v)) return [];
  return v.map((o) => (isObject(o) ? int(o.value) : int(o))).filter((x): x is number => x !== undefined && x >= 0 && x <= 255);
}

function mapTelnet(r: Record<string, unknown>): Mapped {
  const banner = text(r.banner);
  const options = r.do || r.dont || r.will || r.wont ? { do: optionCodes(r.do), dont: optionCodes(r.dont), will: optionCodes(r.will), wont: optionCodes(r.wont) } : undefined;
  return {
    protocol: 'telnet',
    data: compact({ banner, options, loginPrompt: banner ? /(login|username|user name)\s*:\s*$/i.test(banner) : undefined, passwordPrompt: banner ? /password:\s*$/i.test(banner.trimEnd()) : undefined }),
    consumed: TELNET_PATHS,
  };
}

function mapModbus(r: Record<string, unknown>): Mapped {
  const mei = isObject(r.mei_response) ? r.mei_response : {};
  const objs = isObject(mei.objects) ? mei.objects : {};
  const exc = isObject(r.exception_response) ? r.exception_response : null;
  return {
    protocol: 'modbus',
    data: compact({
      unitId: int(r.unit_id),
      vendorName: text(objs.vendor, 256),
      productCode: text(objs.product_code, 256),
      revision: text(objs.revision, 256),
      vendorUrl: text(objs.vendor_url, 256),
      productName: text(objs.product_name, 256),
      modelName: text(objs.model_name, 256),
      exceptionCode: exc ? int(exc.exception_type) : undefined,
    }),
    consumed: MODBUS_PATHS,
  };
}
