// Stage: imports (foreign files → observations). Cowrie honeypot JSON logs (cowrie.json): every event line
// (connect, login attempts, commands, downloads, client versions, …) becomes an event observation about the
// connecting address; see events.ts for the shape. Fields not modelled stay under extra.
import type { Observation } from '../core/observation.ts';
import { eventObservation } from './events.ts';
import { type Importer, type ImportContext, compact, ipAddress, isObject, isoTime, port, text, withoutPaths } from './importer.ts';
import type { ImportInput } from './input.ts';
import { readJsonRecords } from './json-records.ts';

export const cowrieImporter: Importer = {
  format: 'cowrie',
  description: 'Cowrie honeypot JSON log',
  sniff(head) {
    const line = head.replace(/^\uFEFF/, '').trimStart().split('\n', 1)[0] ?? '';
    return line.startsWith('{') && /"eventid"\s*:\s*"cowrie\./.test(line) ? 0.95 : 0;
  },
  parse: parseCowrie,
};

const MAPPED = ['eventid', 'timestamp', 'src_ip', 'src_port', 'dst_ip', 'dst_port', 'protocol', 'username', 'password', 'input', 'url', 'shasum', 'session', 'sensor', 'message'];

async function* parseCowrie(input: ImportInput, ctx: ImportContext): AsyncGenerator<Observation[]> {
  for await (const batch of readJsonRecords(input, ctx)) {
    const out: Observation[] = [];
    for (const { value, line, offset } of batch) {
      const pos = { line, offset };
      if (!isObject(value) || typeof value.eventid !== 'string') {
        ctx.reject(pos, 'not a Cowrie event (no "eventid")');
        continue;
      }
      const ip = ipAddress(value.src_ip);
      if (!ip) {
        ctx.reject(pos, `Cowrie event without a valid src_ip (${JSON.stringify(String(value.src_ip ?? '')).slice(0, 60)})`);
        continue;
      }
      const time = isoTime(value.timestamp);
      if (!time) {
        ctx.reject(pos, 'Cowrie event without a readable timestamp');
        continue;
      }
      const eventid = value.eventid.slice(0, 64);
      const ev = compact({
        feed: 'cowrie',
        category: eventid.startsWith('cowrie.login') ? 'brute-force' : eventid === 'cowrie.session.file_download' ? 'malware-distribution' : 'intrusion-attempt',
        eventType: eventid,
        time,
        src: compact({ ip, port: port(value.src_port) }),
        dst: compact({ ip: ipAddress(value.dst_ip), port: port(value.dst_port) }),
        appProtocol: text(value.protocol, 16),
        username: text(value.username, 256),
        password: text(value.password, 256),
        command: text(value.input, 4096),
        url: text(value.url, 2048),
        sha256: text(value.shasum, 64),
        session: text(value.session, 64),
        sensor: text(value.sensor, 128),
        message: text(Array.isArray(value.message) ? value.message.join(' ') : value.message, 1024),
      });
      out.push(eventObservation(ctx, 'cowrie', ev, { ip, extra: withoutPaths(value, MAPPED) }));
    }
    if (out.length) yield out;
  }
}
