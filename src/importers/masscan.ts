// Stage: imports (foreign files → observations). masscan output in all four of its formats: -oX (XML, one <host>
// per port or banner), -oJ (a JSON array one element per line, including the historically broken files with a
// trailing comma and no closing bracket), -oD (NDJSON with rec_type status/banner) and -oL (list). Port states
// and banners each become an observation, in file order; banners are mapped onto protocol fields where the
// banner says them (HTTP head, SSH ident, FTP code, masscan's separate HTTP "title" record).
import type { Observation, ProbeStatus, Transport } from '../core/observation.ts';
import { fieldsFromBanner } from './banner-fields.ts';
import { type Importer, type ImportContext, compact, int, ipAddress, isObject, isoTime, observation, port, protocolName, text } from './importer.ts';
import type { ImportInput } from './input.ts';
import { readJsonRecords } from './json-records.ts';
import { readLineBatches } from './lines.ts';
import { XmlStream, drainXml, type XmlAttrs, type XmlHandler } from './xml.ts';
import type { ImportPosition } from './errors.ts';

export type MasscanVariant = 'xml' | 'json' | 'ndjson' | 'list';

const LIST_LINE_RE = /^(open|closed|banner|unknown) (tcp|udp|sctp|icmp) \d+ \S+ \d+/;

