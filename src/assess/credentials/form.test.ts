// Tests of the login-form credential audit: the form parser on its own (and on hostile input), then the audit
// against in-process web servers on 127.0.0.1 — one that takes admin/admin behind a CSRF token and a session
// cookie, one that takes anything, one whose success looks like its failure, one that refuses everything (the caps),
// and the refusal without authorisation (nothing is POSTed).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parse as parseYaml } from 'yaml';
import type { Observation } from '../../core/observation.ts';
import { parseScopeYaml } from '../../core/scope.ts';
import { LAB_SCOPE_YAML } from '../../../test/testbed.ts';
import { type AttemptEvent, auditCredentials, CredentialAuditRefused } from './audit.ts';
import { parseLoginForm, setCookies } from './form.ts';
import { loadCredentialLists } from './pairs.ts';

const lists = loadCredentialLists();
const httpPasswords = [...new Set(lists.filter((l) => l.protocols.includes('http')).flatMap((l) => l.pairs.map((p) => p.password)).filter((p) => p.length > 0))];
const scopeOf = (authorize: boolean) => parseScopeYaml(`${LAB_SCOPE_YAML}${authorize ? 'authorize: [credentials]\n' : ''}`, 'test scope', parseYaml);
const obs = (port: number): Observation => ({ ip: '127.0.0.1', port, transport: 'tcp', protocol: 'http', data: { statusCode: 200, path: '/login', loginForm: true }, status: 'success', time: new Date().toISOString(), source: 'probe:http', runId: 't' });

describe('login form parsing', () => {
  it('finds action, method, user, password and hidden inputs of the login form', () => {
    const html = `<form action="/search"><input name="q"></form>
      <form method="post" action="do_login.cgi?x=1"><input type="hidden" name="csrf" value="a&amp;b">
      <input type="text" name="lang"><input type=text name=username><input type="password" name="pwd">
      <input type="submit" name="go" value="Log in"></form>`;
    assert.deepEqual(parseLoginForm(html, '/cgi/login.html'), { action: '/cgi/do_login.cgi?x=1', method: 'POST', userField: 'username', passwordField: 'pwd', fixed: [['csrf', 'a&b'], ['go', 'Log in']] });
  });
  it('skips change-password forms and forms that post to another host', () => {
    assert.equal(parseLoginForm('<form><input type=password name=a><input type=password name=b></form>', '/'), null);
    assert.equal(parseLoginForm('<form action="http://198.51.100.1/x"><input name=u><input type=password name=p></form>', '/'), null);
    assert.deepEqual(parseLoginForm('<form method=GET><input type=password name=p></form>', '/a/b'), { action: '/a/b', method: 'GET', passwordField: 'p', fixed: [] });
  });
  it('reads Set-Cookie names even when the codec joined several with commas', () => {
    assert.deepEqual(setCookies('sid=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT; Path=/, lang=en'), [['sid', '1'], ['lang', 'en']]);
  });
  it('returns a form or null on any input, never throws', () => {
    fc.assert(fc.property(fc.string({ maxLength: 2000 }), fc.string({ maxLength: 50 }), (html, path) => {
      const f = parseLoginForm(html, path);
      assert.ok(f === null || typeof f.passwordField === 'string');
      setCookies(html);
    }), { numRuns: 300 });
    const tags = fc.array(fc.constantFrom('<form', '<form action=x>', '<input type=password name=p>', '<input name=u', '"', "'", '>', '</form>', '<input type=hidden name=h value="'), { maxLength: 300 });
    fc.assert(fc.property(tags, (parts) => {
      parseLoginForm(parts.join(''), '/');
    }), { numRuns: 300 });
  });
});

type Mode = 'admin-admin' | 'accepts-anything' | 'looks-identical' | 'refuses';

