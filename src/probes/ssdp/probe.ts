// Stage: probes, SSDP/UPnP. A unicast M-SEARCH to the target, the answers collected for a short window, then the
// device description XML fetched from LOCATION (only when its host is an IP literal, through the scoped dialer,
// with a capped HTTP GET). Devices that answer only multicast stay silent: that is an io-timeout, not a failure.
import type { SsdpData } from '../../core/fields.ts';
import type { Conn } from '../../scan/conn.ts';
import { type Probe, type ProbeContext, ProbeError, type ProbeResult } from '../../scan/probe.ts';
import { ResponseCompletion, bodyText, buildGetRequest, parseResponse, resolveLocation } from '../http/codec.ts';
import { SSDP_LIMITS, type SsdpResponse, encodeMSearch, parseSsdpResponse, parseDescription } from './codec.ts';

const RAW_CAP = 2048;
/** search targets: everything first; a device silent to that may still answer for root devices */
const SEARCH_TARGETS = ['ssdp:all', 'upnp:rootdevice'];
/** after the first answer, how long further answers (one per device, service and UUID) are collected */
const TRAILING_MS = 300;
const MAX_ANSWERS = 32;
/** the device description read at most (head and body) */
const DESCRIPTION_CAP = SSDP_LIMITS.maxDescriptionBytes + 16 * 1024;

export const ssdpProbe: Probe = {
  name: 'ssdp',
  transport: 'udp',
  defaultPorts: [1900],
  scan: scanSsdp,
};

async function scanSsdp(ctx: ProbeContext): Promise<ProbeResult> {
  const { ip, port } = ctx.target;
  // SSDP devices may answer from another port than 1900: an unconnected channel hears them.
  const ch = await ctx.udp({ connected: false });
  const answers: { bytes: Buffer; response: SsdpResponse }[] = [];
  let foreign: Buffer | null = null;
  try {
    // MX 1: a device answers within a second; the window also bounds how long a silent target costs.
    const window = Math.min(ctx.timeoutMs, 1200);
    const tries = Math.min(1 + ctx.udpRetries, SEARCH_TARGETS.length);
    for (let i = 0; i < tries && !answers.length; i++) {
      await ch.send(encodeMSearch({ ip, port, st: SEARCH_TARGETS[i]!, mx: 1, userAgent: ctx.userAgent }));
      const first = await ch.receive(window);
      if (!first) continue;
      for (const b of [first, ...(await ch.receiveAll(TRAILING_MS, MAX_ANSWERS - 1))]) {
        const p = parseSsdpResponse(b);
        if (p.ok) answers.push({ bytes: b, response: p.response });
        else foreign ??= Buffer.from(b.subarray(0, RAW_CAP));
      }
    }
  } finally {
    ch.close();
  }
  if (!answers.length) {
    if (foreign) return { status: 'protocol-error', data: {}, raw: foreign, error: 'the answer to M-SEARCH is not an SSDP response' };
    throw new ProbeError('io-timeout', 'no answer to a unicast M-SEARCH (some devices answer multicast only)');
  }

  // The root device's answer says most; any answer with a LOCATION will do.
  const main = answers.find((a) => a.response.headers.st === 'upnp:rootdevice') ?? answers.find((a) => a.response.headers.location) ?? answers[0]!;
  const h = main.response.headers;
  const data: SsdpData = { headers: h };
  if (h.server) data.server = h.server;
  if (h.location) data.location = h.location;
  if (h.st) data.st = h.st;
  if (h.usn) data.usn = h.usn;
  if (h.location) {
    const upnp = await fetchDescription(ctx, h.location);
    if (upnp) data.upnp = upnp;
  }
  return { status: 'success', protocol: 'ssdp', data: data as Record<string, unknown>, raw: main.bytes.subarray(0, RAW_CAP) };
}

/** GET the description; any trouble (out of scope, a host name, refused, not XML) leaves it out, quietly. */
async function fetchDescription(ctx: ProbeContext, location: string): Promise<SsdpData['upnp'] | null> {
  const target = resolveLocation(location, { ip: ctx.target.ip, port: 80, tls: false, path: '/' });
  if ('error' in target) return null;
  let conn: Conn | null = null;
  try {
    conn = await ctx.connect({ ip: target.ip, port: target.port, tls: target.tls });
    await conn.write(buildGetRequest(target, target.path, ctx.userAgent));
    const completion = new ResponseCompletion();
    await conn.readUntil((b) => b.length >= DESCRIPTION_CAP || completion.check(b) !== 'incomplete', ctx.timeoutMs);
    const res = parseResponse(conn.buffered.subarray(0, DESCRIPTION_CAP), { connectionClosed: conn.ended, endOfInput: true, maxBodyBytes: SSDP_LIMITS.maxDescriptionBytes });
    if (res.head.statusCode !== 200 || !res.body.length) return null;
    const parsed = parseDescription(bodyText(res.body, res.head.headers['content-type'], SSDP_LIMITS.maxDescriptionBytes));
    return parsed.ok ? parsed.device : null;
  } catch {
    return null;
  } finally {
    conn?.close();
  }
}
