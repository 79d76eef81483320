// Stage: imports (foreign files → observations). Shadowserver report CSVs. The columns come from the file's own
// header; the published schema (--schema) adds the report's name, classification, application protocol and
// default severity. The report type comes from the file name. Scan and device reports (scan_*, device_id, …)
// become service observations with the columns mapped onto src/core/fields.ts (banner, HTTP, MQTT, SSDP, CoAP,
// SNMP, TLS certificate) plus data.report {type, name, severity, tags}; event and compromise reports (event4_*,
// event6_*, compromised_*, blocklist, …) become event observations (events.ts). Unmapped columns stay in extra.
import type { Observation } from '../core/observation.ts';
import type { TlsInfo } from '../scan/conn.ts';
import { authFields, fieldsFromBanner } from './banner-fields.ts';
import { readCsvRows } from './csv.ts';
import { cves, eventObservation, type ImportedEvent, severity } from './events.ts';
import { type Importer, type ImportContext, compact, int, ipAddress, isoTime, observation, port, protocolName, text } from './importer.ts';
import type { ImportInput } from './input.ts';
import { ImportError } from './errors.ts';
import { reportTypeFromFileName, type ShadowserverReportType } from './shadowserver-schema.ts';

export const shadowserverImporter: Importer = {
  format: 'shadowserver',
  description: 'Shadowserver report CSV (report type from the file name; --schema for the published schema)',
  sniff(head, fileName) {
    const first = head.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0] ?? '';
    const cols = first.split(',').map((c) => c.replace(/^"|"$/g, ''));
    const named = /^\d{4}-\d{2}-\d{2}-[^-]+-.+\.csv$/i.test(fileName);
    if (cols.includes('timestamp') && (cols.includes('ip') || cols.includes('src_ip'))) return named ? 1 : 0.8;
    return named && cols.length > 3 ? 0.5 : 0;
  },
  parse: parseShadowserver,
};

/** Application protocol of report types when the schema gives none (and without a schema). */
function applicationOf(type: string, schemaApp: string | undefined): string {
  if (schemaApp) return protocolName(schemaApp);
  const base = type.replace(/^(scan6?|population6?)_/, '');
  if (base.startsWith('http') || base === 'cwmp') return 'http';
  if (base.startsWith('mqtt')) return 'mqtt';
  if (base === 'ics' || base === 'modbus') return 'modbus';
  if (base.startsWith('ssl')) return 'tls';
  return protocolName(base.replace(/_.*$/, ''));
}

function isEventReport(type: string, header: string[]): boolean {
  return /^(event[46]?_|compromised_|blocklist|sandbox_|malware_url|spam_url|ransomware_)/.test(type) || (header.includes('src_ip') && !header.includes('ip'));
}

const TLS_COLUMNS = ['subject_common_name', 'issuer_common_name', 'sha256_fingerprint', 'cert_expiration_date', 'cipher_suite', 'ssl_version'];

async function* parseShadowserver(input: ImportInput, ctx: ImportContext): AsyncGenerator<Observation[]> {
  let header: string[] | null = null;
  let type: string | undefined;
  let report: ShadowserverReportType | undefined;
  let eventReport = false;
  for await (const rows of readCsvRows(input.chunks, ctx)) {
    const out: Observation[] = [];
    for (const row of rows) {
      const pos = { line: row.line, offset: row.offset };
      if (!header) {
        header = row.fields.map((f) => f.replace(/^\uFEFF/, '').trim());
        if (!header.includes('ip') && !header.includes('src_ip')) {
          throw new ImportError(ctx.file, pos, `not a Shadowserver report: the header has no "ip" or "src_ip" column (${JSON.stringify(header.slice(0, 5).join(','))})`);
        }
        type = reportTypeFromFileName(ctx.fileName, ctx.schema) ?? typeFromHeader(header, ctx);
        if (!type) throw new ImportError(ctx.file, pos, 'cannot tell the Shadowserver report type: the file name does not follow YYYY-MM-DD-<type>-….csv and no --schema matches its columns');
        report = ctx.schema?.reports.get(type);
        eventReport = isEventReport(type, header);
        continue;
      }
      if (row.fields.length !== header.length) {
        ctx.reject(pos, `row has ${row.fields.length} columns, the header ${header.length}`);
        continue;
      }
      const rec: Record<string, string> = {};
      for (let i = 0; i < header.length; i++) {
        const v = row.fields[i]!;
        if (v !== '') rec[header[i]!] = v;
      }
      const o = eventReport ? eventRow(ctx, type!, report, rec, pos) : scanRow(ctx, type!, report, rec, pos);
      if (o) out.push(o);
    }
    if (out.length) yield out;
  }
  if (!header) throw new ImportError(ctx.file, { line: 1, offset: 0 }, 'empty file: no CSV header');
}

function typeFromHeader(header: string[], ctx: ImportContext): string | undefined {
  if (!ctx.schema) return undefined;
  const cols = header.join(',');
  const matches = [...ctx.schema.reports.values()].filter((r) => r.fields?.join(',') === cols);
  return matches.length === 1 ? matches[0]!.type : undefined;
}

