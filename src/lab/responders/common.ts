// Stage: lab. What every emulated service shares: where it listens, how the lab closes it, and HTTP/RTSP-style
// Basic and Digest authentication against the profile's credential pairs.
import { createHash, randomBytes } from 'node:crypto';
import type dgram from 'node:dgram';
import type net from 'node:net';
import type { AuthSpec, LabProfile } from '../profile.ts';

export interface ServiceContext {
  /** the device's own loopback address */
  address: string;
  /** the port actually bound (the profile's, or +10000 with --high-ports) */
  port: number;
  profile: LabProfile;
  /** the port actually bound for another of this device's declared ports */
  portOf(declared: number): number;
}

export interface RunningService {
  close(): Promise<void>;
}

/** Idle connections are dropped like a device's own session timeout would, so nothing lingers forever. */
export const IDLE_MS = 60_000;
/** Longest request line or header block a responder keeps; a client sending more is cut off. */
export const MAX_REQUEST_BYTES = 16_384;

/** Listen and keep track of sockets, so close() ends open sessions too. */
export async function listenTcp(server: net.Server, ctx: ServiceContext): Promise<RunningService> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: ctx.port, host: ctx.address, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', () => {});
  return {
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export async function bindUdp(socket: dgram.Socket, ctx: ServiceContext): Promise<RunningService> {
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ port: ctx.port, address: ctx.address, exclusive: true }, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  socket.on('error', () => {});
  return { close: () => new Promise<void>((resolve) => socket.close(() => resolve())) };
}

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

/** One nonce per service start: enough for a client to answer a Digest challenge. */
export function makeNonce(): string {
  return randomBytes(16).toString('hex');
}

/** WWW-Authenticate value; RTSP cameras send Digest without qop, web servers with qop="auth". */
export function challenge(auth: AuthSpec, nonce: string, qop = true): string {
  if (auth.scheme === 'Basic') return `Basic realm="${auth.realm}"`;
  return `Digest realm="${auth.realm}", nonce="${nonce}"${qop ? ', qop="auth"' : ''}`;
}

function digestParams(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of s.matchAll(/([a-zA-Z]+)=(?:"([^"]*)"|([^,\s]*))/g)) out[m[1]!.toLowerCase()] = m[2] ?? m[3] ?? '';
  return out;
}

/** Does the Authorization header carry one of the listed pairs? */
export function authorized(auth: AuthSpec, header: string | undefined, method: string, nonce: string): boolean {
  if (!header || header.length > 4096) return false;
  const [scheme, ...rest] = header.trim().split(/\s+/);
  const value = rest.join(' ');
  if (scheme?.toLowerCase() === 'basic') {
    if (auth.scheme !== 'Basic') return false;
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return false;
    const user = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    return auth.credentials.some((c) => c.user === user && c.password === password);
  }
  if (scheme?.toLowerCase() === 'digest' && auth.scheme === 'Digest') {
    const p = digestParams(value);
    if (p.nonce !== nonce || p.realm !== auth.realm || !p.uri || !p.response) return false;
    const cred = auth.credentials.find((c) => c.user === p.username);
    if (!cred) return false;
    const ha1 = md5(`${cred.user}:${auth.realm}:${cred.password}`);
    const ha2 = md5(`${method}:${p.uri}`);
    const expected = p.qop ? md5(`${ha1}:${nonce}:${p.nc ?? ''}:${p.cnonce ?? ''}:${p.qop}:${ha2}`) : md5(`${ha1}:${nonce}:${ha2}`);
    return expected === p.response.toLowerCase();
  }
  return false;
}

/** Profile text uses "\n" for line ends; line protocols (telnet, FTP) want CR LF. */
export function crlf(s: string): string {
  return s.replace(/\r?\n/g, '\r\n');
}
