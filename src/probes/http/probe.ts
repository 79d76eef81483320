// Stage: probes (http, https). GET / over the connection the engine hands out, follow Location redirects only to
// IP literals the scope allows (at most 3 hops), fetch the favicon, and record HttpData; https also records the TLS
// handshake facts. Everything else — scope, dialing, byte caps — is the context's job.
import type { HttpData } from '../../core/fields.ts';
import type { Conn, TlsInfo } from '../../scan/conn.ts';
import { type Probe, type ProbeContext, ProbeError, type ProbeResult, type ProbeTarget } from '../../scan/probe.ts';
import {
  type HttpOrigin,
  type HttpResponse,
  HttpParseError,
  HTTP_LIMITS,
  ResponseCompletion,
  buildGetRequest,
  faviconHashes,
  httpPrefixState,
  parseResponse,
  resolveLocation,
  responseFacts,
} from './codec.ts';

/** Evidence kept with the observation: the first bytes of the first response. */
const RAW_CAP = 2048;
const MAX_REDIRECTS = 3;

interface Exchange {
  bytes: Buffer;
  response: HttpResponse;
}

/** Send one GET on an open connection and read the response until it is complete, the peer closes, or time runs out. */
async function exchange(conn: Conn, origin: HttpOrigin, path: string, ctx: ProbeContext, timeoutMs: number): Promise<Exchange> {
  try {
    await conn.write(buildGetRequest(origin, path, ctx.userAgent));
  } catch (e) {
    // A server that answered early and closed (an error page before the request) still gave us its response.
    if (!conn.buffered.length) throw e;
  }
  const completion = new ResponseCompletion();
  const bytes = Buffer.from(await conn.readUntil((b) => completion.check(b) !== 'incomplete', timeoutMs));
  conn.close();
  const response = parseResponse(bytes, { connectionClosed: conn.ended && !conn.truncated, endOfInput: true });
  return { bytes, response };
}

/** Race an extra step against what is left of the budget; the step's connection is closed by the engine later. */
function withinBudget<T>(step: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const out = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ProbeError('io-timeout', `out of time (${Math.max(0, Math.round(ms))} ms left)`)), Math.max(0, ms));
  });
  return Promise.race([step, out]).finally(() => clearTimeout(timer));
}

function notHttp(bytes: Uint8Array, why: string): ProbeResult {
  return { status: 'protocol-error', data: {}, raw: Buffer.from(bytes.subarray(0, RAW_CAP)), error: why };
}

function describe(e: unknown): string {
  if (e instanceof ProbeError) return `${e.status}: ${e.message}`;
  return e instanceof Error ? e.message : String(e);
}

