// Stage: web front-end. The HTTP application behind `iotscope serve`: accounts (setup link, login, sessions,
// CSRF, roles, bearer tokens), the JSON API under /api/ with CSV/JSON downloads, and the server-rendered pages.
// Everything it shows comes from the store through DashboardQueries; it writes only finding states and accounts.
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { getCookie, setCookie, deleteCookie } from 'hono/cookie';
import { secureHeaders } from 'hono/secure-headers';
import { bodyLimit } from 'hono/body-limit';
import { timingSafeEqual } from 'node:crypto';
import { FINDING_KINDS, SEVERITIES, findingKey, type FindingKind, type Severity } from '../core/finding.ts';
import { StoreError, type FindingFilter } from '../store/store.ts';
import { AccountError, type Accounts, LoginLimiter, type Role, type User, isRole, randomToken, roleAtLeast, MIN_PASSWORD } from './accounts.ts';
import { readAsset } from './assets.ts';
import { toCsv, toJsonRows, type Column } from './csv.ts';
import { DashboardQueries, DEVICE_SORTS, type DeviceQuery, type Scope } from './queries.ts';
import { ASN_COLUMNS, CVE_COLUMNS, DEVICE_COLUMNS, FINDING_COLUMNS, MODEL_COLUMNS, NETWORK_COLUMNS, RUN_COLUMNS, SERVICE_COLUMNS, VENDOR_COLUMNS } from './tables.ts';
import { Layout, type PageContext } from './views.tsx';
import * as pages from './pages.tsx';

export interface Auth {
  user: User;
  via: 'session' | 'token';
  csrf?: string;
  sessionId?: string;
}

type Env = { Variables: { auth: Auth | null } };
export type AppContext = Context<Env>;

export interface AppOptions {
  accounts: Accounts;
  queries: DashboardQueries;
  /** set the Secure flag on cookies (behind TLS) */
  secureCookies?: boolean;
  /** failed logins allowed per account and per client address in the window */
  loginLimits?: { perAccount: number; perAddress: number; windowMs: number };
  /** the client address of a request; default: the socket's remote address */
  clientAddress?: (c: AppContext) => string;
}

export const SESSION_COOKIE = 'iotscope_session';
const PRELOGIN_COOKIE = 'iotscope_login';
const MAX_DOWNLOAD_ROWS = 100_000;
const MAX_PAGE = 500;

function sameSecret(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Only local paths are followed after a form, never another site. */
function safeBack(v: unknown, fallback: string): string {
  return typeof v === 'string' && v.startsWith('/') && !v.startsWith('//') && !v.startsWith('/\\') ? v : fallback;
}

function socketAddress(c: AppContext): string {
  const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
  return incoming?.socket?.remoteAddress ?? 'unknown';
}

export class HttpError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 429,
    message: string,
  ) {
    super(message);
  }
}

function intParam(v: string | undefined, def: number, min: number, max: number): number {
  if (v === undefined || v === '') return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new HttpError(400, `bad number "${v.slice(0, 20)}"`);
  return Math.min(n, max);
}

function str(v: string | undefined, max = 200): string | undefined {
  const t = v?.trim();
  return t ? t.slice(0, max) : undefined;
}

export function scopeOf(c: AppContext): Scope {
  const s: Scope = {};
  const network = str(c.req.query('network'));
  if (network) s.network = network;
  const from = str(c.req.query('from'), 40);
  const to = str(c.req.query('to'), 40);
  if (from) s.from = from;
  if (to) s.to = to;
  return s;
}

/** ?v4=16&v6=32: the prefix lengths networks are grouped by (default /24 and /48). */
function prefixLengthsOf(c: AppContext): [number, number] {
  return [intParam(c.req.query('v4'), 24, 1, 128), intParam(c.req.query('v6'), 48, 1, 128)];
}

/** ?by=prefix (default) or ?by=asn: how the networks table groups addresses. */
function groupingOf(c: AppContext): 'prefix' | 'asn' {
  const by = c.req.query('by');
  if (by === undefined || by === '' || by === 'prefix') return 'prefix';
  if (by === 'asn') return 'asn';
  throw new StoreError('by: one of prefix, asn');
}

