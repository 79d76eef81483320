// Tests of the dashboard application in process: the one-time setup link, login and its rate limit, sessions and
// their expiry, CSRF, the role × credential authorisation matrix of the API, downloads, escaping of hostile text,
// and that the numbers the API gives agree with what was written to the store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SqliteStore } from '../store/sqlite/store.ts';
import { Accounts, LoginLimiter, sha256 } from './accounts.ts';
import { createApp, SESSION_COOKIE } from './app.tsx';
import { DashboardQueries } from './queries.ts';
import { HOSTILE, seedStore, type SeedFacts } from './testing.ts';
import { csvCell, toCsv } from './csv.ts';

const PASSWORD = 'correct horse battery';

interface World {
  store: SqliteStore;
  accounts: Accounts;
  app: ReturnType<typeof createApp>;
  clock: { now: number };
  facts: SeedFacts;
}

async function world(limits = { perAccount: 5, perAddress: 30, windowMs: 60_000 }): Promise<World> {
  const store = SqliteStore.open(':memory:');
  const facts = await seedStore(store);
  const clock = { now: Date.parse('2026-11-20T12:00:00Z') };
  const accounts = new Accounts(store.handle, { now: () => new Date(clock.now) });
  const app = createApp({ accounts, queries: new DashboardQueries(store, store.handle), loginLimits: limits });
  return { store, accounts, app, clock, facts };
}

function cookieValue(r: Response, name: string): string | undefined {
  for (const c of r.headers.getSetCookie()) {
    const m = new RegExp(`^${name}=([^;]*)`).exec(c);
    if (m) return m[1];
  }
  return undefined;
}

async function postLogin(app: World['app'], name: string, password: string): Promise<Response> {
  const form = await app.request('/login');
  const pre = cookieValue(form, 'iotscope_login')!;
  const hidden = /name="_login" value="([^"]+)"/.exec(await form.text())![1];
  assert.equal(hidden, pre);
  return app.request('/login', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `iotscope_login=${pre}` },
    body: new URLSearchParams({ _login: pre, name, password, next: '/' }).toString(),
  });
}

async function session(app: World['app'], name: string, password = PASSWORD): Promise<{ cookie: string; csrf: string }> {
  const r = await postLogin(app, name, password);
  assert.equal(r.status, 303, `login of ${name}`);
  const sid = cookieValue(r, SESSION_COOKIE)!;
  const cookie = `${SESSION_COOKIE}=${sid}`;
  const me = (await (await app.request('/api/me', { headers: { cookie } })).json()) as { csrf: string; role: string };
  return { cookie, csrf: me.csrf };
}

async function usersWithRoles(w: World) {
  const link = w.accounts.createSetupLink();
  const admin = await w.accounts.completeSetup(link, 'admin', PASSWORD);
  const analyst = await w.accounts.createUser('ana', 'analyst', PASSWORD);
  const viewer = await w.accounts.createUser('vic', 'viewer', PASSWORD);
  return {
    admin,
    analyst,
    viewer,
    tokens: { admin: w.accounts.createToken(admin.id, 'a').token, analyst: w.accounts.createToken(analyst.id, 'b').token, viewer: w.accounts.createToken(viewer.id, 'c').token },
  };
}

