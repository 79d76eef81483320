// Stage: lab. The RTSP responder: OPTIONS with the device's Server and Public headers, DESCRIBE answered with 401
// and the device's Basic or Digest challenge, or with the stream's SDP once the listed pair is sent. No media:
// SETUP is refused, which is all a scanner or credential audit needs to see.
import net from 'node:net';
import type { ServiceOf } from '../profile.ts';
import { IDLE_MS, MAX_REQUEST_BYTES, type RunningService, type ServiceContext, authorized, challenge, listenTcp, makeNonce } from './common.ts';

const REASONS: Record<number, string> = {
  200: 'OK',
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  454: 'Session Not Found',
  461: 'Unsupported Transport',
  501: 'Not Implemented',
  505: 'RTSP Version Not Supported',
};

export interface RtspRequest {
  method: string;
  url: string;
  version: string;
  headers: Record<string, string>;
}

/** Parse one request head (without the blank line); null when it is not an RTSP-style request. */
export function parseRtspHead(head: string): RtspRequest | null {
  const [first, ...rest] = head.split(/\r?\n/);
  const m = /^([A-Z_]+) (\S+) ([A-Z]+\/\d\.\d)$/.exec(first ?? '');
  if (!m) return null;
  const headers: Record<string, string> = {};
  for (const l of rest) {
    const c = l.indexOf(':');
    if (c > 0) headers[l.slice(0, c).trim().toLowerCase()] = l.slice(c + 1).trim();
  }
  return { method: m[1]!, url: m[2]!, version: m[3]!, headers };
}

function pathOf(url: string): string {
  const m = /^rtsp:\/\/[^/]*(\/[^?]*)?/i.exec(url);
  const p = m ? (m[1] ?? '/') : url.split('?')[0]!;
  return p.length > 1 ? p.replace(/\/+$/, '') : p;
}

export async function startRtsp(spec: ServiceOf<'rtsp'>, ctx: ServiceContext): Promise<RunningService> {
  const nonce = makeNonce();
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    socket.setTimeout(IDLE_MS, () => socket.destroy());
    let pending = Buffer.alloc(0);
    let skipBody = 0;

    const respond = (status: number, cseq: string | undefined, headers: Record<string, string>, body = '') => {
      const lines = [`RTSP/1.0 ${status} ${REASONS[status] ?? 'Error'}`];
      if (cseq !== undefined) lines.push(`CSeq: ${cseq}`);
      if (spec.server) lines.push(`Server: ${spec.server}`);
      lines.push(`Date: ${new Date().toUTCString()}`);
      for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
      if (body) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
      socket.write(lines.join('\r\n') + '\r\n\r\n' + body);
    };

    const handle = (req: RtspRequest | null) => {
      if (!req) return respond(400, undefined, {});
      const cseq = req.headers.cseq;
      if (req.version !== 'RTSP/1.0') return respond(req.version.startsWith('RTSP/') ? 505 : 400, cseq, {});
      if (req.method === 'OPTIONS') return respond(200, cseq, { Public: spec.public.join(', ') });
      if (!spec.public.includes(req.method)) return respond(501, cseq, { Public: spec.public.join(', ') });
      if (spec.auth && !authorized(spec.auth, req.headers.authorization, req.method, nonce))
        return respond(401, cseq, { 'WWW-Authenticate': challenge(spec.auth, nonce, false) });
      const path = pathOf(req.url);
      const stream = spec.streams.find((s) => s.path === path);
      switch (req.method) {
        case 'DESCRIBE': {
          if (!stream) return respond(404, cseq, {});
          const base = req.url.endsWith('/') ? req.url : `${req.url}/`;
          const sdp = stream.sdp.replace(/\r?\n/g, '\r\n');
          return respond(200, cseq, { 'Content-Base': base, 'Content-Type': 'application/sdp' }, sdp);
        }
        case 'SETUP':
          return respond(stream ? 461 : 404, cseq, {});
        case 'GET_PARAMETER':
        case 'SET_PARAMETER':
          return respond(200, cseq, {});
        default:
          return respond(454, cseq, {});
      }
    };

    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        if (skipBody > 0) {
          const n = Math.min(skipBody, pending.length);
          pending = pending.subarray(n);
          skipBody -= n;
          if (skipBody > 0) return;
        }
        const end = pending.indexOf('\r\n\r\n');
        if (end < 0) break;
        const head = pending.subarray(0, end).toString('latin1');
        pending = pending.subarray(end + 4);
        const req = parseRtspHead(head);
        skipBody = Math.min(Number(req?.headers['content-length'] ?? 0) || 0, MAX_REQUEST_BYTES);
        handle(req);
        if (!req) {
          socket.end();
          return;
        }
      }
      if (pending.length > MAX_REQUEST_BYTES) socket.destroy();
    });
  });
  return listenTcp(server, ctx);
}
