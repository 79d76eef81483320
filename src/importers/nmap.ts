// Stage: imports (foreign files → observations). Nmap XML (-oX): one observation per <port> of every <host>,
// with -sV service detection under data.service, NSE script output (structured <elem>/<table> kept as JSON)
// under data.scripts and mapped onto iotscope's protocol fields where a script gives them (http-title, ssh-hostkey,
// ssl-cert, snmp-sysdescr, banner, …), host scripts, hostnames, MAC and OS matches under data.host, and every
// element iotscope does not model kept under extra. Streams: memory holds one host at a time.
import { hash } from 'node:crypto';
import type { Observation, ProbeStatus, Transport } from '../core/observation.ts';
import type { CertificateInfo, TlsInfo } from '../scan/conn.ts';
import { type Importer, type ImportContext, compact, int, ipAddress, isoTime, observation, port, protocolName, text } from './importer.ts';
import type { ImportInput } from './input.ts';
import { XmlStream, drainXml, type XmlAttrs, type XmlHandler } from './xml.ts';
import { TreeCapture, nodeToJson, nseToJson, type XmlNode } from './xml-tree.ts';

/** Nmap port states onto the probe statuses (closest meaning; the nmap word is kept in data.portState). */
export const NMAP_STATE_STATUS: Record<string, ProbeStatus> = {
  open: 'success',
  closed: 'connection-refused',
  filtered: 'connection-timeout',
  'open|filtered': 'io-timeout',
  'closed|filtered': 'connection-timeout',
  unfiltered: 'connection-closed',
};

/** Host children modelled here; any other element under <host> is kept verbatim under extra.host. */
const MODELLED_HOST_CHILDREN = new Set(['status', 'address', 'hostnames', 'ports', 'hostscript', 'os']);

interface PortState {
  protocol: string;
  portid: string;
  state?: XmlAttrs;
  service?: XmlAttrs;
  cpe: string[];
  scripts: XmlNode[];
  other: XmlNode[];
}

interface HostState {
  attrs: XmlAttrs;
  status?: XmlAttrs;
  addresses: XmlAttrs[];
  hostnames: { name: string; type?: string }[];
  ports: PortState[];
  hostScripts: XmlNode[];
  osMatches: Record<string, unknown>[];
  extra: Record<string, unknown[]>;
}

export const nmapImporter: Importer = {
  format: 'nmap',
  description: 'Nmap XML output (-oX)',
  sniff(head) {
    const h = head.slice(0, 4096);
    if (!/<nmaprun\b/.test(h)) return 0;
    return /scanner="masscan"/.test(h) ? 0 : 1;
  },
  parse: parseNmap,
};

async function* parseNmap(input: ImportInput, ctx: ImportContext): AsyncGenerator<Observation[]> {
  const out: Observation[] = [];
  const handler = new NmapHandler(ctx, out);
  const xml = new XmlStream(ctx.file, handler, {
    resyncTag: 'host',
    onSyntaxError: (err) => ctx.tolerate(err),
    onResync: () => handler.reset(),
  });
  handler.xml = xml;
  yield* drainXml(input.chunks, xml, out);
}

class NmapHandler implements XmlHandler {
  wantText = false;
  xml: XmlStream | null = null;
  private runStart: string | undefined;
  private runInfo: Record<string, string> = {};
  private host: HostState | null = null;
  private port: PortState | null = null;
  private inCpe: 'service' | 'os' | null = null;
  private cpeText = '';
  private capture = new TreeCapture();
  private captureTarget: ((n: XmlNode) => void) | null = null;
  private osMatch: Record<string, unknown> | null = null;

  constructor(
    private readonly ctx: ImportContext,
    private readonly out: Observation[],
  ) {}

  reset(): void {
    this.host = null;
    this.port = null;
    this.inCpe = null;
    this.capture = new TreeCapture();
    this.captureTarget = null;
    this.osMatch = null;
    this.wantText = false;
  }