test('the setup link creates the administrator once, and only while it is fresh', async () => {
  const w = await world();
  assert.equal((await w.app.request('/api/overview')).status, 401, 'no account, no access');
  const token = w.accounts.createSetupLink();
  assert.equal((await w.app.request('/setup?token=wrong')).status, 403);
  assert.equal((await w.app.request(`/setup?token=${token}`)).status, 200);
  const form = (extra: Record<string, string> = {}) => ({
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token, name: 'root', password: PASSWORD, password2: PASSWORD, ...extra }).toString(),
  });
  const short = await w.app.request('/setup', form({ password: 'short', password2: 'short' }));
  assert.equal(short.status, 400, 'a short password is refused and the link stays usable');
  const ok = await w.app.request('/setup', form());
  assert.equal(ok.status, 303);
  assert.equal(w.accounts.users()[0]!.role, 'admin');
  const again = await w.app.request('/setup', form({ name: 'second' }));
  assert.equal(again.status, 403, 'the link works once');
  assert.equal(w.accounts.users().length, 1);
  assert.throws(() => w.accounts.createSetupLink(), /exists already/);
  // A link not used in time expires.
  const w2 = await world();
  const late = w2.accounts.createSetupLink();
  w2.clock.now += 61 * 60_000;
  assert.equal((await w2.app.request(`/setup?token=${late}`)).status, 403);
  // The stored link and password are hashes, not the secrets.
  const stored = w.store.handle.prepare('SELECT token_hash FROM web_setup_links').all() as { token_hash: string }[];
  assert.deepEqual(stored.map((r) => r.token_hash), [sha256(token)]);
  const pw = (w.store.handle.prepare('SELECT password_hash FROM web_users').get() as { password_hash: string }).password_hash;
  assert.match(pw, /^scrypt\$/);
  assert.ok(!pw.includes(PASSWORD));
});

