// Stage: probes, RTSP wire format. Responses as GStreamer, Hikvision-style and live555-style servers send them,
// and property tests over truncated, split and random input.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DESCRIBE_PATHS, MAX_BODY, couldBeRtsp, encodeRequest, parseAuthenticate, parsePublic, parseResponse, rtspUrl } from './codec.ts';

const SDP = 'v=0\r\no=- 1 1 IN IP4 10.213.0.10\r\ns=Session streamed with GStreamer\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n';
const DESCRIBE_200 = `RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Type: application/sdp\r\nContent-Base: rtsp://10.213.0.10:8554/stream1/\r\nServer: GStreamer RTSP server\r\nContent-Length: ${SDP.length}\r\n\r\n${SDP}`;
const OPTIONS_200 = 'RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: OPTIONS, DESCRIBE, ANNOUNCE, GET_PARAMETER, PAUSE, PLAY, RECORD, SETUP, SET_PARAMETER, TEARDOWN\r\nServer: GStreamer RTSP server\r\n\r\n';

describe('parseResponse', () => {
  it('reads status, headers and an SDP body, leaving what follows', () => {
    const r = parseResponse(Buffer.from(`${DESCRIBE_200}RTSP/1.0 404`));
    assert.equal(r.kind, 'ok');
    if (r.kind !== 'ok') return;
    assert.equal(r.value.statusCode, 200);
    assert.equal(r.value.reason, 'OK');
    assert.equal(r.value.version, '1.0');
    assert.equal(r.value.headers.server, 'GStreamer RTSP server');
    assert.equal(r.value.headers['content-type'], 'application/sdp');
    assert.equal(r.value.body.toString(), SDP);
    assert.equal(r.consumed, DESCRIBE_200.length);
  });

  it('joins repeated headers and folded lines, accepts bare LF', () => {
    const r = parseResponse(Buffer.from('RTSP/1.0 401 Unauthorized\nCSeq: 3\nWWW-Authenticate: Digest realm="IP Camera(C6158)",\n nonce="abc", stale="FALSE"\nWWW-Authenticate: Basic realm="IP Camera(C6158)"\n\n'));
    assert.equal(r.kind, 'ok');
    if (r.kind !== 'ok') return;
    assert.equal(r.value.headers['www-authenticate'], 'Digest realm="IP Camera(C6158)", nonce="abc", stale="FALSE", Basic realm="IP Camera(C6158)"');
  });

  it('waits for the rest of a head or body, rejects other protocols at once', () => {
    for (let n = 0; n < DESCRIBE_200.length; n++) assert.equal(parseResponse(Buffer.from(DESCRIBE_200.slice(0, n))).kind, 'need-more', `cut at ${n}`);
    const http = parseResponse(Buffer.from('HTTP/1.1 400 Bad Request\r\n'));
    assert.deepEqual(http, { kind: 'error', reason: 'an HTTP response, not RTSP' });
    for (const s of ['SSH-2.0-x\r\n', '\x00\x00', 'RTSP/x 200 OK\r\n\r\n', 'RTSP/1.0 20 OK\r\n\r\n', 'RTSP/1.0 200 OK\r\nContent-Length: -1\r\n\r\n', `RTSP/1.0 200 OK\r\nContent-Length: ${MAX_BODY + 1}\r\n\r\n`])
      assert.equal(parseResponse(Buffer.from(s, 'latin1')).kind, 'error', s);
    assert.equal(parseResponse(Buffer.from(`RTSP/1.0 200 OK\r\nX: ${'a'.repeat(20000)}`)).kind, 'error');
  });

  it('never throws; a prefix of a response is need-more, and the parse is the same in any split (property)', () => {
    const resp = fc.constantFrom(DESCRIBE_200, OPTIONS_200, 'RTSP/1.0 404 Not Found\r\nCSeq: 2\r\n\r\n');
    fc.assert(
      fc.property(resp, fc.string({ maxLength: 40 }), fc.nat(), (r, tail, at) => {
        const buf = Buffer.from(r + tail, 'latin1');
        const whole = parseResponse(buf);
        assert.equal(whole.kind, 'ok');
        if (whole.kind !== 'ok') return;
        assert.equal(whole.consumed, Buffer.byteLength(r, 'latin1'));
        const cut = at % (whole.consumed + 1);
        const part = parseResponse(buf.subarray(0, cut));
        assert.equal(part.kind, cut === whole.consumed ? 'ok' : 'need-more');
      }),
    );
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 400 }), fc.string({ maxLength: 300 }).map((s) => Buffer.from(`RTSP/1.0 ${s}`, 'latin1'))), (b) => {
        const r = parseResponse(b);
        if (r.kind === 'ok') assert.ok(r.consumed <= b.length);
      }),
    );
  });
});

describe('headers and requests', () => {
  it('lists Public methods, dropping junk', () => {
    assert.deepEqual(parsePublic('OPTIONS, DESCRIBE, SETUP, TEARDOWN, PLAY, PAUSE'), ['OPTIONS', 'DESCRIBE', 'SETUP', 'TEARDOWN', 'PLAY', 'PAUSE']);
    assert.deepEqual(parsePublic('OPTIONS,,<script>, PLAY'), ['OPTIONS', 'PLAY']);
    assert.deepEqual(parsePublic(undefined), []);
  });

  it('reads scheme and realm of the first challenge', () => {
    assert.deepEqual(parseAuthenticate('Basic realm="GStreamer RTSP Server"'), { scheme: 'Basic', realm: 'GStreamer RTSP Server' });
    assert.deepEqual(parseAuthenticate('Digest realm="IP Camera(C6158)", nonce="abc", Basic realm="x"'), { scheme: 'Digest', realm: 'IP Camera(C6158)' });
    assert.deepEqual(parseAuthenticate('Digest nonce="a", realm=LIVE555'), { scheme: 'Digest', realm: 'LIVE555' });
    assert.deepEqual(parseAuthenticate('Basic realm="a \\"q\\" b"'), { scheme: 'Basic', realm: 'a "q" b' });
    assert.deepEqual(parseAuthenticate('Basic'), { scheme: 'Basic' });
    assert.deepEqual(parseAuthenticate(''), {});
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (s) => void parseAuthenticate(s)));
  });

  it('writes requests with CSeq and no header injection', () => {
    assert.equal(encodeRequest('OPTIONS', 'rtsp://10.0.0.1:554/', 1, [['User-Agent', 'iotscope/0.1']]), 'OPTIONS rtsp://10.0.0.1:554/ RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: iotscope/0.1\r\n\r\n');
    const evil = encodeRequest('DESCRIBE', 'rtsp://h/', 2, [['User-Agent', 'x\r\nEvil: 1']]);
    assert.equal(evil.split('\r\n').filter((l) => l.startsWith('Evil')).length, 0);
    assert.equal(rtspUrl('::1', 8554, '/stream1'), 'rtsp://[::1]:8554/stream1');
    assert.equal(rtspUrl('10.0.0.1', 554, 'live.sdp'), 'rtsp://10.0.0.1:554/live.sdp');
  });

  it('keeps the DESCRIBE path list short and starting at the root', () => {
    assert.equal(DESCRIBE_PATHS[0], '/');
    assert.ok(DESCRIBE_PATHS.length <= 6);
    assert.equal(couldBeRtsp(Buffer.from('RTS')), true);
    assert.equal(couldBeRtsp(Buffer.from('HTTP')), false);
  });
});
