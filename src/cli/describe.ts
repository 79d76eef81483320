// Stage: CLI front-end. One line saying what a service told us, for tables. The text is device-supplied and is
// made printable by the table renderer.
import type { Observation } from '../core/observation.ts';

const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);

export function describeObservation(o: Pick<Observation, 'protocol' | 'data' | 'status'>): string {
  const d = o.data as Record<string, any>;
  const parts: (string | undefined)[] = [];
  switch (o.protocol) {
    case 'http':
    case 'https':
      parts.push(d.statusCode ? String(d.statusCode) : undefined, str(d.server), d.title ? `"${d.title}"` : undefined, d.realm ? `realm="${d.realm}"` : undefined);
      if (d.tls?.version) parts.push(d.tls.version);
      break;
    case 'ssh':
      parts.push(str(d.ident), d.hostKey ? `${d.hostKey.type} ${d.hostKey.sha256}` : undefined);
      break;
    case 'telnet':
      parts.push(str(d.banner)?.trim().split(/\r?\n/).filter(Boolean).slice(-1)[0], d.loginPrompt ? '(login prompt)' : undefined);
      break;
    case 'ftp':
      parts.push(str(d.banner)?.split(/\r?\n/)[0]);
      break;
    case 'rtsp':
      parts.push(str(d.server), d.authRequired === true ? 'auth required' : d.authRequired === false ? 'no auth' : undefined);
      break;
    case 'mqtt':
    case 'mqtts':
      parts.push(d.anonymous ? 'anonymous access' : d.connackCode !== undefined ? `CONNACK ${d.connackCode}` : undefined, str(d.brokerVersion));
      break;
    case 'snmp':
      parts.push(d.community ? `${d.version} community "${d.community}"` : undefined, str(d.sysDescr));
      break;
    case 'ssdp':
      parts.push(str(d.server), d.upnp ? [d.upnp.manufacturer, d.upnp.modelName, d.upnp.modelNumber].filter(Boolean).join(' ') : undefined);
      break;
    case 'coap':
    case 'coap-tcp':
      parts.push(Array.isArray(d.resources) ? `${d.resources.length} resources: ${d.resources.slice(0, 4).map((r: { path: string }) => r.path).join(' ')}` : undefined);
      break;
    case 'modbus':
      parts.push([d.vendorName, d.productCode, d.revision].filter(Boolean).join(' ') || (d.exceptionCode !== undefined ? `exception ${d.exceptionCode}` : undefined));
      break;
    case 'dns':
      parts.push(str(d.versionBind), d.recursionAvailable ? 'open resolver' : d.rcode ? `recursion refused (${d.rcode})` : undefined);
      break;
    case 'nat-pmp':
    case 'pcp':
      parts.push(d.externalAddress ? `external ${d.externalAddress}` : d.resultCode !== undefined ? `result ${d.resultCode}` : undefined);
      break;
    case 'mdns':
      parts.push(str(d.hostname), Array.isArray(d.services) ? d.services.slice(0, 6).map((x: { type?: string; port?: number }) => `${x.type ?? ''}${x.port ? `:${x.port}` : ''}`).join(' ') : undefined);
      break;
    default:
      parts.push(str(d.banner) ?? str(d.error));
  }
  const text = parts.filter(Boolean).join(' ');
  return text || (o.status === 'success' ? '' : o.status);
}