test('authorisation matrix: each role, no credential, a bad token, a revoked token, an expired session', async () => {
  const w = await world();
  const u = await usersWithRoles(w);
  const sessions = { admin: await session(w.app, 'admin'), analyst: await session(w.app, 'ana'), viewer: await session(w.app, 'vic') };
  const key = '10.0.0.2|23|tcp|exposure|telnet-exposed';

  type Who = 'none' | 'bad-token' | 'viewer' | 'analyst' | 'admin' | 'viewer-session' | 'analyst-session' | 'admin-session';
  const headersOf = (who: Who): Record<string, string> => {
    if (who === 'none') return {};
    if (who === 'bad-token') return { authorization: 'Bearer iots_this-is-not-a-real-token-at-all' };
    if (who.endsWith('-session')) {
      const s = sessions[who.replace('-session', '') as 'admin'];
      return { cookie: s.cookie, 'x-csrf-token': s.csrf };
    }
    return { authorization: `Bearer ${u.tokens[who as 'admin']}` };
  };
  const read = ['/api/overview', '/api/devices', '/api/devices/10.0.0.1', '/api/vulnerabilities?by=cve', '/api/vulnerabilities?by=vendor', '/api/vulnerabilities?by=model', '/api/findings', '/api/networks', '/api/runs'];
  const expect: Record<Who, { read: number; state: number; admin: number }> = {
    none: { read: 401, state: 401, admin: 401 },
    'bad-token': { read: 401, state: 401, admin: 401 },
    viewer: { read: 200, state: 403, admin: 403 },
    analyst: { read: 200, state: 200, admin: 403 },
    admin: { read: 200, state: 200, admin: 200 },
    'viewer-session': { read: 200, state: 403, admin: 403 },
    'analyst-session': { read: 200, state: 200, admin: 403 },
    'admin-session': { read: 200, state: 200, admin: 200 },
  };
  for (const [who, want] of Object.entries(expect) as [Who, (typeof expect)[Who]][]) {
    const h = headersOf(who);
    for (const path of read) assert.equal((await w.app.request(path, { headers: h })).status, want.read, `${who} GET ${path}`);
    const st = await w.app.request('/api/findings/state', { method: 'POST', headers: { ...h, 'content-type': 'application/json' }, body: JSON.stringify({ key, state: 'accepted' }) });
    assert.equal(st.status, want.state, `${who} POST /api/findings/state`);
    if (st.status === 200) await w.store.setFindingState(key, 'open');
    assert.equal((await w.app.request('/api/users', { headers: h })).status, want.admin, `${who} GET /api/users`);
    const tok = await w.app.request('/api/tokens', { method: 'POST', headers: { ...h, 'content-type': 'application/json' }, body: JSON.stringify({ label: 'x' }) });
    assert.equal(tok.status, want.admin === 200 ? 201 : want.admin, `${who} POST /api/tokens`);
  }
  // The analyst's accept really changes the finding.
  await w.app.request('/api/findings/state', { method: 'POST', headers: { ...headersOf('analyst'), 'content-type': 'application/json' }, body: JSON.stringify({ key, state: 'accepted' }) });
  assert.equal((await w.store.findings({ ip: '10.0.0.2', state: 'accepted' })).length, 1);

  // Pages: anonymous → login form; a viewer may not open the admin page.
  const anon = await w.app.request('/devices');
  assert.equal(anon.status, 302);
  assert.match(anon.headers.get('location') ?? '', /^\/login\?next=%2Fdevices/);
  assert.equal((await w.app.request('/admin', { headers: { cookie: sessions.viewer.cookie } })).status, 403);
  assert.equal((await w.app.request('/admin', { headers: { cookie: sessions.admin.cookie } })).status, 200);

  // Tokens are stored hashed; a revoked or expired token stops working.
  const rows = w.store.handle.prepare('SELECT token_hash FROM web_tokens').all() as { token_hash: string }[];
  assert.ok(rows.every((r) => /^[0-9a-f]{64}$/.test(r.token_hash)));
  assert.ok(!rows.some((r) => r.token_hash === u.tokens.viewer));
  const viewerTokenId = w.accounts.tokens().find((t) => t.userName === 'vic')!.id;
  const del = await w.app.request(`/api/tokens/${viewerTokenId}`, { method: 'DELETE', headers: headersOf('admin') });
  assert.equal(del.status, 200);
  assert.equal((await w.app.request('/api/overview', { headers: headersOf('viewer') })).status, 401);
  const shortLived = w.accounts.createToken(u.viewer.id, 'day', 1).token;
  assert.equal((await w.app.request('/api/overview', { headers: { authorization: `Bearer ${shortLived}` } })).status, 200);

  // Sessions expire (12 h), and so does the one-day token after two days.
  w.clock.now += 13 * 3600_000;
  assert.equal((await w.app.request('/api/overview', { headers: { cookie: sessions.viewer.cookie } })).status, 401, 'expired session');
  w.clock.now += 2 * 86400_000;
  assert.equal((await w.app.request('/api/overview', { headers: { authorization: `Bearer ${shortLived}` } })).status, 401, 'expired token');

  // A disabled account loses access at once.
  const fresh = await session(w.app, 'ana');
  w.accounts.setDisabled(u.analyst.id, true);
  assert.equal((await w.app.request('/api/overview', { headers: { cookie: fresh.cookie } })).status, 401);
  assert.equal((await w.app.request('/api/overview', { headers: headersOf('analyst') })).status, 401);
});

