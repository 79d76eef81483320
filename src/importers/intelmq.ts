// Stage: imports (foreign files → observations). IntelMQ events as JSON lines, flat ("source.ip": …) or nested
// ({"source": {"ip": …}}), as IntelMQ's file output and its API write them: each becomes an event observation
// (see events.ts) about source.ip (or destination.ip when a feed names only that), with the classification,
// malware family, feed and endpoints in data and every other key kept under extra.
import type { Observation } from '../core/observation.ts';
import { cves, eventObservation, severity } from './events.ts';
import { type Importer, type ImportContext, compact, int, ipAddress, isObject, isoTime, port, text } from './importer.ts';
import type { ImportInput } from './input.ts';
import { readJsonRecords } from './json-records.ts';

export const intelmqImporter: Importer = {
  format: 'intelmq',
  description: 'IntelMQ events (JSON lines)',
  sniff(head) {
    const line = head.replace(/^\uFEFF/, '').trimStart().split('\n', 1)[0] ?? '';
    if (!line.startsWith('{')) return 0;
    if (/"(classification\.type|feed\.name|source\.ip|time\.observation)"\s*:/.test(line)) return 0.9;
    if (/"classification"\s*:\s*\{/.test(line) && /"feed"\s*:\s*\{|"source"\s*:\s*\{/.test(line)) return 0.85;
    return 0;
  },
  parse: parseIntelmq,
};

/** Nested IntelMQ objects → IntelMQ's dotted keys. */
export function flattenIntelmq(o: Record<string, unknown>, prefix = '', out: Record<string, unknown> = {}, depth = 0): Record<string, unknown> {
  for (const [k, v] of Object.entries(o)) {
    const key = prefix ? `${prefix}.${k}` : k;
    // extra.* may hold objects that are values in their own right; IntelMQ nests only its harmonised names
    if (isObject(v) && depth < 4 && !key.startsWith('extra.')) flattenIntelmq(v, key, out, depth + 1);
    else out[key] = v;
  }
  return out;
}

/** Classification types whose source.port is the reported host's service port rather than a client port. */
const SERVICE_TYPES = new Set(['vulnerable-system', 'vulnerable-service', 'infected-system-service', 'potentially-unwanted-accessible', 'information-disclosure', 'vulnerable-client']);

const MAPPED = ['source.ip', 'source.port', 'source.asn', 'source.geolocation.cc', 'source.reverse_dns', 'destination.ip', 'destination.port', 'destination.asn', 'destination.geolocation.cc', 'destination.reverse_dns', 'classification.type', 'classification.taxonomy', 'classification.identifier', 'malware.name', 'feed.name', 'time.source', 'protocol.application', 'protocol.transport', 'source.url', 'destination.url', 'malware.hash.sha256', 'malware.hash.md5', 'event_description.text', 'extra.tag', 'extra.severity', 'severity', 'source.account', 'extra.device_vendor', 'extra.device_type', 'extra.device_model', 'extra.device_version'];

async function* parseIntelmq(input: ImportInput, ctx: ImportContext): AsyncGenerator<Observation[]> {
  for await (const batch of readJsonRecords(input, ctx, { multiLine: true })) {
    const out: Observation[] = [];
    for (const { value, line, offset } of batch) {
      const pos = { line, offset };
      if (!isObject(value)) {
        ctx.reject(pos, 'not an IntelMQ event (expected a JSON object)');
        continue;
      }
      const f = flattenIntelmq(value);
      const ip = ipAddress(f['source.ip']) ?? ipAddress(f['destination.ip']);
      if (!ip) {
        ctx.reject(pos, 'IntelMQ event without source.ip or destination.ip');
        continue;
      }
      const time = isoTime(f['time.source']) ?? isoTime(f['time.observation']);
      if (!time) {
        ctx.reject(pos, 'IntelMQ event without a readable time.source or time.observation');
        continue;
      }
      const type = text(f['classification.type'], 64) ?? 'undetermined';
      const srcPort = port(f['source.port']);
      const tagText = typeof f['extra.tag'] === 'string' ? f['extra.tag'] : undefined;
      const feedName = text(f['feed.name'], 128) ?? 'unknown';
      const ev = compact({
        feed: `intelmq:${feedName}`,
        category: type,
        taxonomy: text(f['classification.taxonomy'], 64),
        eventType: text(f['classification.identifier'], 128),
        family: text(f['malware.name'], 128),
        severity: severity(f['extra.severity'] ?? f.severity),
        tags: tagText ? tagText.split(/[;,]/).map((t) => t.trim()).filter(Boolean).slice(0, 50) : undefined,
        time,
        src: compact({ ip: ipAddress(f['source.ip']), port: srcPort, asn: int(f['source.asn']), geo: text(f['source.geolocation.cc'], 8), hostname: text(f['source.reverse_dns'], 255) }),
        dst: compact({ ip: ipAddress(f['destination.ip']), port: port(f['destination.port']), asn: int(f['destination.asn']), geo: text(f['destination.geolocation.cc'], 8), hostname: text(f['destination.reverse_dns'], 255) }),
        appProtocol: text(f['protocol.application'], 32),
        transport: text(f['protocol.transport'], 8),
        username: text(f['source.account'], 256),
        url: text(f['source.url'] ?? f['destination.url'], 2048),
        sha256: text(f['malware.hash.sha256'], 64),
        md5: text(f['malware.hash.md5'], 32),
        device: deviceOf(f),
        vulnerabilities: cves(tagText),
        message: text(f['event_description.text'], 1024),
      });
      const extra: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(f)) if (!MAPPED.includes(k)) extra[k] = v;
      out.push(eventObservation(ctx, 'intelmq', ev, { ip, port: SERVICE_TYPES.has(type) ? srcPort : 0, transport: f['protocol.transport'] === 'udp' ? 'udp' : 'tcp', extra }));
    }
    if (out.length) yield out;
  }
}

function deviceOf(f: Record<string, unknown>): Record<string, string> | undefined {
  const d = compact({ vendor: text(f['extra.device_vendor'], 128), type: text(f['extra.device_type'], 64), model: text(f['extra.device_model'], 128), version: text(f['extra.device_version'], 128) });
  return Object.keys(d).length ? (d as Record<string, string>) : undefined;
}