function tags(rec: Record<string, string>): string[] | undefined {
  const t = rec.tag;
  return t ? t.split(/[;,]/).map((x) => x.trim()).filter(Boolean).slice(0, 50) : undefined;
}

function reportInfo(type: string, report: ShadowserverReportType | undefined, rec: Record<string, string>): Record<string, unknown> {
  return compact({
    type,
    name: report?.name,
    severity: severity(rec.severity) ?? report?.defaultSeverity,
    tags: tags(rec),
    taxonomy: report?.taxonomy,
    classification: report?.classificationType,
    identifier: report?.identifier,
  });
}

function deviceOf(rec: Record<string, string>): ImportedEvent['device'] {
  const d = compact({ vendor: text(rec.device_vendor, 128), type: text(rec.device_type, 64), model: text(rec.device_model, 128), version: text(rec.device_version, 128) });
  return Object.keys(d).length ? d : undefined;
}

const COMMON_MAPPED = ['timestamp', 'severity', 'ip', 'port', 'protocol', 'tag', 'device_vendor', 'device_type', 'device_model', 'device_version'];

function scanRow(ctx: ImportContext, type: string, report: ShadowserverReportType | undefined, rec: Record<string, string>, pos: { line: number; offset: number }): Observation | null {
  const ip = ipAddress(rec.ip);
  if (!ip) {
    ctx.reject(pos, `not an IP address in column "ip": ${JSON.stringify((rec.ip ?? '').slice(0, 60))}`);
    return null;
  }
  const portNo = port(rec.port) ?? 0;
  const time = isoTime(rec.timestamp);
  if (!time) {
    ctx.reject(pos, `unreadable timestamp ${JSON.stringify((rec.timestamp ?? '').slice(0, 40))}`);
    return null;
  }
  const transport = rec.protocol?.toLowerCase() === 'udp' ? 'udp' : 'tcp';
  const app = type.startsWith('device_id') ? 'unknown' : applicationOf(type, report?.application);
  const mapped = new Set(COMMON_MAPPED);
  const take = (k: string): string | undefined => {
    mapped.add(k);
    return rec[k];
  };
  let data: Record<string, unknown> = {};
  const banner = take('banner');
  if (banner !== undefined) data = fieldsFromBanner(app, banner);
  if (rec.http !== undefined || rec.http_code !== undefined) {
    const headers = compact({
      server: take('server'),
      'content-type': take('content_type'),
      'www-authenticate': take('www_authenticate'),
      'set-cookie': take('set_cookie'),
      connection: take('connection'),
      'content-length': take('content_length'),
      'transfer-encoding': take('transfer_encoding'),
      date: take('http_date'),
    }) as Record<string, string>;
    const code = int(take('http_code'));
    Object.assign(
      data,
      compact({
        statusCode: code,
        statusLine: text([take('http'), rec.http_code, take('http_reason')].filter(Boolean).join(' '), 512),
        headers: Object.keys(headers).length ? headers : undefined,
        server: headers.server,
        ...(headers['www-authenticate'] ? authFields(headers['www-authenticate']) : {}),
      }),
    );
  }
  if (app === 'mqtt') {
    const anon = take('anonymous_access');
    const code = int(take('code'));
    const anonymous = type.includes('mqtt_anon') ? true : anon !== undefined ? /^(y|yes|true|1)$/i.test(anon) : code !== undefined ? code === 0 : undefined;
    Object.assign(data, compact({ connackCode: code, anonymous }));
  }
  if (app === 'ssdp') {
    Object.assign(data, compact({ server: take('server'), location: take('location'), st: take('search_target'), usn: take('unique_service_name') }));
  }
  if (app === 'coap') {
    const resp = take('response');
    if (resp) {
      data.resources = parseLinkFormat(resp);
      data.response = text(resp);
    }
  }
  if (app === 'snmp') Object.assign(data, compact({ sysDescr: text(take('sysdesc'), 1024), sysName: text(take('sysname'), 256), version: take('version') === '1' ? 'v1' : rec.version === '2' ? 'v2c' : undefined }));
  if (TLS_COLUMNS.some((c) => rec[c] !== undefined)) data.tls = tlsOf(rec, take);
  const device = deviceOf(rec);
  if (device) data.device = device;
  data.report = reportInfo(type, report, rec);
  if (type.includes('vulnerable') || rec.tag) {
    const v = cves(rec.tag);
    if (v) data.vulnerabilities = v;
  }
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rec)) if (!mapped.has(k)) extra[k] = v;
  ctx.stats.records++;
  return observation(ctx, 'shadowserver', { ip, port: portNo, transport, protocol: app, time, status: 'success', data, extra });
}