  open(name: string, attrs: XmlAttrs): void {
    if (this.capture.active) {
      this.capture.open(name, attrs);
      return;
    }
    const depth = this.xml?.depth ?? 0;
    if (name === 'nmaprun' && depth === 1) {
      this.runStart = isoTime(attrs.start);
      this.runInfo = compact({ scanner: attrs.scanner, version: attrs.version, args: text(attrs.args, 1024), start: attrs.startstr }) as Record<string, string>;
      return;
    }
    if (name === 'host') {
      this.host = { attrs, addresses: [], hostnames: [], ports: [], hostScripts: [], osMatches: [], extra: {} };
      return;
    }
    const host = this.host;
    if (!host) return;
    const p = this.port;
    if (p) {
      switch (name) {
        case 'state':
          p.state = attrs;
          return;
        case 'service':
          p.service = attrs;
          return;
        case 'cpe':
          this.startCpe('service');
          return;
        case 'script':
          this.startCapture(name, attrs, (n) => p.scripts.push(n));
          return;
        case 'port':
          return;
        default:
          this.startCapture(name, attrs, (n) => p.other.push(n));
          return;
      }
    }
    switch (name) {
      case 'status':
        host.status = attrs;
        return;
      case 'address':
        host.addresses.push(attrs);
        return;
      case 'hostnames':
      case 'ports':
      case 'hostscript':
      case 'os':
        return;
      case 'hostname':
        if (attrs.name) host.hostnames.push(compact({ name: attrs.name.slice(0, 255), type: attrs.type }));
        return;
      case 'port':
        this.port = { protocol: attrs.protocol ?? '', portid: attrs.portid ?? '', cpe: [], scripts: [], other: [] };
        return;
      case 'script':
        this.startCapture(name, attrs, (n) => host.hostScripts.push(n));
        return;
      case 'osmatch':
        this.osMatch = compact({ name: attrs.name, accuracy: int(attrs.accuracy), classes: [] as unknown[] });
        return;
      case 'osclass':
        if (this.osMatch) (this.osMatch.classes as unknown[]).push(compact({ ...attrs, accuracy: int(attrs.accuracy), cpe: [] as string[] }));
        return;
      case 'cpe':
        this.startCpe('os');
        return;
      default:
        // extraports, uptime, distance, tcpsequence, trace, times, osfingerprint, portused, …
        this.startCapture(name, attrs, (n) => (host.extra[n.name] ??= []).push(nodeToJson(n)));
    }
  }

  close(name: string): void {
    if (this.capture.active) {
      const done = this.capture.close();
      if (done) {
        const target = this.captureTarget;
        this.captureTarget = null;
        this.wantText = false;
        target?.(done);
      }
      return;
    }
    if (this.inCpe && name === 'cpe') {
      const cpe = this.cpeText.trim().slice(0, 512);
      if (cpe) {
        if (this.inCpe === 'service') this.port?.cpe.push(cpe);
        else if (this.osMatch) {
          const classes = this.osMatch.classes as { cpe: string[] }[];
          classes[classes.length - 1]?.cpe.push(cpe);
        }
      }
      this.inCpe = null;
      this.wantText = false;
      return;
    }
    if (name === 'osmatch' && this.osMatch && this.host) {
      this.host.osMatches.push(this.osMatch);
      this.osMatch = null;
    } else if (name === 'port' && this.port && this.host) {
      this.host.ports.push(this.port);
      this.port = null;
    } else if (name === 'host' && this.host) {
      this.finishHost(this.host);
      this.host = null;
    }
  }

  text(t: string): void {
    if (this.capture.active) this.capture.text(t);
    else if (this.inCpe) this.cpeText += t.length > 1024 ? t.slice(0, 1024) : t;
  }

  private where() {
    return this.xml?.currentPosition() ?? {};
  }

  private startCpe(kind: 'service' | 'os'): void {
    this.inCpe = kind;
    this.cpeText = '';
    this.wantText = true;
  }

  private startCapture(name: string, attrs: XmlAttrs, target: (n: XmlNode) => void): void {
    this.capture.open(name, attrs);
    this.captureTarget = target;
    this.wantText = true;
  }

  private finishHost(h: HostState): void {
    const ctx = this.ctx;
    const addr = h.addresses.find((a) => a.addrtype === 'ipv4' || a.addrtype === 'ipv6');
    const ip = ipAddress(addr?.addr);
    if (!ip) {
      if (h.ports.length) ctx.reject(this.where(), `host without a valid IPv4/IPv6 address (${JSON.stringify(addr?.addr ?? null)})`);
      return;
    }
    const time = isoTime(h.attrs.starttime) ?? isoTime(h.attrs.endtime) ?? this.runStart ?? ctx.importTime;
    const mac = h.addresses.find((a) => a.addrtype === 'mac');
    const hostData = compact({
      state: h.status?.state,
      hostnames: h.hostnames.length ? h.hostnames : undefined,
      mac: mac?.addr,
      macVendor: mac?.vendor,
      os: h.osMatches.length ? h.osMatches.slice(0, 10) : undefined,
      scripts: h.hostScripts.length ? scriptsJson(h.hostScripts) : undefined,
    });
    const hostExtra: Record<string, unknown> = { ...h.extra };
    for (const [k, v] of Object.entries(h.attrs)) if (k !== 'starttime' && k !== 'endtime') hostExtra[`@${k}`] = v;

    for (const p of h.ports) {
      const portNo = port(p.portid);
      const transport = p.protocol === 'udp' ? 'udp' : p.protocol === 'tcp' ? 'tcp' : null;
      if (portNo === undefined || !transport) {
        ctx.reject(this.where(), `host ${ip}: port ${JSON.stringify(p.portid)}/${JSON.stringify(p.protocol)} is not a TCP/UDP port number`);
        continue;
      }
      this.out.push(portObservation(ctx, ip, portNo, transport, time, p, hostData, hostExtra, this.runInfo));
      ctx.stats.records++;
    }
  }
}

