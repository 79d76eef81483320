// Stage: probes (http, https). The probes run through runProbe against in-process servers on loopback (redirect
// chains and loops, scope refusals, chunked and huge bodies, silent and foreign services, TLS with a self-signed
// certificate) and against the real daemons of the testbed.
import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import type { HttpData } from '../../core/fields.ts';
import { type Scope, parseScopeYaml } from '../../core/scope.ts';
import { dialTcp } from '../../scan/conn.ts';
import type { Probe, ProbeResult } from '../../scan/probe.ts';
import { runProbe } from '../../scan/run-probe.ts';
import { LAB_SCOPE_YAML, ensureTestbed, require_ } from '../../../test/testbed.ts';
import { faviconHashes } from './codec.ts';
import { httpProbe, httpsProbe } from './probe.ts';

const labScope = parseScopeYaml(LAB_SCOPE_YAML, 'test', parseYaml);
/** Only 127.0.0.1: 127.0.0.2 stands for an address outside the authorised scope. */
const narrowScope = parseScopeYaml('allow: [127.0.0.1/32]\n', 'test', parseYaml);

interface Seen {
  method: string;
  path: string;
  host: string | undefined;
  userAgent: string | undefined;
}

const closers: (() => void)[] = [];

/** An HTTP(S) fixture on a loopback address; records every request it gets and every connection it accepts. */
async function fixture(handler: http.RequestListener, opts: { ip?: string; tls?: { key: Buffer; cert: Buffer } } = {}) {
  const seen: Seen[] = [];
  let connections = 0;
  const listener: http.RequestListener = (req, res) => {
    seen.push({ method: req.method!, path: req.url!, host: req.headers.host, userAgent: req.headers['user-agent'] });
    handler(req, res);
  };
  const srv = opts.tls ? https.createServer({ key: opts.tls.key, cert: opts.tls.cert }, listener) : http.createServer(listener);
  srv.on('connection', () => connections++);
  await new Promise<void>((resolve) => srv.listen(0, opts.ip ?? '127.0.0.1', resolve));
  closers.push(() => {
    srv.closeAllConnections();
    srv.close();
  });
  return { port: (srv.address() as net.AddressInfo).port, seen, connections: () => connections };
}

/** A raw TCP fixture for behaviour node:http will not produce. */
async function rawFixture(onConn: (s: net.Socket) => void, ip = '127.0.0.1') {
  const sockets = new Set<net.Socket>();
  const received: Buffer[] = [];
  const srv = net.createServer((s) => {
    sockets.add(s);
    s.on('data', (d) => received.push(d));
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    onConn(s);
  });
  await new Promise<void>((resolve) => srv.listen(0, ip, resolve));
  closers.push(() => {
    for (const s of sockets) s.destroy();
    srv.close();
  });
  return { port: (srv.address() as net.AddressInfo).port, received };
}

after(() => {
  for (const c of closers) c();
});

function run(probe: Probe, port: number, opts: { scope?: Scope; timeoutMs?: number; maxBytes?: number; ip?: string } = {}): Promise<ProbeResult> {
  return runProbe(probe, { ip: opts.ip ?? '127.0.0.1', port, transport: 'tcp' }, {
    scope: opts.scope ?? labScope,
    limits: { timeoutMs: opts.timeoutMs ?? 2000, connectTimeoutMs: 1000, ...(opts.maxBytes ? { maxBytes: opts.maxBytes } : {}) },
  });
}

const dataOf = (r: ProbeResult) => r.data as HttpData;

const ICON = Buffer.from(Array.from({ length: 1150 }, (_, i) => (i * 31 + 7) & 0xff));
const PAGE =
  '<!DOCTYPE html><html><head><meta charset="utf-8"><title>\n  IP&nbsp;Camera &amp; NVR  </title>' +
  '<link rel="shortcut icon" href="static/cam.ico"></head><body><form method="post"><input name="user">' +
  '<input type="password" name="pwd"></form></body></html>';