/** A device web UI: GET /login hands out a CSRF token tied to a pre-session cookie; POST /login checks both. */
async function webUi(mode: Mode) {
  const tokens = new Map<string, string>();
  const received: string[] = [];
  let posts = 0;
  let requests = 0;
  const page = (sid: string) => {
    const token = randomBytes(8).toString('hex');
    tokens.set(sid, token);
    return `<html><head><title>Router</title></head><body><form method="post" action="/login">
      <input type="hidden" name="csrf_token" value="${token}"><input type="text" name="username">
      <input type="password" name="password"><input type="submit" value="Login"></form></body></html>`;
  };
  const server = http.createServer((req, res) => {
    requests++;
    const sid = /(?:^|;\s*)presession=([0-9a-f]+)/.exec(req.headers.cookie ?? '')?.[1];
    if (req.method === 'GET' && req.url === '/login') {
      const fresh = randomBytes(6).toString('hex');
      res.writeHead(200, { 'content-type': 'text/html', 'set-cookie': `presession=${fresh}; Path=/; HttpOnly` });
      res.end(page(fresh));
      return;
    }
    if (req.method === 'POST' && req.url === '/login') {
      posts++;
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        const f = new URLSearchParams(body);
        received.push(f.get('password') ?? '');
        if (!sid || f.get('csrf_token') !== tokens.get(sid)) {
          res.writeHead(403).end('bad token');
          return;
        }
        const ok = mode === 'accepts-anything' || ((mode === 'admin-admin' || mode === 'looks-identical') && f.get('username') === 'admin' && f.get('password') === 'admin');
        if (ok && mode !== 'looks-identical') {
          res.writeHead(302, { location: '/home', 'set-cookie': `session=${randomBytes(8).toString('hex')}; Path=/; HttpOnly` }).end();
          return;
        }
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(page(sid));
      });
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, posts: () => posts, requests: () => requests, received: () => received, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const run = (port: number, events: AttemptEvent[], limits = {}) =>
  auditCredentials([obs(port)], { scope: scopeOf(true), requested: true, lists, limits: { delayMs: 10, ...limits }, probeLimits: { timeoutMs: 2000 }, onAttempt: (e) => events.push(e) });

/** No string in the record equals a listed password, outside the keys that name a pair or its public source. */
function assertNoPassword(what: unknown): void {
  const naming = new Set(['username', 'pairId', 'pair', 'list', 'source', 'sourceUrl', 'references', 'remediation', 'title']);
  const leaves: string[] = [];
  JSON.stringify(what, (k, v) => {
    assert.notEqual(k.toLowerCase(), 'password', 'no password field in the record');
    if (naming.has(k)) return undefined;
    if (typeof v === 'string') leaves.push(v);
    return v;
  });
  for (const leaf of leaves) assert.ok(!httpPasswords.includes(leaf), 'a listed password must not appear');
}

describe('login form audit', () => {
  it('finds admin/admin behind a CSRF token and a session cookie, naming the pair and never the password', async () => {
    const srv = await webUi('admin-admin');
    try {
      const events: AttemptEvent[] = [];
      const r = await run(srv.port, events);
      assert.equal(r.findings.length, 1, JSON.stringify(r.audited));
      const f = r.findings[0]!;
      assert.equal(f.id, 'default-credential-http-form');
      assert.equal(f.kind, 'default-credential');
      const ev = f.evidence as Record<string, unknown>;
      assert.equal(ev.pairId, 'web-and-stream#1');
      assert.equal(ev.username, 'admin');
      assert.equal(ev.login, 'form');
      assert.equal(r.noAuth.length, 0);
      assert.deepEqual(events.map((e) => e.outcome), ['rejected', 'accepted'], 'negative control, then the first pair; stops at the success');
      assert.equal(srv.posts(), 2);
      assert.equal(srv.received()[1], 'admin', 'the server did get the password (the form was really submitted)');
      // The finding names admin as the user; nowhere is a password recorded.
      const naming = new Set(['username', 'source', 'sourceUrl', 'references', 'remediation', 'title']);
      const json = JSON.stringify({ f, events, audited: r.audited }, (k, v) => (naming.has(k) ? undefined : v));
      assert.ok(!json.includes('admin'), 'outside the user name and the source text, "admin" appears nowhere');
      assertNoPassword({ r, events });
    } finally {
      await srv.close();
    }
  });

  it('a form that accepts everything gets no default-credential finding', async () => {
    const srv = await webUi('accepts-anything');
    try {
      const r = await run(srv.port, []);
      assert.equal(r.findings.length, 0);
      assert.equal(r.noAuth.length, 0, 'a form heuristic proves no missing authentication either');
      assert.equal(srv.posts(), 1, 'only the negative control was sent');
      assert.match(r.audited[0]!.outcome, /nothing concluded/);
    } finally {
      await srv.close();
    }
  });

  it('a form whose success looks like its failure gets no finding', async () => {
    const srv = await webUi('looks-identical');
    try {
      const r = await run(srv.port, [], { maxAttemptsPerService: 3 });
      assert.equal(r.findings.length, 0);
      assert.ok(srv.received().includes('admin'), 'the right password was tried and still not counted');
    } finally {
      await srv.close();
    }
  });

  it('holds the per-service cap, the delay, and stops nothing short at a refusing form', async () => {
    const srv = await webUi('refuses');
    try {
      const events: AttemptEvent[] = [];
      const started = Date.now();
      const r = await run(srv.port, events, { maxAttemptsPerService: 4, delayMs: 40 });
      assert.equal(srv.posts(), 4, 'negative control and three pairs');
      assert.equal(r.attempts, 4);
      assert.equal(r.findings.length, 0);
      assert.ok(events.every((e) => e.outcome === 'rejected'), JSON.stringify(events));
      assert.ok(Date.now() - started >= 3 * 40);
      const host = await run(srv.port, [], { maxAttemptsPerService: 10, maxAttemptsPerHost: 2, delayMs: 0 });
      assert.equal(host.attempts, 2);
      assert.equal(srv.posts(), 6, 'the host cap of 2 held');
    } finally {
      await srv.close();
    }
  });

  it('without authorisation nothing is requested, let alone POSTed', async () => {
    const srv = await webUi('admin-admin');
    try {
      await assert.rejects(auditCredentials([obs(srv.port)], { scope: scopeOf(false), requested: true, lists }), CredentialAuditRefused);
      await assert.rejects(auditCredentials([obs(srv.port)], { scope: scopeOf(true), requested: false, lists }), CredentialAuditRefused);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(srv.requests(), 0);
      assert.equal(srv.posts(), 0);
    } finally {
      await srv.close();
    }
  });
});