function portObservation(ctx: ImportContext, ip: string, portNo: number, transport: Transport, time: string, p: PortState, host: Record<string, unknown>, hostExtra: Record<string, unknown>, runInfo: Record<string, string>): Observation {
  const st = p.state?.state ?? 'unknown';
  const status = NMAP_STATE_STATUS[st] ?? 'unknown-error';
  const svc = p.service;
  const tls = svc?.tunnel === 'ssl';
  const data: Record<string, unknown> = { portState: st };
  if (p.state?.reason) data.portReason = p.state.reason;
  if (svc) {
    data.service = compact({
      name: svc.name,
      product: text(svc.product, 256),
      version: text(svc.version, 256),
      extraInfo: text(svc.extrainfo, 512),
      deviceType: svc.devicetype,
      osType: svc.ostype,
      hostname: svc.hostname,
      tunnel: svc.tunnel,
      cpe: p.cpe.length ? p.cpe : undefined,
      method: svc.method,
      conf: int(svc.conf),
      fingerprint: text(svc.servicefp, 8192),
    });
  }
  const protocol = status === 'success' && svc?.name ? protocolName(svc.name, tls) : 'unknown';
  if (p.scripts.length) {
    data.scripts = scriptsJson(p.scripts);
    Object.assign(data, fieldsFromScripts(p.scripts));
  }
  if (Object.keys(host).length) data.host = host;
  const extra: Record<string, unknown> = {};
  if (Object.keys(hostExtra).length) extra.host = hostExtra;
  if (p.other.length) extra.port = p.other.map(nodeToJson);
  if (Object.keys(runInfo).length) extra.nmaprun = runInfo;
  return observation(ctx, 'nmap', { ip, port: portNo, transport, protocol, time, status, data, extra });
}

function scriptsJson(scripts: XmlNode[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const s of scripts) {
    const id = s.attrs.id ?? 'unknown';
    o[id] = compact({ output: text(s.attrs.output, 16384), elements: nseToJson(s) });
  }
  return o;
}

function elem(s: XmlNode, key: string): string | undefined {
  const e = s.children.find((c) => c.name === 'elem' && c.attrs.key === key);
  return e ? e.text : undefined;
}

function table(s: XmlNode, key: string): XmlNode | undefined {
  return s.children.find((c) => c.name === 'table' && c.attrs.key === key);
}

function tableStrings(t: XmlNode | undefined): string[] {
  return t ? t.children.filter((c) => c.name === 'elem').map((c) => c.text.slice(0, 256)).slice(0, 256) : [];
}