function tlsOf(rec: Record<string, string>, take: (k: string) => string | undefined): TlsInfo {
  const dn = (prefix: 'subject' | 'issuer'): Record<string, string> =>
    compact({ CN: take(`${prefix}_common_name`), O: take(`${prefix}_organization_name`), OU: take(`${prefix}_organization_unit_name`), C: take(`${prefix}_country`), ST: take(`${prefix}_state_or_province_name`), L: take(`${prefix}_locality_name`) }) as Record<string, string>;
  const subject = dn('subject');
  const issuer = dn('issuer');
  return {
    version: take('ssl_version') ?? null,
    cipher: take('cipher_suite') ?? null,
    alpn: null,
    certificate: {
      subject,
      issuer,
      subjectAltNames: [],
      notBefore: isoTime(take('cert_issue_date')) ?? null,
      notAfter: isoTime(take('cert_expiration_date')) ?? null,
      serialNumber: take('cert_serial_number') ?? null,
      selfSigned: Object.keys(subject).length > 0 && JSON.stringify(subject) === JSON.stringify(issuer),
      keyType: take('key_algorithm') ?? null,
      keyBits: int(take('cert_length')) ?? null,
      sha256: take('sha256_fingerprint')?.replace(/:/g, '').toLowerCase() ?? null,
      sha1: take('sha1_fingerprint')?.replace(/:/g, '').toLowerCase() ?? null,
      publicKeySha256: null,
    },
    chainLength: 1,
  };
}

/** CoRE link format (RFC 6690): </path>;rt="x";if="y",</other> */
function parseLinkFormat(s: string): { path: string; attributes: Record<string, string> }[] {
  const out: { path: string; attributes: Record<string, string> }[] = [];
  for (const m of s.matchAll(/<([^>]{0,256})>((?:;[^,;]*)*)/g)) {
    const attributes: Record<string, string> = {};
    for (const a of (m[2] ?? '').split(';').slice(1)) {
      const eq = a.indexOf('=');
      if (eq < 0) attributes[a.trim()] = '';
      else attributes[a.slice(0, eq).trim()] = a.slice(eq + 1).trim().replace(/^"|"$/g, '');
    }
    out.push({ path: m[1]!, attributes });
    if (out.length >= 256) break;
  }
  return out;
}

const EVENT_MAPPED = ['timestamp', 'severity', 'ip', 'src_ip', 'src_port', 'src_asn', 'src_geo', 'src_hostname', 'asn', 'geo', 'hostname', 'dst_ip', 'dst_port', 'dst_asn', 'dst_geo', 'dst_hostname', 'protocol', 'port', 'tag', 'infection', 'family', 'application', 'username', 'password', 'payload_url', 'payload_md5', 'url', 'http_url', 'vulnerability_id', 'device_vendor', 'device_type', 'device_model', 'device_version', 'detail'];

function eventRow(ctx: ImportContext, type: string, report: ShadowserverReportType | undefined, rec: Record<string, string>, pos: { line: number; offset: number }): Observation | null {
  const ip = ipAddress(rec.src_ip ?? rec.ip);
  if (!ip) {
    ctx.reject(pos, `not an IP address in column "${rec.src_ip !== undefined ? 'src_ip' : 'ip'}": ${JSON.stringify((rec.src_ip ?? rec.ip ?? '').slice(0, 60))}`);
    return null;
  }
  const time = isoTime(rec.timestamp);
  if (!time) {
    ctx.reject(pos, `unreadable timestamp ${JSON.stringify((rec.timestamp ?? '').slice(0, 40))}`);
    return null;
  }
  const transport = (rec.protocol ?? '').toLowerCase();
  const ev: ImportedEvent = compact({
    feed: `shadowserver:${type}`,
    category: report?.classificationType ?? (type.startsWith('compromised') ? 'system-compromise' : type.includes('sinkhole') ? 'infected-system' : type.includes('honeypot') ? 'intrusion-attempt' : 'undetermined'),
    taxonomy: report?.taxonomy,
    eventType: type,
    family: text(rec.family ?? rec.infection, 128),
    severity: severity(rec.severity) ?? report?.defaultSeverity,
    tags: tags(rec),
    time,
    src: compact({ ip, port: port(rec.src_port), asn: int(rec.src_asn ?? rec.asn), geo: text(rec.src_geo ?? rec.geo, 8), hostname: text(rec.src_hostname ?? rec.hostname, 255) }),
    dst: compact({ ip: ipAddress(rec.dst_ip), port: port(rec.dst_port), asn: int(rec.dst_asn), geo: text(rec.dst_geo, 8), hostname: text(rec.dst_hostname, 255) }),
    appProtocol: text(rec.application, 32),
    transport: transport === 'tcp' || transport === 'udp' ? transport : undefined,
    username: text(rec.username, 256),
    password: text(rec.password, 256),
    url: text(rec.payload_url ?? rec.url ?? rec.http_url, 2048),
    md5: text(rec.payload_md5, 32),
    device: deviceOf(rec),
    vulnerabilities: cves([rec.tag, rec.vulnerability_id].filter(Boolean).join(' ')),
    message: text(rec.detail, 1024),
  });
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rec)) if (!EVENT_MAPPED.includes(k)) extra[k] = v;
  if (report?.name) extra.reportName = report.name;
  // compromised_* reports name the device's own service port; sinkhole/honeypot source ports are ephemeral
  const ownPort = rec.src_ip === undefined ? port(rec.port) : undefined;
  return eventObservation(ctx, 'shadowserver', ev, { ip, port: ownPort ?? 0, transport: transport === 'udp' ? 'udp' : 'tcp', extra });
}