export function masscanVariant(head: string): MasscanVariant | null {
  const h = head.replace(/^\uFEFF/, '').trimStart();
  if (h.startsWith('<')) return /<nmaprun\b[^>]*scanner="masscan"/.test(h.slice(0, 4096)) ? 'xml' : null;
  if (h.startsWith('#masscan') || LIST_LINE_RE.test(h)) return 'list';
  const firstRecord = /^[[,\s]*(\{[^\n]*)/.exec(h)?.[1];
  if (!firstRecord) return null;
  if (/"rec_type"\s*:/.test(firstRecord) && /"ip"\s*:/.test(firstRecord)) return 'ndjson';
  if (/"ip"\s*:/.test(firstRecord) && /"ports"\s*:\s*\[/.test(firstRecord)) return 'json';
  return null;
}

export const masscanImporter: Importer = {
  format: 'masscan',
  description: 'masscan output (-oX, -oJ, -oD, -oL), with banners',
  sniff(head) {
    return masscanVariant(head) ? 0.95 : 0;
  },
  parse(input, ctx) {
    const variant = masscanVariant(input.head.toString('utf8'));
    switch (variant) {
      case 'xml':
        return parseXml(input, ctx);
      case 'list':
        return parseList(input, ctx);
      case 'json':
      case 'ndjson':
        return parseJson(input, ctx);
      default:
        return failed(ctx);
    }
  },
};

async function* failed(ctx: ImportContext): AsyncGenerator<Observation[]> {
  ctx.reject({ line: 1, offset: 0 }, 'not masscan output (expected -oX XML, -oJ/-oD JSON or -oL list)');
  // tolerated: nothing in the file can be read as masscan
}

/** One masscan fact: a port state, or a banner of a service. */
interface MasscanFact {
  ip: unknown;
  port: unknown;
  proto: unknown;
  time: unknown;
  state?: string;
  reason?: string;
  ttl?: unknown;
  service?: string;
  banner?: string;
  extra?: Record<string, unknown>;
}

function factObservation(ctx: ImportContext, f: MasscanFact, pos: ImportPosition): Observation | null {
  const ip = ipAddress(f.ip);
  if (!ip) {
    ctx.reject(pos, `not an IP address: ${JSON.stringify(String(f.ip).slice(0, 60))}`);
    return null;
  }
  const portNo = port(f.port);
  if (portNo === undefined) {
    ctx.reject(pos, `not a port number: ${JSON.stringify(String(f.port).slice(0, 20))}`);
    return null;
  }
  const proto = typeof f.proto === 'string' ? f.proto.toLowerCase() : 'tcp';
  if (proto !== 'tcp' && proto !== 'udp') {
    // sctp and icmp records have no place in a TCP/UDP service model; keep counting them as skipped
    ctx.reject(pos, `unsupported transport ${JSON.stringify(proto.slice(0, 10))}`);
    return null;
  }
  const transport: Transport = proto;
  const time = isoTime(f.time) ?? ctx.importTime;
  const extra = f.extra && Object.keys(f.extra).length ? f.extra : undefined;
  if (f.banner !== undefined || f.service !== undefined) {
    const svc = (f.service ?? '').toLowerCase();
    const protocol = svc === 'title' ? 'http' : svc === 'x509' || svc === 'ssl' ? 'tls' : protocolName(svc || undefined);
    const banner = f.banner ?? '';
    const data: Record<string, unknown> = svc === 'title' ? { title: text(banner, 1024) } : fieldsFromBanner(protocol, banner);
    data.bannerService = f.service;
    ctx.stats.records++;
    return observation(ctx, 'masscan', { ip, port: portNo, transport, protocol, time, status: 'success', data, extra });
  }
  const state = f.state ?? 'open';
  const status: ProbeStatus = state === 'open' ? 'success' : state === 'closed' ? 'connection-refused' : 'unknown-error';
  const data = compact({ portState: state, portReason: f.reason, ttl: int(f.ttl) });
  ctx.stats.records++;
  return observation(ctx, 'masscan', { ip, port: portNo, transport, protocol: 'unknown', time, status, data, extra });
}

// ---- -oX --------------------------------------------------------------------------------------------------

async function* parseXml(input: ImportInput, ctx: ImportContext): AsyncGenerator<Observation[]> {
  const out: Observation[] = [];
  const handler = new MasscanXmlHandler(ctx, out);
  const xml = new XmlStream(ctx.file, handler, { resyncTag: 'host', onSyntaxError: (e) => ctx.tolerate(e), onResync: () => handler.reset() });
  handler.xml = xml;
  yield* drainXml(input.chunks, xml, out);
}

class MasscanXmlHandler implements XmlHandler {
  wantText = false;
  xml: XmlStream | null = null;
  private host: { attrs: XmlAttrs; addr?: string; ports: { attrs: XmlAttrs; state?: XmlAttrs; service?: XmlAttrs }[] } | null = null;
  private inPort = false;

  constructor(
    private readonly ctx: ImportContext,
    private readonly out: Observation[],
  ) {}

  reset(): void {
    this.host = null;
    this.inPort = false;
  }

  open(name: string, attrs: XmlAttrs): void {
    if (name === 'host') {
      this.host = { attrs, ports: [] };
      return;
    }
    const h = this.host;
    if (!h) return;
    if (name === 'address') h.addr = attrs.addr;
    else if (name === 'port') {
      h.ports.push({ attrs });
      this.inPort = true;
    } else if (this.inPort && name === 'state') h.ports[h.ports.length - 1]!.state = attrs;
    else if (this.inPort && name === 'service') h.ports[h.ports.length - 1]!.service = attrs;
  }

  close(name: string): void {
    if (name === 'port') this.inPort = false;
    if (name !== 'host' || !this.host) return;
    const h = this.host;
    this.host = null;
    const pos = this.xml?.currentPosition() ?? {};
    for (const p of h.ports) {
      const extraAttrs: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(p.state ?? {})) if (!['state', 'reason', 'reason_ttl'].includes(k)) extraAttrs[k] = v;
      for (const [k, v] of Object.entries(p.service ?? {})) if (!['name', 'banner'].includes(k)) extraAttrs[`service.${k}`] = v;
      const o = factObservation(
        this.ctx,
        {
          ip: h.addr,
          port: p.attrs.portid,
          proto: p.attrs.protocol,
          time: h.attrs.endtime,
          state: p.state?.state,
          reason: p.state?.reason,
          ttl: p.state?.reason_ttl,
          service: p.service?.name,
          banner: p.service ? (p.service.banner ?? '') : undefined,
          extra: extraAttrs,
        },
        pos,
      );
      if (o) this.out.push(o);
    }
  }

  text(): void {}
}

// ---- -oJ and -oD ------------------------------------------------------------------------------------------

async function* parseJson(input: ImportInput, ctx: ImportContext): AsyncGenerator<Observation[]> {
  for await (const batch of readJsonRecords(input, ctx, { arrayLines: true })) {
    const out: Observation[] = [];
    for (const { value, line, offset } of batch) {
      const pos = { line, offset };
      if (!isObject(value)) {
        ctx.reject(pos, 'record is not a JSON object');
        continue;
      }
      if ('rec_type' in value) {
        // -oD: {"ip","timestamp","port","proto","rec_type":"status"|"banner","data":{…}}
        const d = isObject(value.data) ? value.data : {};
        const known = new Set(['ip', 'timestamp', 'port', 'proto', 'rec_type', 'data']);
        const extra = Object.fromEntries(Object.entries(value).filter(([k]) => !known.has(k)));
        const o =
          value.rec_type === 'banner'
            ? factObservation(ctx, { ip: value.ip, port: value.port, proto: value.proto, time: value.timestamp, service: String(d.service_name ?? ''), banner: typeof d.banner === 'string' ? d.banner : '', extra: withRest(extra, d, ['service_name', 'banner']) }, pos)
            : factObservation(ctx, { ip: value.ip, port: value.port, proto: value.proto, time: value.timestamp, state: str(d.status), reason: str(d.reason), ttl: d.ttl, extra: withRest(extra, d, ['status', 'reason', 'ttl']) }, pos);
        if (o) out.push(o);
        continue;
      }
      // -oJ: {"ip","timestamp","ports":[{"port","proto","status","reason","ttl"} | {"port","proto","service":{"name","banner"}}]}
      if (!Array.isArray(value.ports)) {
        ctx.reject(pos, 'masscan record without a "ports" array');
        continue;
      }
      for (const p of value.ports) {
        if (!isObject(p)) {
          ctx.reject(pos, 'masscan port entry is not an object');
          continue;
        }
        const svc = isObject(p.service) ? p.service : null;
        const extra = Object.fromEntries(Object.entries(p).filter(([k]) => !['port', 'proto', 'status', 'reason', 'ttl', 'service'].includes(k)));
        const o = svc
          ? factObservation(ctx, { ip: value.ip, port: p.port, proto: p.proto, time: value.timestamp, service: String(svc.name ?? ''), banner: typeof svc.banner === 'string' ? svc.banner : '', extra: withRest(extra, svc, ['name', 'banner']) }, pos)
          : factObservation(ctx, { ip: value.ip, port: p.port, proto: p.proto, time: value.timestamp, state: str(p.status), reason: str(p.reason), ttl: p.ttl, extra }, pos);
        if (o) out.push(o);
      }
    }
    if (out.length) yield out;
  }
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function withRest(extra: Record<string, unknown>, obj: Record<string, unknown>, known: string[]): Record<string, unknown> {
  for (const [k, v] of Object.entries(obj)) if (!known.includes(k)) extra[`data.${k}`] = v;
  return extra;
}

// ---- -oL --------------------------------------------------------------------------------------------------

/** masscan -oL escapes banner bytes outside printable ASCII as \xNN. */
export function unescapeMasscanList(s: string): string {
  return s.replace(/\\x([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

async function* parseList(input: ImportInput, ctx: ImportContext): AsyncGenerator<Observation[]> {
  for await (const batch of readLineBatches(input.chunks, ctx.file)) {
    const out: Observation[] = [];
    for (const { text: line, line: lineNo, offset } of batch) {
      if (!line.trim() || line.startsWith('#')) continue;
      const pos = { line: lineNo, offset };
      // "open tcp 80 10.0.0.1 1700000000" | "banner tcp 80 10.0.0.1 1700000000 http <banner>"
      const parts = line.split(' ');
      const [kind, proto, portStr, ip, ts] = parts;
      if (parts.length < 5 || !kind || !['open', 'closed', 'banner', 'unknown'].includes(kind)) {
        ctx.reject(pos, `not a masscan -oL line: ${JSON.stringify(line.slice(0, 60))}`);
        continue;
      }
      let o: Observation | null;
      if (kind === 'banner') {
        const service = parts[5] ?? '';
        const banner = unescapeMasscanList(parts.slice(6).join(' '));
        o = factObservation(ctx, { ip, port: portStr, proto, time: ts, service, banner }, pos);
      } else {
        o = factObservation(ctx, { ip, port: portStr, proto, time: ts, state: kind }, pos);
      }
      if (o) out.push(o);
    }
    if (out.length) yield out;
  }
}