/** Protocol fields (src/core/fields.ts names) that common NSE scripts give. */
function fieldsFromScripts(scripts: XmlNode[]): Record<string, unknown> {
  const d: Record<string, unknown> = {};
  for (const s of scripts) {
    const id = s.attrs.id;
    const output = s.attrs.output ?? '';
    switch (id) {
      case 'http-title': {
        const title = elem(s, 'title') ?? (output.startsWith("Site doesn't have a title") ? undefined : output.trim());
        if (title) d.title = text(title, 1024);
        const redirect = elem(s, 'redirect_url');
        if (redirect) d.redirects = [text(redirect, 1024)];
        break;
      }
      case 'http-server-header': {
        const v = s.children.find((c) => c.name === 'elem')?.text ?? output.trim();
        if (v) d.server = text(v, 512);
        break;
      }
      case 'http-auth': {
        const m = /(Basic|Digest|NTLM|Negotiate|Bearer)\s+realm=("?)([^"\n\r]*)\2/i.exec(output);
        if (m) {
          d.authScheme = m[1];
          d.realm = text(m[3], 512);
        }
        break;
      }
      case 'banner': {
        if (output) d.banner = text(output);
        break;
      }
      case 'ssh-hostkey': {
        const keys = s.children.filter((c) => c.name === 'table');
        const first = keys[0];
        if (first) {
          const blob = elem(first, 'key');
          const type = elem(first, 'type');
          const bits = int(elem(first, 'bits'));
          if (blob && type) {
            const sha = hash('sha256', Buffer.from(blob, 'base64'), 'base64').replace(/=+$/, '');
            d.hostKey = compact({ type, sha256: `SHA256:${sha}`, bits });
          }
        }
        break;
      }
      case 'ssh2-enum-algos': {
        const enc = tableStrings(table(s, 'encryption_algorithms'));
        const mac = tableStrings(table(s, 'mac_algorithms'));
        d.kex = {
          kexAlgorithms: tableStrings(table(s, 'kex_algorithms')),
          hostKeyAlgorithms: tableStrings(table(s, 'server_host_key_algorithms')),
          // nmap reports one list per kind, the same for both directions
          ciphersClientToServer: enc,
          ciphersServerToClient: enc,
          macsClientToServer: mac,
          macsServerToClient: mac,
          compression: tableStrings(table(s, 'compression_algorithms')),
        };
        break;
      }
      case 'ssl-cert': {
        d.tls = tlsFromSslCert(s);
        break;
      }
      case 'snmp-sysdescr': {
        const v = output.split('\n')[0]?.trim();
        if (v) d.sysDescr = text(v, 1024);
        break;
      }
      case 'rtsp-methods': {
        const m = output.split(/[,\s]+/).filter((x) => /^[A-Z_]{3,20}$/.test(x));
        if (m.length) d.methods = m;
        break;
      }
      case 'mqtt-subscribe': {
        const topics = s.children.filter((c) => c.name === 'table').map((t) => elem(t, 'topic')).filter((x): x is string => !!x);
        if (topics.length) d.topics = topics.slice(0, 50).map((t) => t.slice(0, 256));
        break;
      }
      case 'upnp-info': {
        const server = /Server:\s*(.*)/.exec(output)?.[1]?.trim();
        if (server) d.server = text(server, 512);
        const location = /Location:\s*(\S+)/.exec(output)?.[1];
        if (location) d.location = text(location, 1024);
        break;
      }
      case 'coap-resources': {
        const res = s.children
          .filter((c) => c.name === 'table')
          .map((t) => ({ path: (t.attrs.key ?? '').slice(0, 256), attributes: Object.fromEntries(t.children.filter((c) => c.name === 'elem' && c.attrs.key).map((c) => [c.attrs.key!, c.text.slice(0, 256)])) }));
        if (res.length) d.resources = res.slice(0, 256);
        break;
      }
      default:
        break;
    }
  }
  return compact(d);
}

function tlsFromSslCert(s: XmlNode): TlsInfo {
  const dn = (key: string): Record<string, string> => {
    const t = table(s, key);
    const o: Record<string, string> = {};
    if (t) for (const c of t.children) if (c.name === 'elem' && c.attrs.key) o[c.attrs.key] = c.text.slice(0, 512);
    return o;
  };
  const subject = dn('subject');
  const issuer = dn('issuer');
  const pubkey = table(s, 'pubkey');
  const validity = table(s, 'validity');
  const ext = table(s, 'extensions');
  const san: string[] = [];
  if (ext) {
    for (const e of ext.children) {
      if (e.name !== 'table') continue;
      if (elem(e, 'name') === 'X509v3 Subject Alternative Name') {
        for (const part of (elem(e, 'value') ?? '').split(/,\s*/)) if (part) san.push(part.replace(/^(DNS|IP Address):/, '').slice(0, 256));
      }
    }
  }
  const pem = elem(s, 'pem');
  let sha256: string | null = null;
  if (pem) {
    const b64 = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
    if (b64) sha256 = hash('sha256', Buffer.from(b64, 'base64'), 'hex');
  }
  const cert: CertificateInfo = {
    subject,
    issuer,
    subjectAltNames: san.slice(0, 100),
    notBefore: isoTime(validity && elem(validity, 'notBefore')) ?? null,
    notAfter: isoTime(validity && elem(validity, 'notAfter')) ?? null,
    serialNumber: null,
    selfSigned: Object.keys(subject).length > 0 && JSON.stringify(subject) === JSON.stringify(issuer),
    keyType: (pubkey && elem(pubkey, 'type')) ?? null,
    keyBits: (pubkey && int(elem(pubkey, 'bits'))) ?? null,
    sha256,
    sha1: elem(s, 'sha1') ?? null,
    publicKeySha256: null,
  };
  return { version: null, cipher: null, alpn: null, certificate: cert, chainLength: 1 };
}