export function deviceQueryOf(c: AppContext, maxLimit: number): DeviceQuery {
  const q: DeviceQuery = { ...scopeOf(c) };
  for (const k of ['q', 'vendor', 'type', 'model', 'firmware'] as const) {
    const v = str(c.req.query(k));
    if (v) q[k] = v;
  }
  const sort = c.req.query('sort');
  if (sort && DEVICE_SORTS[sort]) q.sort = sort;
  if (c.req.query('dir') === 'desc') q.dir = 'desc';
  if (c.req.query('noise') === 'include') q.includeNoise = true;
  q.limit = intParam(c.req.query('limit'), 50, 1, maxLimit);
  q.offset = intParam(c.req.query('offset'), 0, 0, Number.MAX_SAFE_INTEGER);
  return q;
}

export function findingFilterOf(c: AppContext, maxLimit: number): FindingFilter & { limit: number; offset: number } {
  const f: FindingFilter & { limit: number; offset: number } = { limit: intParam(c.req.query('limit'), 50, 1, maxLimit), offset: intParam(c.req.query('offset'), 0, 0, Number.MAX_SAFE_INTEGER) };
  const kind = c.req.query('kind');
  if (kind) {
    if (!(FINDING_KINDS as readonly string[]).includes(kind)) throw new HttpError(400, `kind must be one of ${FINDING_KINDS.join(', ')}`);
    f.kind = kind as FindingKind;
  }
  const sev = c.req.query('severity');
  if (sev) {
    if (!(SEVERITIES as readonly string[]).includes(sev)) throw new HttpError(400, `severity must be one of ${SEVERITIES.join(', ')}`);
    f.minSeverity = sev as Severity;
  }
  const state = c.req.query('state') || 'open';
  if (!['open', 'fixed', 'accepted', 'any'].includes(state)) throw new HttpError(400, 'state must be open, fixed, accepted or any');
  f.state = state as FindingFilter['state'];
  const network = str(c.req.query('network'));
  if (network) f.network = network;
  const ip = str(c.req.query('ip'), 64);
  if (ip) f.ip = ip;
  const id = str(c.req.query('id'), 100);
  if (id) f.id = id;
  return f;
}