async function scanHttp(ctx: ProbeContext, target: ProbeTarget, tls: boolean): Promise<ProbeResult> {
  const started = Date.now();
  // Redirects and the favicon are extras: they share a budget so the main answer always lands before the deadline.
  const budgetLeft = () => started + 2 * ctx.timeoutMs - Date.now();
  const origin: HttpOrigin = { ip: target.ip, port: target.port, tls };

  let conn: Conn;
  try {
    conn = await ctx.connect(tls ? { tls: true } : {});
  } catch (e) {
    // A plain-HTTP server that waits for a request line never answers a ClientHello: that is a failed handshake.
    if (tls && e instanceof ProbeError && e.status === 'io-timeout' && !ctx.signal.aborted)
      throw new ProbeError('handshake-error', `no TLS handshake: ${e.message}`);
    throw e;
  }
  // A handed-over connection the service already closed in silence (an idle timeout) gets one fresh dial.
  if (conn.ended && !conn.buffered.length) {
    conn.close();
    conn = await ctx.connect(tls ? { tls: true } : {});
  }
  // The engine may hand over a connection on which the service already spoke (SSH, telnet, FTP): not ours.
  const early = conn.buffered;
  if (early.length && httpPrefixState(early) === 'no') {
    conn.close();
    return notHttp(early, 'the service spoke first and it is not HTTP');
  }
  const tlsInfo: TlsInfo | null = conn.tlsInfo;

  let first: Exchange;
  try {
    first = await exchange(conn, origin, '/', ctx, ctx.timeoutMs);
  } catch (e) {
    if (e instanceof HttpParseError) return notHttp(conn.buffered, e.message);
    throw e;
  }
  const raw = Buffer.from(first.bytes.subarray(0, RAW_CAP));

  const redirects: string[] = [];
  let notFollowed: { location: string; reason: string } | undefined;
  let current = { origin, path: '/', response: first.response };
  const seen = new Set([`${tls}|${target.ip}|${target.port}|/`]);
  for (;;) {
    const { response } = current;
    const location = response.head.headers.location;
    const code = response.head.statusCode;
    if (code < 300 || code > 399 || location === undefined) break;
    const shown = location.slice(0, HTTP_LIMITS.redirectChars);
    if (redirects.length >= MAX_REDIRECTS) {
      notFollowed = { location: shown, reason: `more than ${MAX_REDIRECTS} redirects` };
      break;
    }
    const next = resolveLocation(location, { ...current.origin, path: current.path });
    if ('error' in next) {
      notFollowed = { location: shown, reason: next.error };
      break;
    }
    const key = `${next.tls}|${next.ip}|${next.port}|${next.path}`;
    if (seen.has(key)) {
      notFollowed = { location: shown, reason: 'redirect loop' };
      break;
    }
    seen.add(key);
    if (budgetLeft() < 200 || ctx.signal.aborted) {
      notFollowed = { location: shown, reason: 'out of time' };
      break;
    }
    try {
      // ctx.connect scope-checks the address before any packet is sent; a refusal ends the chain here.
      const left = budgetLeft();
      const ex = await withinBudget(
        ctx.connect({ ip: next.ip, port: next.port, tls: next.tls }).then((c) => exchange(c, next, next.path, ctx, Math.min(ctx.timeoutMs, left))),
        left,
      );
      redirects.push(next.url);
      current = { origin: { ip: next.ip, port: next.port, tls: next.tls }, path: next.path, response: ex.response };
    } catch (e) {
      notFollowed = { location: shown, reason: e instanceof HttpParseError ? `not HTTP: ${e.message}` : describe(e) };
      break;
    }
  }

  const facts = responseFacts(current.response, current.path);
  const data: HttpData = {
    statusCode: facts.statusCode,
    statusLine: facts.statusLine,
    headers: facts.headers,
    bodyLength: facts.bodyLength,
    bodySha256: facts.bodySha256,
    body: facts.body,
    loginForm: facts.loginForm,
    path: current.path,
  };
  if (facts.server !== undefined) data.server = facts.server;
  if (facts.title !== undefined) data.title = facts.title;
  if (facts.authScheme !== undefined) data.authScheme = facts.authScheme;
  if (facts.realm !== undefined) data.realm = facts.realm;
  if (redirects.length) data.redirects = redirects;
  if (notFollowed) data.redirectNotFollowed = notFollowed;
  if (!tls && facts.tlsRequired) data.tlsRequired = true;
  if (tlsInfo) data.tls = tlsInfo;

  if (budgetLeft() >= 200 && !ctx.signal.aborted) {
    const left = budgetLeft();
    const icon = await withinBudget(fetchFavicon(ctx, current.origin, facts.faviconPath ?? '/favicon.ico', Math.min(ctx.timeoutMs, left)), left).catch(() => null);
    if (icon) {
      data.faviconMmh3 = icon.mmh3;
      data.faviconSha256 = icon.sha256;
      data.faviconMd5 = icon.md5;
    }
  }
  return { status: 'success', data: data as Record<string, unknown>, raw };
}

/** The favicon's hashes, or null when there is none (not 200, empty, cut off) or fetching it failed: never fatal. */
async function fetchFavicon(ctx: ProbeContext, origin: HttpOrigin, path: string, timeoutMs: number): Promise<ReturnType<typeof faviconHashes> | null> {
  try {
    const c = await ctx.connect({ ip: origin.ip, port: origin.port, tls: origin.tls });
    const { response } = await exchange(c, origin, path, ctx, timeoutMs);
    if (response.head.statusCode !== 200 || !response.bodyComplete || !response.body.length) return null;
    return faviconHashes(response.body);
  } catch {
    return null;
  }
}

const HTTP_PORTS = [80, 81, 8000, 8008, 8080, 8081, 8088, 8888, 5000, 7547, 49152, 8200];
const HTTPS_PORTS = [443, 8443, 4433, 7443, 9443];

export const httpProbe: Probe = {
  name: 'http',
  transport: 'tcp',
  defaultPorts: HTTP_PORTS,
  scan: (ctx, target) => scanHttp(ctx, target, false),
};

export const httpsProbe: Probe = {
  name: 'https',
  transport: 'tcp',
  defaultPorts: HTTPS_PORTS,
  tls: true,
  scan: (ctx, target) => scanHttp(ctx, target, true),
};
