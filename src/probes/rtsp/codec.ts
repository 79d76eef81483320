// Stage: probes, RTSP wire format (RFC 2326). Pure functions, no I/O: requests, responses (status line, headers,
// Content-Length body), the Public method list and the WWW-Authenticate challenge.

export type Decoded<T> = { kind: 'ok'; value: T; consumed: number } | { kind: 'need-more' } | { kind: 'error'; reason: string };

export interface RtspResponse {
  version: string;
  statusCode: number;
  reason: string;
  /** lower-cased names; repeated headers joined with ", " */
  headers: Record<string, string>;
  body: Buffer;
}

const MAX_HEAD = 16 * 1024;
const MAX_HEADERS = 100;
/** An SDP is a few hundred bytes; a body beyond this is not one we need to wait for. */
export const MAX_BODY = 256 * 1024;

/**
 * Paths tried by DESCRIBE when the root gives 404 or 400: the stream paths of common camera firmware
 * (generic GStreamer/live555 servers, Hikvision, Dahua, many OEM cameras). Data, bounded: at most this many requests.
 */
export const DESCRIBE_PATHS = ['/', '/live.sdp', '/stream1', '/live/ch00_0', '/Streaming/Channels/101', '/cam/realmonitor'] as const;

export function rtspUrl(ip: string, port: number, path: string): string {
  const host = ip.includes(':') ? `[${ip}]` : ip;
  return `rtsp://${host}:${port}${path.startsWith('/') ? path : `/${path}`}`;
}

export function encodeRequest(method: string, url: string, cseq: number, headers: readonly (readonly [string, string])[] = []): string {
  const clean = (s: string) => s.replace(/[\r\n]/g, ' ');
  let out = `${method} ${clean(url)} RTSP/1.0\r\nCSeq: ${cseq}\r\n`;
  for (const [k, v] of headers) out += `${clean(k)}: ${clean(v)}\r\n`;
  return `${out}\r\n`;
}

const PREFIX = 'RTSP/';

/** Could these first bytes still become an RTSP status line? False as soon as they cannot. */
export function couldBeRtsp(buf: Uint8Array): boolean {
  const n = Math.min(buf.length, PREFIX.length);
  for (let i = 0; i < n; i++) if (buf[i] !== PREFIX.charCodeAt(i)) return false;
  return true;
}

export function parseResponse(buf: Uint8Array): Decoded<RtspResponse> {
  if (!couldBeRtsp(buf)) {
    const head = Buffer.from(buf.subarray(0, 12)).toString('latin1');
    return { kind: 'error', reason: head.startsWith('HTTP/') ? 'an HTTP response, not RTSP' : 'not an RTSP response' };
  }
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  let headEnd = b.indexOf('\r\n\r\n');
  let sepLen = 4;
  const lf = b.indexOf('\n\n');
  if (lf !== -1 && (headEnd === -1 || lf < headEnd)) {
    headEnd = lf;
    sepLen = 2;
  }
  if (headEnd === -1) return b.length > MAX_HEAD ? { kind: 'error', reason: 'response header too long' } : { kind: 'need-more' };
  if (headEnd > MAX_HEAD) return { kind: 'error', reason: 'response header too long' };
  const lines = b.subarray(0, headEnd).toString('latin1').split(/\r?\n/);
  const m = /^RTSP\/(\d+\.\d+) (\d{3})(?: (.*))?$/.exec(lines[0]!);
  if (!m) return { kind: 'error', reason: `malformed RTSP status line: ${JSON.stringify(lines[0]!.slice(0, 60))}` };
  const headers: Record<string, string> = {};
  let last: string | null = null;
  let count = 0;
  for (const line of lines.slice(1)) {
    if (/^[ \t]/.test(line) && last) {
      headers[last] = `${headers[last]} ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    if (++count > MAX_HEADERS) return { kind: 'error', reason: 'too many headers' };
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    last = name;
  }
  let bodyLen = 0;
  if (headers['content-length'] !== undefined) {
    if (!/^\d{1,9}$/.test(headers['content-length'])) return { kind: 'error', reason: `bad Content-Length ${JSON.stringify(headers['content-length'].slice(0, 20))}` };
    bodyLen = Number(headers['content-length']);
    if (bodyLen > MAX_BODY) return { kind: 'error', reason: `body of ${bodyLen} bytes is too large` };
  }
  const start = headEnd + sepLen;
  if (b.length < start + bodyLen) return { kind: 'need-more' };
  return {
    kind: 'ok',
    value: { version: m[1]!, statusCode: Number(m[2]), reason: m[3] ?? '', headers, body: Buffer.from(b.subarray(start, start + bodyLen)) },
    consumed: start + bodyLen,
  };
}

/** The Public header: the methods the server supports. */
export function parsePublic(value: string | undefined): string[] {
  if (!value) return [];
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => /^[A-Za-z_][A-Za-z0-9_-]{0,31}$/.test(s))
    .slice(0, 32);
}

/** Scheme and realm of the first challenge in a WWW-Authenticate header. */
export function parseAuthenticate(value: string | undefined): { scheme?: string; realm?: string } {
  if (!value) return {};
  const m = /^\s*([A-Za-z][A-Za-z0-9_-]*)/.exec(value);
  if (!m) return {};
  const out: { scheme?: string; realm?: string } = { scheme: m[1] };
  const rest = value.slice(m[0].length);
  const realm = /(?:^|[\s,])realm\s*=\s*(?:"((?:[^"\\]|\\.){0,512})"|([^\s,]{1,512}))/i.exec(rest);
  if (realm) out.realm = (realm[1] ?? realm[2] ?? '').replace(/\\(.)/g, '$1');
  return out;
}