test('CSRF: a session request that changes state needs the session token, in the header or the form', async () => {
  const w = await world();
  await usersWithRoles(w);
  const s = await session(w.app, 'ana');
  const other = await session(w.app, 'admin');
  const key = '10.0.0.2|23|tcp|exposure|telnet-exposed';
  const json = (headers: Record<string, string>) => w.app.request('/api/findings/state', { method: 'POST', headers: { cookie: s.cookie, 'content-type': 'application/json', ...headers }, body: JSON.stringify({ key, state: 'accepted' }) });
  assert.equal((await json({})).status, 403, 'missing');
  assert.equal((await json({ 'x-csrf-token': 'wrong' })).status, 403, 'wrong');
  assert.equal((await json({ 'x-csrf-token': other.csrf })).status, 403, "another session's token");
  assert.equal((await w.store.findings({ ip: '10.0.0.2', state: 'accepted' })).length, 0, 'nothing changed');
  assert.equal((await json({ 'x-csrf-token': s.csrf })).status, 200);

  const form = (csrf: string | null) =>
    w.app.request('/findings/state', {
      method: 'POST',
      headers: { cookie: s.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ key, state: 'open', back: '/findings', ...(csrf === null ? {} : { _csrf: csrf }) }).toString(),
    });
  assert.equal((await form(null)).status, 403);
  assert.equal((await form('nope')).status, 403);
  const ok = await form(s.csrf);
  assert.equal(ok.status, 303);
  assert.equal(ok.headers.get('location'), '/findings');
  assert.equal((await w.store.findings({ ip: '10.0.0.2', state: 'open', kind: 'exposure' })).length, 1);

  // Logout is state-changing too; after it the old cookie is dead.
  assert.equal((await w.app.request('/logout', { method: 'POST', headers: { cookie: s.cookie } })).status, 403);
  const out = await w.app.request('/logout', { method: 'POST', headers: { cookie: s.cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: `_csrf=${encodeURIComponent(s.csrf)}` });
  assert.equal(out.status, 303);
  assert.equal((await w.app.request('/api/overview', { headers: { cookie: s.cookie } })).status, 401);
  // Login without the login form's own secret is refused.
  const forged = await w.app.request('/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ name: 'ana', password: PASSWORD }).toString() });
  assert.equal(forged.status, 403);
  // Session cookies are HttpOnly and SameSite=Strict.
  const r = await postLogin(w.app, 'ana', PASSWORD);
  const set = r.headers.getSetCookie().find((c) => c.startsWith(SESSION_COOKIE))!;
  assert.match(set, /HttpOnly/);
  assert.match(set, /SameSite=Strict/);
});

test('login is rate-limited per account and per client address, with bounded memory', async () => {
  const w = await world({ perAccount: 3, perAddress: 6, windowMs: 60_000 });
  await usersWithRoles(w);
  for (let i = 0; i < 3; i++) assert.equal((await postLogin(w.app, 'vic', 'wrong password!!')).status, 401);
  assert.equal((await postLogin(w.app, 'vic', PASSWORD)).status, 429, 'even the right password waits once the account is locked');
  assert.equal((await postLogin(w.app, 'ana', PASSWORD)).status, 303, 'another account is not locked by it');
  // Per address: failures on several names from one address add up.
  for (let i = 0; i < 3; i++) await postLogin(w.app, `nobody${i}`, 'wrong password!!');
  assert.equal((await postLogin(w.app, 'admin', PASSWORD)).status, 429, 'the address is locked after 6 failures');

  let t = 0;
  const lim = new LoginLimiter(2, 1000, 100, () => t);
  for (let i = 0; i < 1000; i++) lim.fail(`k${i}`);
  assert.ok(lim.size <= 100);
  lim.fail('x');
  lim.fail('x');
  assert.ok(lim.blocked('x'));
  t += 1001;
  assert.ok(!lim.blocked('x'), 'the window slides');
});

test('API numbers agree with the store; downloads escape formulas; pages show hostile text as text', async () => {
  const w = await world();
  const u = await usersWithRoles(w);
  const auth = { authorization: `Bearer ${u.tokens.viewer}` };
  const get = async (path: string) => {
    const r = await w.app.request(path, { headers: auth });
    assert.equal(r.status, 200, path);
    return r;
  };
  const o = (await (await get('/api/overview')).json()) as Record<string, number>;
  assert.equal(o.devices, w.facts.devices);
  assert.equal(o.noiseExcluded, w.facts.noise);
  assert.equal(o.exposedDevices, w.facts.exposedDevices);
  assert.equal(o.vulnerableDevices, w.facts.vulnerableDevices);
  assert.equal(o.kevDevices, w.facts.kevDevices);
  assert.equal(o.kevCves, w.facts.kevCves);
  assert.equal(o.medianDaysToFix, 31, 'the FTP exposure seen 1 Oct, gone 1 Nov');
  const all = await w.store.findings({ state: 'open' });
  assert.equal(o.exposureFindings! + o.vulnerabilityFindings!, all.filter((f) => f.ip !== '10.0.2.9').length);

  const devs = (await (await get('/api/devices?limit=2')).json()) as { total: number; rows: { ip: string }[] };
  assert.equal(devs.total, w.facts.devices);
  assert.equal(devs.rows.length, 2);
  const page2 = (await (await get('/api/devices?limit=2&offset=2')).json()) as { rows: { ip: string }[] };
  assert.deepEqual([...devs.rows, ...page2.rows].map((r) => r.ip), ['10.0.0.1', '10.0.0.2', '10.0.1.5', '2001:db8::7']);
  const hik = (await (await get('/api/devices?vendor=hikvision')).json()) as { rows: { ip: string; cves: number; kev: number }[] };
  assert.deepEqual(hik.rows.map((r) => [r.ip, r.cves, r.kev]), [['10.0.0.1', 2, 2]]);
  const search = (await (await get('/api/devices?q=RB95')).json()) as { rows: { ip: string }[] };
  assert.deepEqual(search.rows.map((r) => r.ip), ['10.0.1.5']);
  const net = (await (await get('/api/devices?network=2001:db8::/32')).json()) as { rows: { ip: string }[] };
  assert.deepEqual(net.rows.map((r) => r.ip), ['2001:db8::7']);
  const sorted = (await (await get('/api/devices?sort=cves&dir=desc')).json()) as { rows: { ip: string }[] };
  assert.equal(sorted.rows[0]!.ip, '10.0.0.1');
  // Cached aggregates and sort orders follow a change of the data at once.
  for (const cve of ['CVE-2021-36260', 'CVE-2017-7921']) await w.store.setFindingState(`10.0.0.1|||vulnerability|${cve}`, 'accepted');
  const resorted = (await (await get('/api/devices?sort=cves&dir=desc')).json()) as { rows: { ip: string; cves: number }[] };
  assert.deepEqual(resorted.rows.slice(0, 2).map((r) => [r.ip, r.cves]), [['10.0.1.5', 2], ['10.0.0.1', 0]]);
  assert.equal(((await (await get('/api/overview')).json()) as { vulnerableDevices: number }).vulnerableDevices, w.facts.vulnerableDevices - 1);
  for (const cve of ['CVE-2021-36260', 'CVE-2017-7921']) await w.store.setFindingState(`10.0.0.1|||vulnerability|${cve}`, 'open');

  const byCve = (await (await get('/api/vulnerabilities?by=cve')).json()) as { rows: { cve: string; kev: boolean; devices: number }[] };
  assert.equal(byCve.rows.length, 4);
  assert.deepEqual(byCve.rows.filter((r) => r.kev).map((r) => r.cve).sort(), ['CVE-2017-7921', 'CVE-2018-14847', 'CVE-2021-36260']);
  assert.equal(byCve.rows.at(-1)!.cve, 'CVE-2019-3924', 'KEV first');
  const byVendor = (await (await get('/api/vulnerabilities?by=vendor')).json()) as { rows: { vendor: string; cves: number; kevCves: number }[] };
  assert.deepEqual(byVendor.rows.map((r) => [r.vendor, r.cves, r.kevCves]), [['Hikvision', 2, 2], ['MikroTik', 2, 1]]);
  const nets = (await (await get('/api/networks')).json()) as { rows: { prefix: string; devices: number; kevDevices: number }[] };
  assert.deepEqual(nets.rows.map((r) => [r.prefix, r.devices, r.kevDevices]), [['10.0.0.0/24', 2, 1], ['10.0.1.0/24', 1, 1], ['2001:db8::/48', 1, 0]]);
  const wide = (await (await get('/api/networks?v4=16&v6=32')).json()) as { rows: { prefix: string; devices: number }[] };
  assert.deepEqual(wide.rows.map((r) => [r.prefix, r.devices]).sort(), [['10.0.0.0/16', 3], ['2001:db8::/32', 1]]);
  assert.equal((await w.app.request('/api/networks?v4=17', { headers: auth })).status, 400);
  const runs = (await (await get('/api/runs')).json()) as { rows: { runId: string; observations: number; hosts: number }[] };
  assert.deepEqual(runs.rows.map((r) => [r.runId, r.observations]).sort(), [['run-1', 3], ['run-2', 7]]);
  const dev = (await (await get('/api/devices/10.0.0.1')).json()) as { services: unknown[]; cves: unknown[]; events: unknown[] };
  assert.equal(dev.services.length, 2);
  assert.equal(dev.cves.length, 2);
  assert.equal(dev.events.length, 2);
  const v6 = (await (await get(`/api/devices/${encodeURIComponent('2001:db8::7')}`)).json()) as { device: { ip: string } };
  assert.equal(v6.device.ip, '2001:db8::7', 'an IPv6 device page by its encoded address');
  assert.equal((await w.app.request('/api/devices/10.9.9.9', { headers: auth })).status, 404);
  assert.equal((await w.app.request('/api/devices/not-an-ip', { headers: auth })).status, 400);
  assert.equal((await w.app.request('/api/findings?kind=bogus', { headers: auth })).status, 400);
  assert.equal((await w.app.request('/api/devices?network=bogus', { headers: auth })).status, 400);

  // CSV download: formula cells neutralised, quotes doubled; JSON download the same rows.
  const csv = await get('/api/devices?format=csv');
  assert.match(csv.headers.get('content-disposition') ?? '', /attachment; filename="iotscope-devices.csv"/);
  const text = await csv.text();
  assert.equal(text.split('\r\n').filter(Boolean).length, 1 + w.facts.devices);
  assert.ok(text.includes(`"'=HYPERLINK(""http://evil.invalid"",""click"")"`), 'formula prefixed with an apostrophe');
  const jsonDl = (await (await get('/api/findings?format=json&state=any')).json()) as unknown[];
  assert.equal(jsonDl.length, w.facts.openFindings + w.facts.fixedFindings + 1, 'every finding, the honeypot one too');
  for (const t of ['vulnerabilities?by=cve', 'vulnerabilities?by=vendor', 'vulnerabilities?by=model', 'networks', 'runs', 'devices/10.0.0.1?table=services', 'devices/10.0.0.1?table=findings']) {
    const r = await get(`/api/${t}${t.includes('?') ? '&' : '?'}format=csv`);
    assert.match(r.headers.get('content-type') ?? '', /^text\/csv/, t);
  }
  assert.equal(csvCell('-1+2'), "'-1+2");
  assert.equal(csvCell('@SUM(A1)'), "'@SUM(A1)");
  assert.equal(csvCell(-3), '-3', 'numbers stay numbers');
  assert.equal(toCsv([{ header: 'a', value: (r: string) => r }], ['x,y']), 'a\r\n"x,y"\r\n');

  // Pages: hostile device text is escaped, never emitted as markup.
  const s = await session(w.app, 'vic');
  for (const path of ['/', '/devices', '/devices/10.0.0.2', '/findings', '/vulnerabilities?by=model', '/networks', '/runs']) {
    const r = await w.app.request(path, { headers: { cookie: s.cookie } });
    assert.equal(r.status, 200, path);
    const html = await r.text();
    assert.ok(!html.includes('<script>'), `${path}: no raw script tag`);
    assert.ok(!/<img src=x/i.test(html) && !/<svg onload/i.test(html), `${path}: no raw handler markup`);
    assert.ok(!html.includes('\u001b'), `${path}: no terminal escape byte`);
    assert.match(r.headers.get('content-security-policy') ?? '', /script-src 'self'/);
  }
  const page = await (await w.app.request('/devices/10.0.0.2', { headers: { cookie: s.cookie } })).text();
  assert.ok(page.includes('&lt;script&gt;window.__pwned=1;'), 'vendor shown as text');
  assert.ok(page.includes('\\x1b[31mRED'), 'terminal escapes shown as visible \\x1b');
  assert.equal((await w.app.request('/devices/10.0.0.2', { headers: { cookie: s.cookie } })).headers.get('cache-control'), 'no-store');
});

test('an admin manages users and tokens through the pages, and a token is shown once', async () => {
  const w = await world();
  await usersWithRoles(w);
  const s = await session(w.app, 'admin');
  const form = (path: string, fields: Record<string, string>) =>
    w.app.request(path, { method: 'POST', headers: { cookie: s.cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ _csrf: s.csrf, ...fields }).toString() });
  assert.equal((await form('/admin/users', { name: 'newbie', role: 'viewer', password: PASSWORD })).status, 303);
  const newbie = w.accounts.users().find((x) => x.name === 'newbie')!;
  assert.equal(newbie.role, 'viewer');
  assert.equal((await form(`/admin/users/${newbie.id}`, { role: 'analyst' })).status, 303);
  assert.equal(w.accounts.user(newbie.id)!.role, 'analyst');
  const made = await form('/admin/tokens', { userId: String(newbie.id), label: 'ci' });
  assert.equal(made.status, 201);
  const token = /id="new-token">([^<]+)</.exec(await made.text())![1]!;
  assert.equal((await w.app.request('/api/me', { headers: { authorization: `Bearer ${token}` } })).status, 200);
  const list = await (await w.app.request('/admin', { headers: { cookie: s.cookie } })).text();
  assert.ok(!list.includes(token), 'the admin page never shows a token again');
  const admin = w.accounts.users().find((x) => x.name === 'admin')!;
  // A password reset ends the user's sessions; the new password works, the old one no more.
  const vic = w.accounts.users().find((x) => x.name === 'vic')!;
  const vicSession = await session(w.app, 'vic');
  assert.equal((await form(`/admin/users/${vic.id}`, { password: 'a brand new password' })).status, 303);
  assert.equal((await w.app.request('/api/me', { headers: { cookie: vicSession.cookie } })).status, 401);
  assert.equal((await postLogin(w.app, 'vic', PASSWORD)).status, 401);
  assert.equal((await postLogin(w.app, 'vic', 'a brand new password')).status, 303);
  assert.equal((await form(`/admin/users/${vic.id}`, { password: 'short' })).status, 400);
  const demote = await form(`/admin/users/${admin.id}`, { role: 'viewer' });
  assert.equal(demote.status, 400, 'the last admin keeps the role');
  assert.equal(w.accounts.user(admin.id)!.role, 'admin');
});

test('behind TLS (--secure-cookies) cookies are Secure and HSTS is sent', async () => {
  const store = SqliteStore.open(':memory:');
  const accounts = new Accounts(store.handle);
  const app = createApp({ accounts, queries: new DashboardQueries(store, store.handle), secureCookies: true });
  await accounts.completeSetup(accounts.createSetupLink(), 'admin', PASSWORD);
  const r = await postLogin(app, 'admin', PASSWORD);
  assert.equal(r.status, 303);
  assert.match(r.headers.getSetCookie().find((c) => c.startsWith(SESSION_COOKIE))!, /; Secure/);
  assert.match(r.headers.get('strict-transport-security') ?? '', /max-age=/);
  // Without the option there is no Secure flag (plain HTTP on loopback would drop it) and no HSTS.
  const w = await world();
  await usersWithRoles(w);
  const plain = await postLogin(w.app, 'admin', PASSWORD);
  assert.doesNotMatch(plain.headers.getSetCookie().find((c) => c.startsWith(SESSION_COOKIE))!, /Secure/);
  assert.equal(plain.headers.get('strict-transport-security'), null);
});
