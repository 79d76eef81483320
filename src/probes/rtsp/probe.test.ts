// Stage: probes, RTSP. The probe against the testbed's two GStreamer RTSP servers (one stream behind Basic auth,
// one open) and against loopback servers: HTTP on an RTSP port, a camera that closes after every answer, one that
// has no stream at any known path, one that stops answering.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import type { RtspData } from '../../core/fields.ts';
import { parseScopeYaml } from '../../core/scope.ts';
import { runProbe } from '../../scan/run-probe.ts';
import { LAB_SCOPE_YAML, ensureTestbed, require_ } from '../../../test/testbed.ts';
import { DESCRIBE_PATHS } from './codec.ts';
import { rtspProbe } from './probe.ts';

const scope = parseScopeYaml(LAB_SCOPE_YAML, 'test scope', parseYaml);
const limits = { timeoutMs: 1500, connectTimeoutMs: 1500 };
const GST_METHODS = ['OPTIONS', 'DESCRIBE', 'ANNOUNCE', 'GET_PARAMETER', 'PAUSE', 'PLAY', 'RECORD', 'SETUP', 'SET_PARAMETER', 'TEARDOWN'];

describe('rtsp probe against the testbed GStreamer servers', () => {
  it('554: finds /live.sdp behind Basic auth', async (t) => {
    if (!require_(t, 'testbed')) return;
    ensureTestbed();
    const r = await runProbe(rtspProbe, { ip: '10.213.0.10', port: 554, transport: 'tcp' }, { scope, limits, userAgent: 'iotscope test (lab)' });
    assert.equal(r.status, 'success', r.error);
    assert.deepEqual(r.data as RtspData, {
      statusCode: 200,
      server: 'GStreamer RTSP server',
      methods: GST_METHODS,
      url: 'rtsp://10.213.0.10:554/live.sdp',
      describeStatus: 401,
      authRequired: true,
      authScheme: 'Basic',
      realm: 'GStreamer RTSP Server',
    });
    assert.match(Buffer.from(r.raw!).toString(), /^RTSP\/1\.0 200 OK\r\nCSeq: 1\r\n/);
  });

  it('8554: finds the open /stream1 and keeps its SDP', async (t) => {
    if (!require_(t, 'testbed')) return;
    ensureTestbed();
    const r = await runProbe(rtspProbe, { ip: '10.213.0.10', port: 8554, transport: 'tcp' }, { scope, limits });
    assert.equal(r.status, 'success', r.error);
    const d = r.data as RtspData;
    assert.equal(d.url, 'rtsp://10.213.0.10:8554/stream1');
    assert.equal(d.describeStatus, 200);
    assert.equal(d.authRequired, false);
    assert.equal(d.authScheme, undefined);
    assert.match(d.sdp!, /^v=0\r\n/);
    assert.match(d.sdp!, /m=video 0 RTP\/AVP 96/);
    assert.match(d.sdp!, /a=rtpmap:96 H264\/90000/);
    assert.deepEqual(d.methods, GST_METHODS);
  });
});