describe('http probe against loopback fixtures', () => {
  it('follows a relative redirect chain, records the page and the declared favicon, sends the operator User-Agent', async () => {
    const srv = await fixture((req, res) => {
      if (req.url === '/') res.writeHead(302, { Location: '/web/' }).end();
      else if (req.url === '/web/') res.writeHead(301, { Location: 'login.html' }).end();
      else if (req.url === '/web/login.html') res.writeHead(200, { 'Content-Type': 'text/html', Server: 'Hipcam RealServer/V1.0' }).end(PAGE);
      else if (req.url === '/web/static/cam.ico') res.writeHead(200, { 'Content-Type': 'image/x-icon' }).end(ICON);
      else res.writeHead(404).end();
    });
    const r = await run(httpProbe, srv.port);
    assert.equal(r.status, 'success', r.error);
    assert.equal(r.protocol, 'http');
    const d = dataOf(r);
    assert.deepEqual(d.redirects, [`http://127.0.0.1:${srv.port}/web/`, `http://127.0.0.1:${srv.port}/web/login.html`]);
    assert.equal(d.path, '/web/login.html');
    assert.equal(d.statusCode, 200);
    assert.equal(d.server, 'Hipcam RealServer/V1.0');
    assert.equal(d.title, 'IP Camera & NVR');
    assert.equal(d.loginForm, true);
    assert.equal(d.redirectNotFollowed, undefined);
    assert.equal(d.faviconMmh3, faviconHashes(ICON).mmh3);
    assert.equal(d.faviconSha256, faviconHashes(ICON).sha256);
    assert.equal(d.faviconMd5, createHash('md5').update(ICON).digest('hex'));
    assert.deepEqual(srv.seen.map((s) => s.path), ['/', '/web/', '/web/login.html', '/web/static/cam.ico']);
    assert.ok(srv.seen.every((s) => s.host === `127.0.0.1:${srv.port}` && s.method === 'GET'));
    assert.match(srv.seen[0]!.userAgent!, /^iotscope\/.*iotscope test suite/);
    // raw keeps the first response as evidence
    assert.match(Buffer.from(r.raw!).toString('latin1'), /^HTTP\/1\.1 302 Found\r\n/);
  });

  it('stops a redirect loop and records it', async () => {
    const srv = await fixture((req, res) => {
      res.writeHead(302, { Location: req.url === '/' ? '/again' : '/' }).end();
    });
    const r = await run(httpProbe, srv.port);
    assert.equal(r.status, 'success');
    const d = dataOf(r);
    assert.deepEqual(d.redirects, [`http://127.0.0.1:${srv.port}/again`]);
    assert.deepEqual(d.redirectNotFollowed, { location: '/', reason: 'redirect loop' });
    assert.equal(d.statusCode, 302);
    assert.equal(srv.seen.filter((s) => s.path !== '/favicon.ico').length, 2);
  });

  it('follows at most 3 hops', async () => {
    const srv = await fixture((req, res) => {
      const n = req.url === '/' ? 0 : Number(req.url!.slice(1));
      if (Number.isFinite(n)) res.writeHead(307, { Location: `/${n + 1}` }).end();
      else res.writeHead(404).end();
    });
    const r = await run(httpProbe, srv.port);
    const d = dataOf(r);
    assert.equal(d.redirects!.length, 3);
    assert.equal(d.path, '/3');
    assert.deepEqual(d.redirectNotFollowed, { location: '/4', reason: 'more than 3 redirects' });
    assert.deepEqual(srv.seen.map((s) => s.path).filter((p) => p !== '/favicon.ico'), ['/', '/1', '/2', '/3']);
  });

  it('follows a redirect to another host inside the scope', async () => {
    const other = await fixture((_req, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end('<title>second host</title>'), { ip: '127.0.0.2' });
    const srv = await fixture((_req, res) => res.writeHead(302, { Location: `http://127.0.0.2:${other.port}/` }).end());
    const r = await run(httpProbe, srv.port);
    const d = dataOf(r);
    assert.deepEqual(d.redirects, [`http://127.0.0.2:${other.port}/`]);
    assert.equal(d.title, 'second host');
    assert.equal(other.seen[0]!.host, `127.0.0.2:${other.port}`);
  });

  it('never dials a redirect target outside the scope; the answer it had stays a success', async () => {
    const outside = await fixture((_req, res) => res.writeHead(200).end('must not be reached'), { ip: '127.0.0.2' });
    const srv = await fixture((_req, res) => res.writeHead(302, { Location: `http://127.0.0.2:${outside.port}/admin` }).end());
    const r = await run(httpProbe, srv.port, { scope: narrowScope });
    assert.equal(r.status, 'success');
    const d = dataOf(r);
    assert.equal(d.statusCode, 302);
    assert.equal(d.redirects, undefined);
    assert.equal(d.redirectNotFollowed!.location, `http://127.0.0.2:${outside.port}/admin`);
    assert.match(d.redirectNotFollowed!.reason, /^blocklisted-target: .*127\.0\.0\.2/);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(outside.connections(), 0);
  });

  it('a redirect to an in-scope address that does not answer cannot push the probe past its deadline', async () => {
    // 10.213.0.99 is inside the lab network and holds no host: the connect hangs (or fails fast when the lab is down)
    const srv = await fixture((_req, res) => res.writeHead(302, { Location: 'http://10.213.0.99:8080/' }).end());
    const t0 = Date.now();
    const r = await runProbe(httpProbe, { ip: '127.0.0.1', port: srv.port, transport: 'tcp' }, { scope: labScope, limits: { timeoutMs: 500, connectTimeoutMs: 5000 } });
    const took = Date.now() - t0;
    assert.equal(r.status, 'success', r.error);
    assert.equal(dataOf(r).statusCode, 302);
    assert.equal(dataOf(r).redirectNotFollowed!.location, 'http://10.213.0.99:8080/');
    assert.ok(took < 1400, `took ${took} ms`);
  });

  it('does not follow meta refresh or script redirects', async () => {
    const srv = await fixture((req, res) => {
      if (req.url === '/') res.writeHead(200, { 'Content-Type': 'text/html' }).end('<meta http-equiv="refresh" content="0; url=/login.htm"><script>window.location.href="/js.htm"</script>');
      else res.writeHead(404).end();
    });
    const d = dataOf(await run(httpProbe, srv.port));
    assert.equal(d.path, '/');
    assert.equal(d.redirects, undefined);
    assert.deepEqual(srv.seen.map((s) => s.path), ['/', '/favicon.ico']);
  });

  it('never resolves a host name in a Location', async () => {
    const srv = await fixture((_req, res) => res.writeHead(301, { Location: 'http://camera.invalid/' }).end());
    const d = dataOf(await run(httpProbe, srv.port));
    assert.equal(d.redirects, undefined);
    assert.match(d.redirectNotFollowed!.reason, /not resolved/);
  });

  it('decodes a chunked body', async () => {
    const srv = await fixture((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.write('<html><head><ti');
      res.write('tle>Chunked');
      setTimeout(() => res.end(' Router</title></head></html>'), 30);
    });
    const d = dataOf(await run(httpProbe, srv.port));
    assert.equal(d.headers!['transfer-encoding'], 'chunked');
    assert.equal(d.title, 'Chunked Router');
    assert.equal(d.body, '<html><head><title>Chunked Router</title></head></html>');
    assert.equal(d.bodyLength, d.body!.length);
  });

  it('caps a huge body at the byte limit and still reports the page', async () => {
    const huge = Buffer.alloc(8 * 1024 * 1024, 0x41);
    const srv = await fixture((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html', 'Content-Length': String(huge.length + 22) });
      res.write('<title>big</title>\n\n\n\n');
      res.end(huge);
    });
    const t0 = Date.now();
    const r = await run(httpProbe, srv.port, { maxBytes: 64 * 1024 });
    assert.equal(r.status, 'success');
    const d = dataOf(r);
    assert.equal(d.title, 'big');
    assert.ok(d.bodyLength! < 64 * 1024 && d.bodyLength! > 32 * 1024, `bodyLength ${d.bodyLength}`);
    assert.ok(d.body!.length <= 1024);
    assert.ok(Date.now() - t0 < 3000);
  });

  it('ends within the deadline when the server accepts and never answers', async () => {
    const silent = await rawFixture(() => {});
    const t0 = Date.now();
    const r = await run(httpProbe, silent.port, { timeoutMs: 400 });
    const took = Date.now() - t0;
    assert.equal(r.status, 'io-timeout');
    assert.ok(took >= 350 && took < 1300, `took ${took} ms`);
    assert.match(Buffer.concat(silent.received).toString(), /^GET \/ HTTP\/1\.1\r\n/);
  });

  it('ends within the deadline when the server trickles a body forever', async () => {
    const trickle = await rawFixture((s) => {
      s.write('HTTP/1.0 200 OK\r\nServer: slowloris\r\n\r\n<title>slow</title>');
      const t = setInterval(() => s.writable && s.write('x'), 20);
      s.on('close', () => clearInterval(t));
    });
    const t0 = Date.now();
    const r = await run(httpProbe, trickle.port, { timeoutMs: 400 });
    assert.ok(Date.now() - t0 < 1500, `took ${Date.now() - t0} ms`);
    assert.equal(r.status, 'success');
    assert.equal(dataOf(r).server, 'slowloris');
    assert.equal(dataOf(r).title, 'slow');
  });

  it('records a head that a broken server ends by closing, without the blank line', async () => {
    const broken = await rawFixture((s) => s.once('data', () => s.end('HTTP/1.0 200 OK\r\nServer: Boa/0.94.13\r\n')));
    const r = await run(httpProbe, broken.port);
    assert.equal(r.status, 'success', r.error);
    assert.equal(dataOf(r).server, 'Boa/0.94.13');
    assert.equal(dataOf(r).bodyLength, 0);
  });

  it('hands a service that talks first back to the engine as a protocol error, without sending a request', async () => {
    const ssh = await rawFixture((s) => s.write('SSH-2.0-dropbear_2022.83\r\n'));
    const conn = await dialTcp('127.0.0.1', ssh.port, { timeoutMs: 1000, maxBytes: 65536 });
    await conn.readUntil((b) => b.length > 0, 1000);
    const t0 = Date.now();
    const r = await runProbe(httpProbe, { ip: '127.0.0.1', port: ssh.port, transport: 'tcp' }, { scope: labScope, preopened: conn, limits: { timeoutMs: 2000 } });
    assert.ok(Date.now() - t0 < 200);
    assert.equal(r.status, 'protocol-error');
    assert.deepEqual(r.data, {});
    assert.equal(Buffer.from(r.raw!).toString(), 'SSH-2.0-dropbear_2022.83\r\n');
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(Buffer.concat(ssh.received).length, 0);
  });

  it('dials again when the connection handed over was closed by an idle service', async () => {
    let n = 0;
    const srv = await rawFixture((s) => {
      if (n++ === 0) s.end();
      else s.once('data', () => s.end('HTTP/1.1 204 No Content\r\nServer: idle-closer\r\n\r\n'));
    });
    const conn = await dialTcp('127.0.0.1', srv.port, { timeoutMs: 1000, maxBytes: 65536 });
    await conn.readFor(100);
    assert.equal(conn.ended, true);
    const r = await runProbe(httpProbe, { ip: '127.0.0.1', port: srv.port, transport: 'tcp' }, { scope: labScope, preopened: conn, limits: { timeoutMs: 1000 } });
    assert.equal(r.status, 'success', r.error);
    assert.equal(dataOf(r).server, 'idle-closer');
  });

  it('recognises a foreign answer to its GET at once (telnet options, an FTP greeting, ICY)', async () => {
    for (const greeting of [Buffer.from([0xff, 0xfd, 0x18, 0xff, 0xfd, 0x20]), Buffer.from('220 (vsFTPd 3.0.3)\r\n'), Buffer.from('ICY 200 OK\r\nicy-name: x\r\n\r\n')]) {
      const srv = await rawFixture((s) => s.once('data', () => s.write(greeting)));
      const t0 = Date.now();
      const r = await run(httpProbe, srv.port, { timeoutMs: 3000 });
      assert.ok(Date.now() - t0 < 1000, `took ${Date.now() - t0} ms`);
      assert.equal(r.status, 'protocol-error');
      assert.deepEqual(Buffer.from(r.raw!), greeting);
    }
  });

  it('records the "plain HTTP request was sent to HTTPS port" answer as a success', async () => {
    const body = '<html>\r\n<head><title>400 The plain HTTP request was sent to HTTPS port</title></head>\r\n<body>\r\n<center><h1>400 Bad Request</h1></center>\r\n</body>\r\n</html>\r\n';
    const nginx = await rawFixture((s) =>
      s.once('data', () => s.end(`HTTP/1.1 400 Bad Request\r\nServer: nginx\r\nContent-Type: text/html\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`)),
    );
    const r = await run(httpProbe, nginx.port);
    assert.equal(r.status, 'success');
    const d = dataOf(r);
    assert.equal(d.statusCode, 400);
    assert.equal(d.tlsRequired, true);
    assert.equal(d.server, 'nginx');
  });
});

describe('https probe against loopback fixtures', () => {
  let dir: string;
  let key: Buffer;
  let cert: Buffer;
  let certSha256: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'iotscope-https-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '30',
      '-subj', '/CN=cam.lab/O=Lab Cameras', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:cam.lab'], { stdio: 'ignore' });
    key = readFileSync(join(dir, 'key.pem'));
    cert = readFileSync(join(dir, 'cert.pem'));
    const fp = execFileSync('openssl', ['x509', '-in', join(dir, 'cert.pem'), '-noout', '-fingerprint', '-sha256'], { encoding: 'utf8' });
    certSha256 = fp.split('=')[1]!.trim().replace(/:/g, '').toLowerCase();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('records the page and the TLS facts of a self-signed certificate', async () => {
    const srv = await fixture(
      (req, res) => {
        if (req.url === '/') res.writeHead(200, { 'Content-Type': 'text/html', Server: 'GoAhead-Webs' }).end('<title>Secure Cam</title>');
        else res.writeHead(200, { 'Content-Type': 'image/x-icon' }).end(ICON);
      },
      { tls: { key, cert } },
    );
    const r = await run(httpsProbe, srv.port);
    assert.equal(r.status, 'success', r.error);
    assert.equal(r.protocol, 'https');
    const d = dataOf(r);
    assert.equal(d.title, 'Secure Cam');
    assert.equal(d.server, 'GoAhead-Webs');
    assert.equal(d.faviconMmh3, faviconHashes(ICON).mmh3);
    const t = d.tls!;
    assert.match(t.version!, /^TLSv1\.[23]$/);
    assert.ok(t.cipher);
    const c = t.certificate!;
    assert.equal(c.subject.CN, 'cam.lab');
    assert.equal(c.subject.O, 'Lab Cameras');
    assert.deepEqual(c.issuer, c.subject);
    assert.equal(c.selfSigned, true);
    assert.equal(c.keyType, 'rsa');
    assert.equal(c.keyBits, 2048);
    assert.deepEqual([...c.subjectAltNames].sort(), ['DNS:cam.lab', 'IP Address:127.0.0.1']);
    assert.equal(c.sha256, certSha256);
    assert.ok(Date.parse(c.notAfter!) - Date.parse(c.notBefore!) >= 29 * 86400_000);
    assert.equal(srv.seen[0]!.host, `127.0.0.1:${srv.port}`);
  });

  it('ends a handshake with a plain HTTP server as handshake-error, whether it answers the ClientHello or waits', async () => {
    const answering = await fixture((_req, res) => res.end('plain'));
    const waiting = await rawFixture(() => {});
    const a = await run(httpsProbe, answering.port);
    assert.equal(a.status, 'handshake-error');
    const t0 = Date.now();
    const w = await run(httpsProbe, waiting.port, { timeoutMs: 400 });
    assert.equal(w.status, 'handshake-error');
    assert.ok(Date.now() - t0 < 1300);
  });

  it('the plain probe on a TLS port does not report a success', async () => {
    const srv = await fixture((_req, res) => res.end('x'), { tls: { key, cert } });
    const r = await run(httpProbe, srv.port);
    assert.notEqual(r.status, 'success');
  });
});

describe('http and https probes against the testbed', () => {
  const lab = (ip: string, port: number, probe: Probe = httpProbe, timeoutMs = 3000) =>
    runProbe(probe, { ip, port, transport: 'tcp' }, { scope: labScope, limits: { timeoutMs } });

  it('BusyBox httpd on the camera: 401 Basic realm "Network Camera"', async (t) => {
    if (!require_(t, 'testbed')) return;
    ensureTestbed();
    const r = await lab('10.213.0.10', 80);
    assert.equal(r.status, 'success', r.error);
    const d = dataOf(r);
    assert.equal(d.statusCode, 401);
    assert.equal(d.authScheme, 'Basic');
    assert.equal(d.realm, 'Network Camera');
    assert.equal(d.title, '401 Unauthorized');
    assert.equal(d.server, undefined); // BusyBox httpd sends no Server header
    assert.equal(d.headers!['www-authenticate'], 'Basic realm="Network Camera"');
    assert.equal(d.faviconMmh3, undefined); // the favicon is behind the same 401
  });

  it('BusyBox httpd serving UPnP on 49152: HTTP recognised on a high port', async (t) => {
    if (!require_(t, 'testbed')) return;
    ensureTestbed();
    const d = dataOf(await lab('10.213.0.10', 49152));
    assert.equal(d.statusCode, 404);
    assert.equal(d.title, '404 Not Found');
    assert.equal(d.headers!['content-type'], 'text/html');
  });

  it('lighttpd on the router: the login page', async (t) => {
    if (!require_(t, 'testbed')) return;
    ensureTestbed();
    const r = await lab('10.213.0.20', 80);
    assert.equal(r.status, 'success', r.error);
    const d = dataOf(r);
    assert.equal(d.statusCode, 200);
    assert.equal(d.server, 'lighttpd/1.4.69');
    assert.equal(d.title, 'Wireless Router Login');
    assert.equal(d.loginForm, true);
    assert.equal(d.bodyLength, Number(d.headers!['content-length']));
    assert.equal(d.authScheme, undefined);
  });

  it('miniupnpd on 5000 and MiniDLNA on 8200: Server headers and title', async (t) => {
    if (!require_(t, 'testbed')) return;
    ensureTestbed();
    const upnp = dataOf(await lab('10.213.0.20', 5000));
    assert.equal(upnp.statusCode, 404);
    assert.match(upnp.server!, /UPnP\/1\.1 MiniUPnPd\/2\.3\.1$/);
    const dlna = dataOf(await lab('10.213.0.30', 8200));
    assert.equal(dlna.statusCode, 200);
    assert.match(dlna.server!, /DLNADOC\/1\.50 UPnP\/1\.0 MiniDLNA\/1\.3\.0$/);
    assert.equal(dlna.title, 'MiniDLNA 1.3.0');
  });

  it('https on plain-HTTP ports ends as handshake-error; SSH handed over is a protocol error', async (t) => {
    if (!require_(t, 'testbed')) return;
    ensureTestbed();
    assert.equal((await lab('10.213.0.20', 80, httpsProbe)).status, 'handshake-error');
    assert.equal((await lab('10.213.0.30', 8200, httpsProbe, 800)).status, 'handshake-error');
    const conn = await dialTcp('10.213.0.20', 22, { timeoutMs: 2000, maxBytes: 65536 });
    await conn.readUntil((b) => b.includes(0x0a), 2000);
    const r = await runProbe(httpProbe, { ip: '10.213.0.20', port: 22, transport: 'tcp' }, { scope: labScope, preopened: conn });
    assert.equal(r.status, 'protocol-error');
    assert.match(Buffer.from(r.raw!).toString('latin1'), /^SSH-2\.0-dropbear_2022\.83/);
  });
});
