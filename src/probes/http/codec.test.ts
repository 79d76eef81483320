// Stage: probes (http). Unit and property tests of the pure HTTP codec: request bytes, the tolerant response parser,
// completeness detection, page facts, redirect resolution and the favicon hashes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  HTTP_LIMITS,
  HttpParseError,
  ResponseCompletion,
  base64Lines,
  buildGetRequest,
  decodeChunked,
  decodeEntities,
  extractTitle,
  faviconHashes,
  faviconHref,
  framingOf,
  hasPasswordInput,
  httpPrefixState,
  murmur3x86_32,
  parseChallenges,
  parseHead,
  parseResponse,
  resolveLocation,
  responseCompleteness,
  responseFacts,
  safeRequestPath,
  sameHostPath,
} from './codec.ts';

const B = (s: string) => Buffer.from(s, 'latin1');

describe('request', () => {
  it('builds a GET with Host ip:port, the operator User-Agent and Connection: close', () => {
    const req = buildGetRequest({ ip: '10.0.0.1', port: 8080, tls: false }, '/', 'iotscope/0.1 (x; cert@example.org)').toString('latin1');
    assert.equal(
      req,
      'GET / HTTP/1.1\r\nHost: 10.0.0.1:8080\r\nUser-Agent: iotscope/0.1 (x; cert@example.org)\r\n' +
        'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\nAccept-Encoding: identity\r\nConnection: close\r\n\r\n',
    );
  });
  it('leaves out the default port and brackets IPv6', () => {
    assert.match(buildGetRequest({ ip: '10.0.0.1', port: 80, tls: false }, '/', 'ua').toString(), /\r\nHost: 10\.0\.0\.1\r\n/);
    assert.match(buildGetRequest({ ip: '10.0.0.1', port: 443, tls: true }, '/', 'ua').toString(), /\r\nHost: 10\.0\.0\.1\r\n/);
    assert.match(buildGetRequest({ ip: '::1', port: 8443, tls: true }, '/', 'ua').toString(), /\r\nHost: \[::1\]:8443\r\n/);
  });
  it('never lets a hostile path or user agent inject header lines', () => {
    const req = buildGetRequest({ ip: '10.0.0.1', port: 80, tls: false }, '/a b\r\nX-Evil: 1#frag', 'ua\r\nX-Evil: 2').toString('latin1');
    assert.equal(req.split('\r\n').filter((l) => l.startsWith('X-Evil')).length, 0);
    assert.match(req, /^GET \/a%20b%0D%0AX-Evil:%201 HTTP\/1\.1\r\n/);
    assert.equal(safeRequestPath('x/é'), '/x/%C3%A9');
  });
});

