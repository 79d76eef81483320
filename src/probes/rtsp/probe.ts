// Stage: probes, RTSP. OPTIONS tells the server software and methods; DESCRIBE on the root and a short list of
// common stream paths tells whether a stream is open to anyone (an SDP comes back) or asks for credentials. No
// credentials are ever sent, and no stream is set up or played.
import { bytesToText } from '../../core/bytes.ts';
import type { RtspData } from '../../core/fields.ts';
import type { Conn } from '../../scan/conn.ts';
import { type Probe, type ProbeContext, ProbeError, type ProbeResult } from '../../scan/probe.ts';
import { DESCRIBE_PATHS, type RtspResponse, couldBeRtsp, encodeRequest, parseAuthenticate, parsePublic, parseResponse, rtspUrl } from './codec.ts';

const RAW_CAP = 2048;
const SDP_CAP = 2048;

export const rtspProbe: Probe = {
  name: 'rtsp',
  transport: 'tcp',
  defaultPorts: [554, 8554],
  scan: scanRtsp,
};

type Exchange = { kind: 'ok'; response: RtspResponse; bytes: Buffer } | { kind: 'not-rtsp'; reason: string; raw: Buffer } | { kind: 'gone'; reason: string; error?: unknown };

async function scanRtsp(ctx: ProbeContext): Promise<ProbeResult> {
  const { ip, port } = ctx.target;
  const budgetEnd = Date.now() + 2 * ctx.timeoutMs;
  let conn: Conn | null = await ctx.connect();
  let cseq = 0;
  const common: [string, string][] = [['User-Agent', ctx.userAgent]];

  try {
    // A service that spoke first with something else is not RTSP (RTSP servers wait for the client).
    if (conn.buffered.length && !couldBeRtsp(conn.buffered))
      return { status: 'protocol-error', data: {}, raw: Buffer.from(conn.buffered.subarray(0, RAW_CAP)), error: 'the service spoke first, and not RTSP' };

    const root = rtspUrl(ip, port, '/');
    const options = await exchange(conn, encodeRequest('OPTIONS', root, ++cseq, common));
    if (options.kind === 'not-rtsp') return { status: 'protocol-error', data: {}, raw: options.raw, error: options.reason };
    // Nothing came back: let the engine map the socket's fate (timeout, reset, close) to its status.
    if (options.kind === 'gone') throw options.error ?? new ProbeError('io-timeout', `no RTSP answer to OPTIONS: ${options.reason}`);
    const raw = options.bytes.subarray(0, RAW_CAP);
    const data: RtspData = { statusCode: options.response.statusCode };
    const server = options.response.headers.server;
    if (server) data.server = server.slice(0, 256);
    const methods = parsePublic(options.response.headers.public);
    if (methods.length) data.methods = methods;
    if (options.response.statusCode === 401) noteChallenge(data, options.response);
    let keepAlive = !closes(options.response);

    for (const path of DESCRIBE_PATHS) {
      if (Date.now() >= budgetEnd) break;
      const url = rtspUrl(ip, port, path);
      const request = encodeRequest('DESCRIBE', url, ++cseq, [['Accept', 'application/sdp'], ...common]);
      let answer: Exchange | null = null;
      // A server that closes after each response gets a fresh connection; one retry per path if it closed meanwhile.
      for (let attempt = 0; attempt < 2 && !answer; attempt++) {
        if (!conn || conn.ended || !keepAlive) {
          conn?.close();
          conn = null;
          try {
            conn = await ctx.connect();
          } catch {
            break;
          }
          keepAlive = true;
        }
        const a = await exchange(conn, request);
        if (a.kind === 'gone' && attempt === 0 && conn.ended) {
          keepAlive = false;
          continue;
        }
        answer = a;
      }
      if (!answer || answer.kind !== 'ok') break;
      const res = answer.response;
      keepAlive = !closes(res);
      data.url = url;
      data.describeStatus = res.statusCode;
      if (!data.server && res.headers.server) data.server = res.headers.server.slice(0, 256);
      if (res.statusCode === 404 || res.statusCode === 400) continue;
      if (res.statusCode === 401) {
        data.authRequired = true;
        noteChallenge(data, res);
      } else if (res.statusCode === 200) {
        data.authRequired = false;
        if (res.body.length) data.sdp = bytesToText(res.body, SDP_CAP);
      }
      break;
    }
    return { status: 'success', protocol: 'rtsp', data: data as Record<string, unknown>, raw };
  } finally {
    conn?.close();
  }
}

function noteChallenge(data: RtspData, res: RtspResponse): void {
  const { scheme, realm } = parseAuthenticate(res.headers['www-authenticate']);
  if (scheme) data.authScheme = scheme;
  if (realm !== undefined) data.realm = realm.slice(0, 256);
}

function closes(res: RtspResponse): boolean {
  return /\bclose\b/i.test(res.headers.connection ?? '');
}

async function exchange(conn: Conn, request: string): Promise<Exchange> {
  try {
    await conn.write(request);
    await conn.readUntil((b) => parseResponse(b).kind !== 'need-more');
  } catch (e) {
    const raw = Buffer.from(conn.buffered.subarray(0, RAW_CAP));
    if (raw.length && !couldBeRtsp(raw)) return { kind: 'not-rtsp', reason: 'not an RTSP response', raw };
    return { kind: 'gone', reason: e instanceof Error ? e.message : String(e), error: e };
  }
  const r = parseResponse(conn.buffered);
  if (r.kind === 'ok') return { kind: 'ok', response: r.value, bytes: conn.take(r.consumed) };
  const raw = Buffer.from(conn.buffered.subarray(0, RAW_CAP));
  if (r.kind === 'error') return { kind: 'not-rtsp', reason: r.reason, raw };
  return couldBeRtsp(raw) && raw.length ? { kind: 'gone', reason: 'incomplete RTSP response' } : { kind: 'not-rtsp', reason: 'not an RTSP response', raw };
}