/** A table answer: JSON for the API, or a CSV/JSON file when ?format= asks for a download. */
export function tableResponse<T>(c: AppContext, name: string, columns: Column<T>[], rows: T[], extra: Record<string, unknown> = {}): Response {
  const format = c.req.query('format');
  if (format === 'csv') {
    return c.body(toCsv(columns, rows), 200, { 'Content-Type': 'text/csv; charset=utf-8', 'Content-Disposition': `attachment; filename="iotscope-${name}.csv"` });
  }
  if (format === 'json') {
    return c.body(JSON.stringify(toJsonRows(columns, rows), null, 1), 200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Disposition': `attachment; filename="iotscope-${name}.json"` });
  }
  return c.json({ ...extra, rows });
}

function downloading(c: AppContext): boolean {
  const f = c.req.query('format');
  return f === 'csv' || f === 'json';
}

export function createApp(opts: AppOptions): Hono<Env> {
  const { accounts, queries } = opts;
  const limits = opts.loginLimits ?? { perAccount: 5, perAddress: 30, windowMs: 15 * 60_000 };
  const perAccount = new LoginLimiter(limits.perAccount, limits.windowMs);
  const perAddress = new LoginLimiter(limits.perAddress, limits.windowMs);
  const clientAddress = opts.clientAddress ?? socketAddress;
  const cookieBase = { httpOnly: true, sameSite: 'Strict' as const, secure: !!opts.secureCookies, path: '/' };

  const app = new Hono<Env>();

  app.use(
    '*',
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        // ECharts and htmx set element styles; no script is allowed inline.
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
      referrerPolicy: 'no-referrer',
      xFrameOptions: 'DENY',
      strictTransportSecurity: opts.secureCookies ? 'max-age=31536000' : false,
    }),
  );
  app.use('*', bodyLimit({ maxSize: 64 * 1024, onError: (c) => c.json({ error: 'request body too large' }, 413) }));

  // Who is asking: a bearer token (API clients) or a session cookie (browser). A token that is present but wrong
  // is refused outright rather than treated as anonymous.
  app.use('*', async (c, next) => {
    c.set('auth', null);
    const header = c.req.header('authorization');
    if (header !== undefined) {
      const m = /^Bearer\s+([A-Za-z0-9_-]{10,200})$/.exec(header);
      const user = m ? accounts.tokenUser(m[1]!) : null;
      if (!user) return c.json({ error: 'invalid or expired API token' }, 401, { 'WWW-Authenticate': 'Bearer' });
      c.set('auth', { user, via: 'token' });
    } else {
      const sid = getCookie(c, SESSION_COOKIE);
      const s = sid ? accounts.session(sid) : null;
      if (s && sid) c.set('auth', { user: s.user, via: 'session', csrf: s.csrf, sessionId: sid });
    }
    await next();
    if (c.get('auth')) c.header('Cache-Control', 'no-store');
  });

  // CSRF: every state-changing request made with a session cookie carries the session's token, in the
  // X-CSRF-Token header (scripts) or the _csrf form field (pages). Token-authenticated calls carry no ambient
  // credential and need none. Login and setup check their own form secrets.
  app.use('*', async (c, next) => {
    const auth = c.get('auth');
    if (!['GET', 'HEAD', 'OPTIONS'].includes(c.req.method) && auth?.via === 'session' && !['/login', '/setup'].includes(c.req.path)) {
      let sent = c.req.header('x-csrf-token');
      if (!sent && /^(application\/x-www-form-urlencoded|multipart\/form-data)/.test(c.req.header('content-type') ?? '')) {
        const body = await c.req.parseBody();
        sent = typeof body._csrf === 'string' ? body._csrf : undefined;
      }
      if (!sameSecret(sent, auth.csrf)) return c.json({ error: 'CSRF token missing or wrong' }, 403);
    }
    await next();
  });

  app.onError((e, c) => {
    const accept = c.req.header('accept') ?? '';
    const api = c.req.path.startsWith('/api/') || !accept.includes('text/html');
    let status: 400 | 401 | 403 | 404 | 429 | 500 = 500;
    let message = 'internal error';
    if (e instanceof HttpError) (status = e.status), (message = e.message);
    else if (e instanceof StoreError || e instanceof AccountError) (status = 400), (message = e.message);
    else console.error(e);
    if (api) return c.json({ error: message }, status);
    return c.html(<Layout title="Error">{<p class="error">{message}</p>}</Layout>, status);
  });

  // Role guards: the API answers 401/403 as JSON; pages send an anonymous visitor to the login form.
  const api = (role: Role): MiddlewareHandler<Env> => async (c, next) => {
    const auth = c.get('auth');
    if (!auth) return c.json({ error: 'authentication required' }, 401, { 'WWW-Authenticate': 'Bearer' });
    if (!roleAtLeast(auth.user.role, role)) return c.json({ error: `needs the ${role} role` }, 403);
    await next();
  };
  const page = (role: Role): MiddlewareHandler<Env> => async (c, next) => {
    const auth = c.get('auth');
    if (!auth) {
      if (c.req.method !== 'GET') return c.json({ error: 'authentication required' }, 401);
      const here = c.req.url.slice(new URL(c.req.url).origin.length);
      return c.redirect(`/login?next=${encodeURIComponent(here)}`, 302);
    }
    if (!roleAtLeast(auth.user.role, role)) return c.html(<Layout title="Not allowed">{<p class="error">This page needs the {role} role.</p>}</Layout>, 403);
    await next();
  };

  // Static assets: htmx and ECharts from node_modules, served by this server so the dashboard works offline.
  app.get('/assets/:name', (c) => {
    const a = readAsset(c.req.param('name'));
    if (!a) return c.notFound();
    return c.body(a.body, 200, { 'Content-Type': a.type, 'Cache-Control': 'public, max-age=3600' });
  });

  // ---- first start: the one-time setup link creates the administrator
  app.get('/setup', (c) => {
    const token = c.req.query('token') ?? '';
    if (!accounts.setupLinkValid(token)) return c.html(<Layout title="Setup link not valid">{<p class="error">This setup link is invalid, used or expired. Restart `iotscope serve` on an empty account table for a new one.</p>}</Layout>, 403);
    return c.html(pages.SetupPage({ token, minPassword: MIN_PASSWORD }));
  });
  app.post('/setup', async (c) => {
    const body = await c.req.parseBody();
    const token = String(body.token ?? '');
    if (!accounts.setupLinkValid(token)) return c.html(<Layout title="Setup link not valid">{<p class="error">This setup link is invalid, used or expired.</p>}</Layout>, 403);
    if (body.password !== body.password2) return c.html(pages.SetupPage({ token, minPassword: MIN_PASSWORD, error: 'The two passwords differ.' }), 400);
    try {
      await accounts.completeSetup(token, String(body.name ?? ''), String(body.password ?? ''));
    } catch (e) {
      if (e instanceof AccountError) return c.html(pages.SetupPage({ token, minPassword: MIN_PASSWORD, error: e.message }), 400);
      throw e;
    }
    return c.redirect('/login?setup=done', 303);
  });

  // ---- login and logout
  app.get('/login', (c) => {
    const pre = randomToken(16);
    setCookie(c, PRELOGIN_COOKIE, pre, { ...cookieBase, maxAge: 3600 });
    return c.html(pages.LoginPage({ pre, next: safeBack(c.req.query('next'), '/'), notice: c.req.query('setup') === 'done' ? 'Administrator created. Log in.' : undefined }));
  });
  app.post('/login', async (c) => {
    const body = await c.req.parseBody();
    const pre = getCookie(c, PRELOGIN_COOKIE);
    const next = safeBack(body.next, '/');
    const again = (status: 400 | 401 | 403 | 429, error: string) => {
      const fresh = randomToken(16);
      setCookie(c, PRELOGIN_COOKIE, fresh, { ...cookieBase, maxAge: 3600 });
      return c.html(pages.LoginPage({ pre: fresh, next, error }), status);
    };
    if (!sameSecret(typeof body._login === 'string' ? body._login : undefined, pre)) return again(403, 'The login form expired. Try again.');
    const name = String(body.name ?? '').slice(0, 64).toLowerCase();
    const password = String(body.password ?? '').slice(0, 1024);
    const addr = clientAddress(c);
    if (perAccount.blocked(`u:${name}`) || perAddress.blocked(`a:${addr}`)) {
      c.header('Retry-After', String(Math.ceil(limits.windowMs / 1000)));
      return again(429, 'Too many failed logins. Wait and try again.');
    }
    const user = await accounts.authenticate(name, password);
    if (!user) {
      perAccount.fail(`u:${name}`);
      perAddress.fail(`a:${addr}`);
      return again(401, 'Wrong name or password.');
    }
    perAccount.reset(`u:${name}`);
    // A new session id on every login: a cookie planted before login is never promoted (session fixation).
    const old = getCookie(c, SESSION_COOKIE);
    if (old) accounts.endSession(old);
    const s = accounts.createSession(user.id);
    setCookie(c, SESSION_COOKIE, s.id, { ...cookieBase, expires: new Date(s.expiresAt) });
    deleteCookie(c, PRELOGIN_COOKIE, { path: '/' });
    return c.redirect(next, 303);
  });
  app.post('/logout', (c) => {
    const auth = c.get('auth');
    if (auth?.sessionId) accounts.endSession(auth.sessionId);
    deleteCookie(c, SESSION_COOKIE, { path: '/', secure: !!opts.secureCookies });
    return c.redirect('/login', 303);
  });

  // ---- JSON API (and the downloads of every table)
  app.get('/api/me', api('viewer'), (c) => {
    const a = c.get('auth')!;
    return c.json({ name: a.user.name, role: a.user.role, via: a.via, ...(a.via === 'session' ? { csrf: a.csrf } : {}) });
  });
  app.get('/api/overview', api('viewer'), async (c) => c.json(await queries.overview(scopeOf(c))));
  app.get('/api/devices', api('viewer'), async (c) => {
    const q = deviceQueryOf(c, downloading(c) ? MAX_DOWNLOAD_ROWS : MAX_PAGE);
    if (downloading(c) && c.req.query('limit') === undefined) q.limit = MAX_DOWNLOAD_ROWS;
    const r = await queries.devices(q);
    return tableResponse(c, 'devices', DEVICE_COLUMNS, r.rows, { total: r.total, limit: q.limit, offset: q.offset });
  });
  app.get('/api/devices/:ip', api('viewer'), async (c) => {
    const ip = c.req.param('ip');
    let d;
    try {
      d = await queries.device(ip);
    } catch (e) {
      if (e instanceof RangeError) throw new HttpError(400, 'not an IP address');
      throw e;
    }
    if (!d) return c.json({ error: 'no such device' }, 404);
    const table = c.req.query('table');
    if (table === 'services') return tableResponse(c, `services-${ip}`, SERVICE_COLUMNS, d.services);
    if (table === 'findings') return tableResponse(c, `findings-${ip}`, FINDING_COLUMNS, d.findings);
    return c.json({ ...d, cves: d.findings.filter((f) => f.kind === 'vulnerability') });
  });
  app.get('/api/vulnerabilities', api('viewer'), async (c) => {
    const by = c.req.query('by') ?? 'cve';
    const scope = { ...scopeOf(c), kevOnly: c.req.query('kev') === '1' || c.req.query('kev') === 'true' };
    if (by === 'cve') return tableResponse(c, 'vulnerabilities-by-cve', CVE_COLUMNS, await queries.vulnerabilitiesByCve(scope), { by });
    if (by === 'vendor') return tableResponse(c, 'vulnerabilities-by-vendor', VENDOR_COLUMNS, await queries.vulnerabilitiesByVendor(scope), { by });
    if (by === 'model') return tableResponse(c, 'vulnerabilities-by-model', MODEL_COLUMNS, await queries.vulnerabilitiesByVendor({ ...scope, byModel: true }), { by });
    throw new HttpError(400, 'by must be cve, vendor or model');
  });
  app.get('/api/findings', api('viewer'), async (c) => {
    const f = findingFilterOf(c, downloading(c) ? MAX_DOWNLOAD_ROWS : MAX_PAGE);
    if (downloading(c) && c.req.query('limit') === undefined) f.limit = MAX_DOWNLOAD_ROWS;
    const r = await queries.findings(f);
    return tableResponse(c, 'findings', FINDING_COLUMNS, r.rows.map((x) => ({ ...x, key: findingKey(x) })), { hasNext: r.hasNext, limit: f.limit, offset: f.offset });
  });
  app.get('/api/networks', api('viewer'), async (c) =>
    groupingOf(c) === 'asn'
      ? tableResponse(c, 'networks-asn', ASN_COLUMNS, await queries.networksByAsn(scopeOf(c)))
      : tableResponse(c, 'networks', NETWORK_COLUMNS, await queries.networks(scopeOf(c), ...prefixLengthsOf(c))),
  );
  app.get('/api/runs', api('viewer'), async (c) => tableResponse(c, 'runs', RUN_COLUMNS, await queries.runs(scopeOf(c))));

  const setState = async (key: unknown, state: unknown) => {
    if (typeof key !== 'string' || !key || key.length > 1000) throw new HttpError(400, 'key is required');
    if (state !== 'open' && state !== 'accepted') throw new HttpError(400, 'state must be open or accepted');
    await queries.store.setFindingState(key, state);
  };
  app.post('/api/findings/state', api('analyst'), async (c) => {
    const body = (await c.req.json().catch(() => null)) as { key?: unknown; state?: unknown } | null;
    if (!body) throw new HttpError(400, 'a JSON body {key, state} is required');
    await setState(body.key, body.state);
    return c.json({ ok: true, key: body.key, state: body.state });
  });

  app.get('/api/users', api('admin'), (c) => c.json({ rows: accounts.users() }));
  app.post('/api/users', api('admin'), async (c) => {
    const b = (await c.req.json().catch(() => null)) as { name?: unknown; role?: unknown; password?: unknown } | null;
    if (!b || !isRole(b.role)) throw new HttpError(400, 'a JSON body {name, role, password} is required');
    return c.json(await accounts.createUser(String(b.name ?? ''), b.role, String(b.password ?? '')), 201);
  });
  app.put('/api/users/:id', api('admin'), async (c) => {
    const id = intParam(c.req.param('id'), 0, 1, Number.MAX_SAFE_INTEGER);
    const b = ((await c.req.json().catch(() => null)) ?? {}) as { role?: unknown; disabled?: unknown; password?: unknown };
    if (b.role !== undefined) {
      if (!isRole(b.role)) throw new HttpError(400, 'bad role');
      accounts.setRole(id, b.role);
    }
    if (typeof b.disabled === 'boolean') accounts.setDisabled(id, b.disabled);
    if (typeof b.password === 'string') await accounts.setPassword(id, b.password);
    return c.json(accounts.user(id));
  });
  app.get('/api/tokens', api('admin'), (c) => c.json({ rows: accounts.tokens() }));
  app.post('/api/tokens', api('admin'), async (c) => {
    const b = ((await c.req.json().catch(() => null)) ?? {}) as { userId?: unknown; label?: unknown; days?: unknown };
    const userId = Number(b.userId ?? c.get('auth')!.user.id);
    const days = b.days === undefined ? undefined : Number(b.days);
    if (!Number.isInteger(userId) || (days !== undefined && (!Number.isInteger(days) || days < 1))) throw new HttpError(400, 'userId and days are whole numbers');
    const t = accounts.createToken(userId, String(b.label ?? 'api'), days);
    return c.json({ token: t.token, ...t.info, notice: 'the token is shown once; store it now' }, 201);
  });
  app.delete('/api/tokens/:id', api('admin'), (c) => {
    accounts.revokeToken(intParam(c.req.param('id'), 0, 1, Number.MAX_SAFE_INTEGER));
    return c.json({ ok: true });
  });
  app.all('/api/*', (c) => c.json({ error: 'no such endpoint' }, 404));

  // ---- pages
  const ctxOf = (c: AppContext): PageContext => {
    const a = c.get('auth')!;
    const u = new URL(c.req.url);
    return { user: a.user, csrf: a.csrf ?? '', here: u.pathname + u.search };
  };
  app.get('/', page('viewer'), async (c) => c.html(pages.OverviewPage({ ctx: ctxOf(c), scope: scopeOf(c), overview: await queries.overview(scopeOf(c)) })));
  app.get('/devices', page('viewer'), async (c) => {
    const q = deviceQueryOf(c, MAX_PAGE);
    const stats = await queries.overview({});
    return c.html(pages.DevicesPage({ ctx: ctxOf(c), q, result: await queries.devices(q), query: new URL(c.req.url).searchParams, stats: stats.stats }));
  });
  app.get('/devices/:ip', page('viewer'), async (c) => {
    let d;
    try {
      d = await queries.device(c.req.param('ip'));
    } catch (e) {
      if (e instanceof RangeError) throw new HttpError(400, 'not an IP address');
      throw e;
    }
    if (!d) throw new HttpError(404, 'no such device');
    return c.html(pages.DevicePage({ ctx: ctxOf(c), ...d }));
  });
  app.get('/vulnerabilities', page('viewer'), async (c) => {
    const by = c.req.query('by') ?? 'cve';
    const scope = { ...scopeOf(c), kevOnly: c.req.query('kev') === '1' };
    const query = new URL(c.req.url).searchParams;
    if (by === 'vendor' || by === 'model') return c.html(pages.VulnerabilitiesPage({ ctx: ctxOf(c), by, query, vendorRows: await queries.vulnerabilitiesByVendor({ ...scope, byModel: by === 'model' }) }));
    if (by !== 'cve') throw new HttpError(400, 'by must be cve, vendor or model');
    return c.html(pages.VulnerabilitiesPage({ ctx: ctxOf(c), by, query, cveRows: await queries.vulnerabilitiesByCve(scope) }));
  });
  app.get('/findings', page('viewer'), async (c) => {
    const f = findingFilterOf(c, MAX_PAGE);
    return c.html(pages.FindingsPage({ ctx: ctxOf(c), filter: f, result: await queries.findings(f), query: new URL(c.req.url).searchParams }));
  });
  app.post('/findings/state', page('analyst'), async (c) => {
    const body = await c.req.parseBody();
    await setState(body.key, body.state);
    return c.redirect(safeBack(body.back, '/findings'), 303);
  });
  app.get('/networks', page('viewer'), async (c) => {
    const query = new URL(c.req.url).searchParams;
    if (groupingOf(c) === 'asn') return c.html(pages.AsnNetworksPage({ ctx: ctxOf(c), rows: await queries.networksByAsn(scopeOf(c)), query }));
    return c.html(pages.NetworksPage({ ctx: ctxOf(c), rows: await queries.networks(scopeOf(c), ...prefixLengthsOf(c)), query }));
  });
  app.get('/runs', page('viewer'), async (c) => c.html(pages.RunsPage({ ctx: ctxOf(c), rows: await queries.runs(scopeOf(c)), query: new URL(c.req.url).searchParams })));

  app.get('/admin', page('admin'), (c) => c.html(pages.AdminPage({ ctx: ctxOf(c), users: accounts.users(), tokens: accounts.tokens() })));
  app.post('/admin/users', page('admin'), async (c) => {
    const b = await c.req.parseBody();
    const role = String(b.role ?? '');
    try {
      if (!isRole(role)) throw new AccountError('pick a role');
      await accounts.createUser(String(b.name ?? ''), role, String(b.password ?? ''));
    } catch (e) {
      if (e instanceof AccountError) return c.html(pages.AdminPage({ ctx: ctxOf(c), users: accounts.users(), tokens: accounts.tokens(), error: e.message }), 400);
      throw e;
    }
    return c.redirect('/admin', 303);
  });
  app.post('/admin/users/:id', page('admin'), async (c) => {
    const b = await c.req.parseBody();
    const id = intParam(c.req.param('id'), 0, 1, Number.MAX_SAFE_INTEGER);
    try {
      if (typeof b.role === 'string' && b.role) {
        if (!isRole(b.role)) throw new AccountError('bad role');
        accounts.setRole(id, b.role);
      }
      if (b.disabled === '1' || b.disabled === '0') accounts.setDisabled(id, b.disabled === '1');
      if (typeof b.password === 'string' && b.password) await accounts.setPassword(id, b.password);
    } catch (e) {
      if (e instanceof AccountError) return c.html(pages.AdminPage({ ctx: ctxOf(c), users: accounts.users(), tokens: accounts.tokens(), error: e.message }), 400);
      throw e;
    }
    return c.redirect('/admin', 303);
  });
  app.post('/admin/tokens', page('admin'), async (c) => {
    const b = await c.req.parseBody();
    const days = b.days ? Number(b.days) : undefined;
    if (days !== undefined && (!Number.isInteger(days) || days < 1)) throw new HttpError(400, 'days is a whole number ≥ 1');
    const t = accounts.createToken(Number(b.userId), String(b.label ?? 'api'), days);
    return c.html(pages.AdminPage({ ctx: ctxOf(c), users: accounts.users(), tokens: accounts.tokens(), newToken: t.token }), 201);
  });
  app.post('/admin/tokens/:id/revoke', page('admin'), (c) => {
    accounts.revokeToken(intParam(c.req.param('id'), 0, 1, Number.MAX_SAFE_INTEGER));
    return c.redirect('/admin', 303);
  });

  return app;
}