describe('rtsp probe against loopback servers', () => {
  const servers: net.Server[] = [];
  const ports: Record<string, number> = {};
  const log: Record<string, { requests: string[]; connections: number }> = {};

  /** A tiny RTSP server: `answer(method, path)` gives status line, headers and body, or null for silence. */
  const serve = (name: string, answer: (method: string, path: string) => { status: string; headers?: string[]; body?: string; close?: boolean } | null, raw?: (s: net.Socket) => void) =>
    new Promise<void>((resolve) => {
      log[name] = { requests: [], connections: 0 };
      const srv = net.createServer((s) => {
        log[name]!.connections++;
        s.on('error', () => {});
        if (raw) return raw(s);
        let buf = '';
        s.on('data', (d) => {
          buf += d.toString('latin1');
          let end: number;
          while ((end = buf.indexOf('\r\n\r\n')) !== -1) {
            const head = buf.slice(0, end);
            buf = buf.slice(end + 4);
            log[name]!.requests.push(head);
            const [method, url] = head.split(' ');
            const cseq = /CSeq: (\d+)/.exec(head)?.[1] ?? '0';
            const a = answer(method!, new URL(url!.replace(/^rtsp:/, 'http:')).pathname);
            if (!a) continue;
            const body = a.body ?? '';
            const lines = [`RTSP/1.0 ${a.status}`, `CSeq: ${cseq}`, ...(a.headers ?? []), ...(body ? [`Content-Length: ${body.length}`] : []), ...(a.close ? ['Connection: close'] : [])];
            s.write(`${lines.join('\r\n')}\r\n\r\n${body}`);
            if (a.close) s.end();
          }
        });
      });
      srv.listen(0, '127.0.0.1', () => {
        ports[name] = (srv.address() as net.AddressInfo).port;
        resolve();
      });
      servers.push(srv);
    });

  before(async () => {
    await serve('http', () => null, (s) => s.once('data', () => s.end('HTTP/1.1 400 Bad Request\r\nServer: lighttpd\r\nContent-Length: 0\r\n\r\n')));
    // A Hikvision-like camera: Digest on its usual path, closes after every answer.
    await serve('hik', (m, p) => {
      if (m === 'OPTIONS') return { status: '200 OK', headers: ['Public: OPTIONS, DESCRIBE, PLAY, PAUSE, SETUP, TEARDOWN, SET_PARAMETER, GET_PARAMETER'], close: true };
      if (p === '/Streaming/Channels/101') return { status: '401 Unauthorized', headers: ['WWW-Authenticate: Digest realm="IP Camera(C6158)", nonce="6b1c", stale="FALSE"', 'WWW-Authenticate: Basic realm="IP Camera(C6158)"'], close: true };
      return { status: '404 Not Found', close: true };
    });
    await serve('nothing', (m) => (m === 'OPTIONS' ? { status: '200 OK', headers: ['Server: Rtsp Server/3.0'] } : { status: '404 Not Found' }));
    await serve('stall', (m) => (m === 'OPTIONS' ? { status: '200 OK', headers: ['Server: stalls'] } : null));
    await serve('ssh', () => null, (s) => s.write('SSH-2.0-dropbear\r\n'));
  });
  after(() => {
    for (const s of servers) s.close();
  });
  const target = (name: string) => ({ ip: '127.0.0.1', port: ports[name]!, transport: 'tcp' as const });

  it('returns protocol-error quickly, with the raw answer, when the port speaks HTTP', async () => {
    const started = Date.now();
    const r = await runProbe(rtspProbe, target('http'), { scope, limits });
    assert.equal(r.status, 'protocol-error');
    assert.match(Buffer.from(r.raw!).toString(), /^HTTP\/1\.1 400 Bad Request/);
    assert.ok(Date.now() - started < 500);
  });

  it('returns protocol-error for a service that greets with something else', async () => {
    const r = await runProbe(rtspProbe, target('ssh'), { scope, limits });
    assert.equal(r.status, 'protocol-error');
    assert.match(Buffer.from(r.raw!).toString(), /^SSH-2\.0-dropbear/);
  });

  it('reconnects to a camera that closes after each answer and finds its Digest-protected stream', async () => {
    const r = await runProbe(rtspProbe, target('hik'), { scope, limits });
    assert.equal(r.status, 'success', r.error);
    const d = r.data as RtspData;
    assert.equal(d.url, `rtsp://127.0.0.1:${ports.hik}/Streaming/Channels/101`);
    assert.equal(d.describeStatus, 401);
    assert.equal(d.authRequired, true);
    assert.equal(d.authScheme, 'Digest');
    assert.equal(d.realm, 'IP Camera(C6158)');
    assert.equal(d.server, undefined);
    assert.ok(d.methods!.includes('SETUP'));
    const paths = DESCRIBE_PATHS.indexOf('/Streaming/Channels/101') + 1;
    assert.equal(log.hik!.connections, 1 + paths);
    for (const req of log.hik!.requests) assert.doesNotMatch(req, /Authorization/i);
  });

  it('stops after the bounded path list on one connection when no stream is found', async () => {
    const r = await runProbe(rtspProbe, target('nothing'), { scope, limits, userAgent: 'iotscope/0.1 (test; cert@example.org)' });
    assert.equal(r.status, 'success', r.error);
    const d = r.data as RtspData;
    assert.equal(d.server, 'Rtsp Server/3.0');
    assert.equal(d.describeStatus, 404);
    assert.equal(d.authRequired, undefined);
    assert.equal(log.nothing!.connections, 1);
    assert.equal(log.nothing!.requests.length, 1 + DESCRIBE_PATHS.length);
    assert.match(log.nothing!.requests[0]!, /^OPTIONS rtsp:\/\/127\.0\.0\.1:\d+\/ RTSP\/1\.0\r\nCSeq: 1\r\nUser-Agent: iotscope\/0\.1 \(test; cert@example\.org\)$/);
    assert.match(log.nothing!.requests[1]!, /^DESCRIBE .* RTSP\/1\.0\r\nCSeq: 2\r\nAccept: application\/sdp\r\n/);
  });

  it('keeps what OPTIONS said when DESCRIBE gets no answer, within the deadline', async () => {
    const started = Date.now();
    const r = await runProbe(rtspProbe, target('stall'), { scope, limits });
    assert.equal(r.status, 'success', r.error);
    assert.deepEqual(r.data, { statusCode: 200, server: 'stalls' });
    assert.ok(Date.now() - started < 3 * limits.timeoutMs);
  });
});