describe('response head', () => {
  it('parses status line and headers: lower-cased names, repeats joined, obs-fold, junk lines skipped', () => {
    const h = parseHead(B('HTTP/1.0 200 OK\r\nServer: Boa/0.94\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\nX-Long: one\r\n  two\r\nno colon here\r\n: empty\r\n\r\nbody'));
    assert.equal(h.version, '1.0');
    assert.equal(h.statusCode, 200);
    assert.equal(h.reason, 'OK');
    assert.equal(h.statusLine, 'HTTP/1.0 200 OK');
    assert.deepEqual(h.headers, { server: 'Boa/0.94', 'set-cookie': 'a=1, b=2', 'x-long': 'one two' });
    assert.equal(h.bodyOffset, B('HTTP/1.0 200 OK\r\nServer: Boa/0.94\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\nX-Long: one\r\n  two\r\nno colon here\r\n: empty\r\n\r\n').length);
  });
  it('tolerates bare LF, stray leading blank lines, a missing reason and odd case', () => {
    const h = parseHead(B('\r\nHttp/1.1 404\nContent-Length: 0\n\n'));
    assert.equal(h.statusCode, 404);
    assert.equal(h.reason, '');
    assert.deepEqual(h.headers, { 'content-length': '0' });
  });
  it('takes a head cut off without its blank line as it is once no more bytes will come', () => {
    const r = parseResponse(B('HTTP/1.0 200 OK\r\nServer: GoAhead\r\n'), { connectionClosed: true });
    assert.deepEqual(r.head.headers, { server: 'GoAhead' });
    assert.equal(r.body.length, 0);
    assert.equal(parseResponse(B('HTTP/1.1 401 Unauthorized'), { endOfInput: true }).head.statusCode, 401);
    assert.throws(() => parseResponse(B('HTTP/1.0 200 OK\r\nServer: GoAhead\r\n')), HttpParseError);
    assert.throws(() => parseResponse(B('HTTP/1.1 OK'), { endOfInput: true }), HttpParseError);
  });
  it('skips interim 1xx heads', () => {
    const r = parseResponse(B('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi'));
    assert.equal(r.head.statusCode, 200);
    assert.equal(r.body.toString(), 'hi');
  });
  it('a header named __proto__ stays a plain key', () => {
    const h = parseHead(B('HTTP/1.1 200 OK\r\n__proto__: x\r\nconstructor: y\r\n\r\n'));
    assert.equal(Object.getPrototypeOf(h.headers), Object.prototype);
    assert.equal(Object.hasOwn(h.headers, '__proto__'), true);
    assert.equal(h.headers.constructor, 'y');
  });
  it('rejects what is not HTTP with a typed error', () => {
    for (const [input, code] of [
      ['ICY 200 OK\r\nicy-name: radio\r\n\r\n', 'not-http'],
      ['SSH-2.0-dropbear_2022.83\r\n', 'not-http'],
      ['RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n', 'not-http'],
      ['\xff\xfd\x18\xff\xfd\x20', 'not-http'],
      ['220 (vsFTPd 3.0.3)\r\n', 'not-http'],
      ['HTTP/1.1 OK\r\n\r\n', 'bad-status-line'],
      ['HTTP/1.1 2000 OK\r\n\r\n', 'bad-status-line'],
      ['HTTP/1.1 200 OK\r\nServer: x\r\n', 'incomplete-head'],
    ] as const) {
      assert.throws(() => parseHead(B(input)), (e: unknown) => e instanceof HttpParseError && e.code === code, input);
    }
  });
  it('caps the head and every header value', () => {
    const big = `HTTP/1.1 200 OK\r\nX: ${'a'.repeat(HTTP_LIMITS.maxHeadBytes)}\r\n`;
    assert.throws(() => parseHead(B(big)), (e: unknown) => e instanceof HttpParseError && e.code === 'head-too-large');
    const h = parseHead(B(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(5000)}\r\n\r\n`));
    assert.equal(h.headers.x!.length, HTTP_LIMITS.maxHeaderValue);
    const many = Array.from({ length: 300 }, (_, i) => `H${i}: v`).join('\r\n');
    assert.equal(Object.keys(parseHead(B(`HTTP/1.1 200 OK\r\n${many}\r\n\r\n`)).headers).length, HTTP_LIMITS.maxHeaders);
  });
  it('tells from the first bytes whether this can be HTTP', () => {
    assert.equal(httpPrefixState(B('HT')), 'maybe');
    assert.equal(httpPrefixState(B('HTTP/1.1')), 'yes');
    assert.equal(httpPrefixState(B('SSH-')), 'no');
    assert.equal(httpPrefixState(B('\r\n\r\nHTTP/')), 'yes');
  });
});

describe('body framing', () => {
  it('chooses the framing per RFC 9112, tolerating contradictions', () => {
    const f = (code: number, headers: Record<string, string>) => framingOf({ statusCode: code, headers }).kind;
    assert.equal(f(200, { 'content-length': '5' }), 'length');
    assert.equal(f(200, { 'content-length': '5, 5' }), 'length');
    assert.equal(f(200, { 'content-length': '5, 6' }), 'close');
    assert.equal(f(200, { 'content-length': '-1' }), 'close');
    assert.equal(f(200, { 'transfer-encoding': 'gzip, chunked', 'content-length': '5' }), 'chunked');
    assert.equal(f(200, { 'transfer-encoding': 'gzip' }), 'close');
    assert.equal(f(204, { 'content-length': '5' }), 'none');
    assert.equal(f(304, {}), 'none');
    assert.equal(f(200, {}), 'close');
  });
  it('decodes chunked bodies with extensions, LF-only lines and trailers', () => {
    const wire = B('4;ext=1\r\nWiki\r\n5\npedia\n0\r\nX-Trailer: t\r\n\r\n');
    assert.deepEqual(decodeChunked(wire), { body: B('Wikipedia'), complete: true });
    const response = Buffer.concat([B('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'), wire]);
    assert.equal(responseCompleteness(response), 'complete');
    assert.equal(parseResponse(response).body.toString(), 'Wikipedia');
  });
  it('keeps a truncated or broken chunked body, says so, and caps what it keeps', () => {
    assert.deepEqual(decodeChunked(B('a\r\n01234')), { body: B('01234'), complete: false });
    const bad = decodeChunked(B('4\r\nWiki\r\nzz\r\n'));
    assert.equal(bad.body.toString(), 'Wiki');
    assert.equal(bad.complete, false);
    assert.match(bad.error!, /bad chunk size/);
    assert.equal(decodeChunked(B('4\r\nWikiXX')).error, 'chunk data not followed by CRLF');
    assert.equal(decodeChunked(B('5\r\nabcde\r\n5\r\nfghij\r\n0\r\n\r\n'), 0, 7).body.toString(), 'abcdefg');
  });
  it('reads bodies by Content-Length and to the connection close', () => {
    const cl = parseResponse(B('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcdef'));
    assert.equal(cl.body.toString(), 'abc');
    assert.equal(cl.bodyComplete, true);
    const short = parseResponse(B('HTTP/1.1 200 OK\r\nContent-Length: 30\r\n\r\nabc'));
    assert.equal(short.bodyComplete, false);
    const close = parseResponse(B('HTTP/1.0 200 OK\r\n\r\nall of it'), { connectionClosed: true });
    assert.equal(close.framing, 'close');
    assert.equal(close.body.toString(), 'all of it');
    assert.equal(close.bodyComplete, true);
    assert.equal(parseResponse(B('HTTP/1.0 200 OK\r\n\r\npart')).bodyComplete, false);
  });
});

describe('completeness', () => {
  const full = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello';
  it('is incomplete for every proper prefix of a framed response and complete at its end', () => {
    for (let i = 0; i < full.length; i++) assert.equal(responseCompleteness(B(full.slice(0, i))), 'incomplete', `prefix ${i}`);
    assert.equal(responseCompleteness(B(full)), 'complete');
  });
  it('agrees when fed byte by byte (incremental) and when fed at once', () => {
    const chunked = 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n';
    const c = new ResponseCompletion();
    const states: string[] = [];
    for (let i = 1; i <= chunked.length; i++) states.push(c.check(B(chunked.slice(0, i))));
    assert.deepEqual(states.slice(0, -1).filter((s) => s !== 'incomplete'), []);
    assert.equal(states.at(-1), 'complete');
  });
  it('says invalid at once for a greeting of another protocol, and never completes a close-delimited body', () => {
    assert.equal(responseCompleteness(B('SSH-2.0-x')), 'invalid');
    assert.equal(responseCompleteness(B('\xff\xfb\x01')), 'invalid');
    assert.equal(responseCompleteness(B('HTTP/1.0 200 OK\r\n\r\nbody...')), 'incomplete');
    assert.equal(responseCompleteness(B('HTTP/1.1 304 Not Modified\r\n\r\n')), 'complete');
  });
});

describe('page facts', () => {
  it('extracts the title: entities decoded, whitespace collapsed, capped', () => {
    assert.equal(extractTitle('<html><head><TITLE lang="en">\n  Caf&eacute; &amp; Bar &#8211;\tLogin&#x21; </title>'), 'Café & Bar – Login!');
    assert.equal(extractTitle('<title>unclosed<body>x'), 'unclosed');
    assert.equal(extractTitle('<titlex>no</titlex>'), undefined);
    assert.equal(extractTitle('<title>   </title>'), undefined);
    assert.equal(extractTitle(`<title>${'x'.repeat(1000)}</title>`)!.length, HTTP_LIMITS.titleChars);
    assert.equal(decodeEntities('&bogus; &#0; &#xD800; &amp'), '&bogus; \ufffd \ufffd &amp');
  });
  it('decodes the body in the charset the page declares', () => {
    const gbk = Buffer.concat([B('HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=GB2312\r\nContent-Length: 19\r\n\r\n<title>'), Buffer.from([0xc4, 0xe3, 0xba, 0xc3]), B('</title>')]);
    assert.equal(responseFacts(parseResponse(gbk), '/').title, '你好');
  });
  it('parses WWW-Authenticate: quoted strings with escapes, several challenges, token68, broken quoting', () => {
    assert.deepEqual(parseChallenges('Basic realm="Network Camera"'), [{ scheme: 'Basic', params: { realm: 'Network Camera' } }]);
    assert.deepEqual(parseChallenges('Digest realm="a \\"q\\" b", nonce="n,1", qop="auth,auth-int", Basic realm=x'), [
      { scheme: 'Digest', params: { realm: 'a "q" b', nonce: 'n,1', qop: 'auth,auth-int' } },
      { scheme: 'Basic', params: { realm: 'x' } },
    ]);
    assert.deepEqual(parseChallenges('Negotiate YIIB+/a==, Basic realm="r"'), [
      { scheme: 'Negotiate', params: {}, token68: 'YIIB+/a==' },
      { scheme: 'Basic', params: { realm: 'r' } },
    ]);
    assert.deepEqual(parseChallenges('Basic realm=Network Camera'), [{ scheme: 'Basic', params: { realm: 'Network Camera' } }]);
    assert.deepEqual(parseChallenges('Basic realm="unterminated'), [{ scheme: 'Basic', params: { realm: 'unterminated' } }]);
    assert.deepEqual(parseChallenges('Basic REALM="TP-LINK", charset="UTF-8"'), [{ scheme: 'Basic', params: { realm: 'TP-LINK', charset: 'UTF-8' } }]);
  });
  it('finds a login form by its password input, not by the word', () => {
    assert.equal(hasPasswordInput('<form><INPUT name=p TYPE = "Password"></form>'), true);
    assert.equal(hasPasswordInput("<input type='password'/>"), true);
    assert.equal(hasPasswordInput('<input type=password>'), true);
    assert.equal(hasPasswordInput('<p>type="password"</p><input type="text" name="password">'), false);
  });
  it('finds the favicon link and keeps it only when it is a same-host path', () => {
    assert.equal(faviconHref('<link rel="stylesheet" href="/a.css"><link rel="shortcut icon" href="img/fav.ico?v=1&amp;x=2">'), 'img/fav.ico?v=1&x=2');
    assert.equal(faviconHref('<link rel="apple-touch-icon" href="/t.png">'), undefined);
    assert.equal(sameHostPath('img/fav.ico', '/web/index.html'), '/web/img/fav.ico');
    assert.equal(sameHostPath('../f.ico', '/a/b/'), '/a/f.ico');
    assert.equal(sameHostPath('//evil.example/f.ico', '/'), undefined);
    assert.equal(sameHostPath('http://10.0.0.2/f.ico', '/'), undefined);
    assert.equal(sameHostPath('data:image/png;base64,AAAA', '/'), undefined);
    assert.equal(sameHostPath('/\\evil.example/f.ico', '/'), undefined);
  });
  it('recognises the "plain HTTP to an HTTPS port" answer', () => {
    const r = parseResponse(B('HTTP/1.1 400 Bad Request\r\nServer: nginx\r\nContent-Length: 104\r\n\r\n<html><head><title>400 The plain HTTP request was sent to HTTPS port</title></head><body></body></html>\r\n'));
    const f = responseFacts(r, '/');
    assert.equal(f.tlsRequired, true);
    assert.equal(f.title, '400 The plain HTTP request was sent to HTTPS port');
    assert.equal(responseFacts(parseResponse(B('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n')), '/').tlsRequired, false);
  });
});

describe('redirects', () => {
  const base = { ip: '10.0.0.1', port: 8080, tls: false, path: '/dir/page' };
  it('resolves relative, absolute-path and absolute Locations with IP hosts', () => {
    assert.deepEqual(resolveLocation('login.htm', base), { ip: '10.0.0.1', port: 8080, tls: false, path: '/dir/login.htm', url: 'http://10.0.0.1:8080/dir/login.htm' });
    assert.deepEqual(resolveLocation('/x?y=1#frag', base), { ip: '10.0.0.1', port: 8080, tls: false, path: '/x?y=1', url: 'http://10.0.0.1:8080/x?y=1' });
    assert.deepEqual(resolveLocation('https://10.0.0.2/', base), { ip: '10.0.0.2', port: 443, tls: true, path: '/', url: 'https://10.0.0.2/' });
    assert.deepEqual(resolveLocation('http://[::1]:81/a', base), { ip: '::1', port: 81, tls: false, path: '/a', url: 'http://[::1]:81/a' });
  });
  it('normalises numeric host forms so the scope sees the address that would be dialled', () => {
    const r = resolveLocation('http://0x7f.1/', base);
    assert.ok(!('error' in r));
    assert.equal(r.ip, '127.0.0.1');
    const u = resolveLocation('http://user:pw@10.0.0.3/', base);
    assert.ok(!('error' in u) && u.url === 'http://10.0.0.3/');
  });
  it('refuses host names and other schemes', () => {
    assert.match((resolveLocation('http://camera.example/', base) as { error: string }).error, /not resolved/);
    assert.match((resolveLocation('ftp://10.0.0.1/', base) as { error: string }).error, /scheme ftp/);
    assert.match((resolveLocation('javascript:alert(1)', base) as { error: string }).error, /scheme javascript/);
    assert.match((resolveLocation('', base) as { error: string }).error, /empty/);
  });
});

describe('favicon hashes', () => {
  it('MurmurHash3 x86_32 matches the published test vectors', () => {
    const u = (x: number) => x >>> 0;
    const s = (t: string) => Buffer.from(t, 'utf8');
    // signed values as the Python mmh3 documentation shows them
    assert.equal(murmur3x86_32(s('foo')), -156908512);
    assert.equal(murmur3x86_32(s('foo'), 42), -1322301282);
    assert.equal(murmur3x86_32(s('hello')), 613153351);
    // SMHasher-style vectors (unsigned)
    const vectors: [Uint8Array, number, number][] = [
      [s(''), 0, 0],
      [s(''), 1, 0x514e28b7],
      [s(''), 0xffffffff, 0x81f16f39],
      [Buffer.from([0, 0, 0, 0]), 0, 0x2362f9de],
      [Buffer.from([0x21, 0x43, 0x65, 0x87]), 0, 0xf55b516b],
      [Buffer.from([0x21, 0x43, 0x65, 0x87]), 0x5082edee, 0x2362f9de],
      [Buffer.from([0x21, 0x43, 0x65]), 0, 0x7e4a8634],
      [Buffer.from([0x21, 0x43]), 0, 0xa0f7b07a],
      [Buffer.from([0x21]), 0, 0x72661cf4],
      [Buffer.from([0xff, 0xff, 0xff, 0xff]), 0, 0x76293b50],
      [s('aaaa'), 0x9747b28c, 0x5a97808a],
      [s('abc'), 0x9747b28c, 0xc84a62dd],
      [s('Hello, world!'), 0x9747b28c, 0x24884cba],
      [s('ππππππππ'), 0x9747b28c, 0xd58063c1],
      [s('The quick brown fox jumps over the lazy dog'), 0x9747b28c, 0x2fa826cd],
    ];
    for (const [data, seed, want] of vectors) assert.equal(u(murmur3x86_32(data, seed)), want, `${Buffer.from(data).toString('hex')} seed ${seed}`);
  });
  it('encodes base64 like Python base64.encodebytes: 76-char lines, each ending in a newline', () => {
    assert.equal(base64Lines(Buffer.alloc(0)), '');
    assert.equal(base64Lines(B('foo')), 'Zm9v\n');
    const lines = base64Lines(Buffer.alloc(100, 7)).split('\n');
    assert.deepEqual(lines.map((l) => l.length), [76, 60, 0]);
    assert.equal(lines.join(''), Buffer.alloc(100, 7).toString('base64'));
  });
  it('hashes the favicon the way Shodan does: mmh3 over the wrapped base64', () => {
    const icon = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 37) & 0xff));
    const h = faviconHashes(icon);
    assert.equal(h.mmh3, murmur3x86_32(Buffer.from(base64Lines(icon))));
    assert.notEqual(h.mmh3, murmur3x86_32(Buffer.from(icon.toString('base64'))));
    assert.match(h.sha256, /^[0-9a-f]{64}$/);
  });
});

describe('hostile input (property tests)', () => {
  const typed = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      if (!(e instanceof HttpParseError)) throw e;
    }
  };
  const httpish = fc
    .tuple(
      fc.constantFrom('HTTP/1.1 200 OK', 'HTTP/1.0 301 Moved', 'HTTP/1.1 100 Continue', 'http/1.1 401', 'HTTP/1.1 20', 'ICY 200 OK', ''),
      fc.array(fc.tuple(fc.constantFrom('Content-Length', 'Transfer-Encoding', 'Location', 'WWW-Authenticate', 'Server', ' folded', 'X'), fc.string({ maxLength: 40 })), { maxLength: 8 }),
      fc.constantFrom('\r\n', '\n'),
      fc.uint8Array({ maxLength: 300 }),
    )
    .map(([status, headers, eol, body]) =>
      Buffer.concat([B(status + eol + headers.map(([k, v]) => `${k}: ${v}`).join(eol) + eol + eol), Buffer.from(body)]),
    );
  const bytes = fc.oneof(fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a)), httpish);

  it('parseResponse returns a result or a typed error for any bytes, and caps hold', () => {
    fc.assert(
      fc.property(bytes, fc.boolean(), (buf, closed) => {
        typed(() => {
          const r = parseResponse(buf, { connectionClosed: closed, maxBodyBytes: 100 });
          assert.ok(r.body.length <= 100);
          assert.ok(Object.keys(r.head.headers).length <= HTTP_LIMITS.maxHeaders);
          responseFacts(r, '/');
        });
      }),
      { numRuns: 3000 },
    );
  });
  it('every truncation of a valid response is incomplete or complete, never an exception', () => {
    const full = B('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nWWW-Authenticate: Basic realm="x"\r\n\r\n5\r\n<titl\r\n9\r\ne>a</tit\r\n3\r\nle>\r\n0\r\n\r\n');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: full.length }), (n) => {
        const part = full.subarray(0, n);
        const state = responseCompleteness(part);
        assert.equal(state, n === full.length ? 'complete' : 'incomplete');
        typed(() => parseResponse(part));
      }),
    );
    assert.equal(responseFacts(parseResponse(full), '/').title, 'a');
  });
  it('incremental completeness agrees with one-shot completeness on any split of any input', () => {
    fc.assert(
      fc.property(bytes, fc.array(fc.nat(), { maxLength: 6 }), (buf, cuts) => {
        const c = new ResponseCompletion();
        const points = [...new Set(cuts.map((x) => x % (buf.length + 1)))].sort((a, b) => a - b);
        let last: string = 'incomplete';
        for (const p of [...points, buf.length]) {
          last = c.check(buf.subarray(0, p));
          if (last !== 'incomplete') break;
        }
        const once = responseCompleteness(buf);
        // a verdict reached on a prefix is final: the whole input must give the same one
        assert.equal(once, last);
      }),
      { numRuns: 2000 },
    );
  });
  it('the challenge, title, form, link and redirect parsers never throw and stay bounded', () => {
    const text = fc.string({ maxLength: 400, unit: fc.constantFrom('<', '>', '"', "'", '=', ',', ' ', '\\', '&', '#', ';', 'a', 'x', 'title', 'input', 'type', 'password', 'link', 'rel', 'icon', 'href', 'realm', '/', 'é', '\n') });
    fc.assert(
      fc.property(text, (s) => {
        const cs = parseChallenges(s);
        assert.ok(cs.length <= 16);
        const t = extractTitle(s);
        assert.ok(t === undefined || t.length <= HTTP_LIMITS.titleChars);
        hasPasswordInput(s);
        faviconHref(s);
        sameHostPath(s, '/a/');
        resolveLocation(s, { ip: '10.0.0.1', port: 80, tls: false, path: '/' });
      }),
      { numRuns: 3000 },
    );
  });
  it('hostile large inputs are handled in linear time', () => {
    const t0 = Date.now();
    const s = '<input '.repeat(20000) + '<title'.repeat(20000) + '<link '.repeat(20000);
    hasPasswordInput(s);
    extractTitle(s);
    faviconHref(s);
    parseChallenges('Basic realm='.repeat(5000));
    const c = new ResponseCompletion();
    const trickle = Buffer.concat([B('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'), B('1\r\nx\r\n'.repeat(20000))]);
    for (let i = 1; i <= trickle.length; i += 7) c.check(trickle.subarray(0, i));
    assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`);
  });
});
