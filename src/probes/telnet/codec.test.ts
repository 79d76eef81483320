// Stage: probes, telnet wire format. Unit tests of the IAC parser, the negotiation policy and prompt detection,
// and property tests over random, truncated and malformed streams.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DO, DONT, IAC, Negotiator, OPT_ECHO, OPT_NAWS, OPT_SGA, OPT_TTYPE, SB, SE, WILL, WONT, detectPrompts, looksForeign, looksLikeTelnet, parseTelnet } from './codec.ts';

// What BusyBox telnetd sends first (seen on the testbed): DO ECHO, DO NAWS, WILL ECHO, WILL SGA, then text.
const BUSYBOX = Buffer.concat([Buffer.from([IAC, DO, 1, IAC, DO, 31, IAC, WILL, 1, IAC, WILL, 3]), Buffer.from('\r\r\n\r\r\n\ripcam login: ')]);

describe('parseTelnet', () => {
  it('splits a BusyBox greeting into options and text', () => {
    const p = parseTelnet(BUSYBOX);
    assert.deepEqual(p.events, [
      { kind: 'option', verb: 'do', option: OPT_ECHO },
      { kind: 'option', verb: 'do', option: OPT_NAWS },
      { kind: 'option', verb: 'will', option: OPT_ECHO },
      { kind: 'option', verb: 'will', option: OPT_SGA },
    ]);
    assert.equal(p.text.toString('latin1'), '\r\r\n\r\r\n\ripcam login: ');
    assert.equal(p.rest.length, 0);
  });

  it('unescapes IAC IAC to one 255 data byte', () => {
    const p = parseTelnet(Buffer.from([0x41, IAC, IAC, 0x42]));
    assert.deepEqual([...p.text], [0x41, 0xff, 0x42]);
    assert.equal(p.events.length, 0);
  });

  it('reads a subnegotiation with an escaped IAC inside', () => {
    const p = parseTelnet(Buffer.from([IAC, SB, OPT_TTYPE, 1, IAC, IAC, 7, IAC, SE, 0x58]));
    assert.deepEqual(p.events, [{ kind: 'subnegotiation', option: OPT_TTYPE, data: Buffer.from([1, IAC, 7]) }]);
    assert.equal(p.text.toString(), 'X');
  });

  it('keeps an incomplete trailing command for the next read', () => {
    const cases: [number[], number[], number][] = [
      [[IAC], [WONT, 5], 1],
      [[IAC, DO], [5], 1],
      [[IAC, SB, OPT_TTYPE, 1], [IAC, SE], 1],
      [[IAC, SB, OPT_TTYPE, 1, IAC], [SE], 1],
    ];
    for (const [tail, completion, events] of cases) {
      const p = parseTelnet(Buffer.from([0x61, ...tail]));
      assert.equal(p.text.toString(), 'a');
      assert.deepEqual([...p.rest], tail);
      const joined = parseTelnet(Buffer.concat([p.rest, Buffer.from(completion)]));
      assert.equal(joined.rest.length, 0);
      assert.equal(joined.events.length, events);
      assert.equal(joined.text.length, 0);
    }
  });

  it('reports other two-byte commands (GA, NOP)', () => {
    const p = parseTelnet(Buffer.from([IAC, 249, IAC, 241, 0x7a]));
    assert.deepEqual(p.events, [
      { kind: 'command', code: 249 },
      { kind: 'command', code: 241 },
    ]);
    assert.equal(p.text.toString(), 'z');
  });

  it('drops an unterminated subnegotiation once it is implausibly long', () => {
    const p = parseTelnet(Buffer.concat([Buffer.from([IAC, SB, 99]), Buffer.alloc(5000, 0x41)]));
    assert.equal(p.rest.length, 0);
    assert.equal(p.events.length, 0);
  });
});

describe('Negotiator', () => {
  it('accepts server echo and SGA, refuses everything else, answers each change once', () => {
    const n = new Negotiator();
    assert.deepEqual([...n.answer('do', OPT_ECHO)], [IAC, WONT, OPT_ECHO]);
    assert.deepEqual([...n.answer('do', OPT_NAWS)], [IAC, WONT, OPT_NAWS]);
    assert.deepEqual([...n.answer('will', OPT_ECHO)], [IAC, DO, OPT_ECHO]);
    assert.deepEqual([...n.answer('will', OPT_SGA)], [IAC, DO, OPT_SGA]);
    assert.deepEqual([...n.answer('do', OPT_SGA)], [IAC, WILL, OPT_SGA]);
    assert.deepEqual([...n.answer('will', 200)], [IAC, DONT, 200]);
    // repeats are not answered again: no negotiation loops
    assert.equal(n.answer('do', OPT_NAWS).length, 0);
    assert.equal(n.answer('will', OPT_ECHO).length, 0);
    assert.equal(n.answer('wont', 200).length, 0);
    // the server withdrawing an option we accepted is acknowledged
    assert.deepEqual([...n.answer('wont', OPT_ECHO)], [IAC, DONT, OPT_ECHO]);
    assert.deepEqual(n.seen, { do: [OPT_ECHO, OPT_NAWS, OPT_SGA], dont: [], will: [OPT_ECHO, OPT_SGA, 200], wont: [200, OPT_ECHO] });
  });

  it('never answers more than twice per option, whatever the server sends', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('do' as const, 'dont' as const, 'will' as const, 'wont' as const), fc.integer({ min: 0, max: 3 })), { maxLength: 200 }), (cmds) => {
        const n = new Negotiator();
        let sent = 0;
        for (const [v, o] of cmds) sent += n.answer(v, o).length / 3;
        // each option has two sides; each side's state flips at most once per distinct server wish, and the policy
        // is fixed, so at most 2 answers per side can ever differ
        assert.ok(sent <= 4 * 4);
      }),
    );
  });
});

describe('detectPrompts', () => {
  const cases: [string, Partial<ReturnType<typeof detectPrompts>>][] = [
    ['\r\nipcam login: ', { loginPrompt: true }],
    ['User Access Verification\r\n\r\nUsername: ', { loginPrompt: true }],
    ['Password: ', { passwordPrompt: true }],
    ['login: root\r\nPassword:', { passwordPrompt: true }],
    ['\r\n\r\nBusyBox v1.35.0 built-in shell (ash)\r\n\r\n~ # ', { shellPrompt: true }],
    ['root@OpenWrt:~$ ', { shellPrompt: true }],
    ['# ', { shellPrompt: true }],
    ['\x1b[1;32mRouterOS>\x1b[0m ', { shellPrompt: true }],
    ['Welcome to the device. Have a nice day.\r\n', {}],
    ['', {}],
  ];
  for (const [text, want] of cases) {
    it(JSON.stringify(text), () => {
      assert.deepEqual(detectPrompts(text), { loginPrompt: false, passwordPrompt: false, shellPrompt: false, ...want });
    });
  }
});

describe('looksLikeTelnet', () => {
  it('recognises option negotiation and login prompts, not other greetings', () => {
    assert.equal(looksLikeTelnet(BUSYBOX), true);
    assert.equal(looksLikeTelnet(Buffer.from('\r\nOpenWrt login: ')), true);
    assert.equal(looksLikeTelnet(Buffer.from('SSH-2.0-dropbear_2022.83\r\n')), false);
    assert.equal(looksLikeTelnet(Buffer.from('220 (vsFTPd 3.0.3)\r\n')), false);
    assert.equal(looksLikeTelnet(Buffer.from([IAC, IAC, 0x41])), false);
    assert.equal(looksLikeTelnet(Buffer.alloc(0)), false);
  });
});

describe('parseTelnet properties', () => {
  const telnetish = fc.array(
    fc.oneof(
      fc.uint8Array({ maxLength: 20 }),
      fc.constantFrom(...[DO, DONT, WILL, WONT, SB, SE, IAC, 249].map((c) => Uint8Array.from([IAC, c]))),
      fc.integer({ min: 0, max: 255 }).map((o) => Uint8Array.from([IAC, SB, o])),
    ),
    { maxLength: 40 },
  ).map((parts) => Buffer.concat(parts));

  it('never throws, consumes a prefix, and keeps at most an incomplete command', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 400 }), telnetish), (buf) => {
        const p = parseTelnet(buf);
        assert.ok(p.text.length <= buf.length);
        assert.ok(p.rest.length <= buf.length);
        if (p.rest.length) assert.equal(p.rest[0], IAC);
        assert.deepEqual([...p.rest], [...buf.subarray(buf.length - p.rest.length)]);
      }),
    );
  });

  it('gives the same result whether the stream arrives whole or split at any point', () => {
    fc.assert(
      fc.property(telnetish, fc.nat(), (buf, at) => {
        const cut = buf.length ? at % (buf.length + 1) : 0;
        const whole = parseTelnet(buf);
        const first = parseTelnet(buf.subarray(0, cut));
        const second = parseTelnet(Buffer.concat([first.rest, buf.subarray(cut)]));
        assert.deepEqual(Buffer.concat([first.text, second.text]), whole.text);
        assert.deepEqual([...first.events, ...second.events], whole.events);
        assert.deepEqual(second.rest, whole.rest);
      }),
    );
  });

  it('round-trips data with escaped 255 bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (data) => {
        const escaped: number[] = [];
        for (const b of data) escaped.push(...(b === IAC ? [IAC, IAC] : [b]));
        const p = parseTelnet(Buffer.from(escaped));
        assert.deepEqual([...p.text], [...data]);
        assert.equal(p.events.length, 0);
      }),
    );
  });

  it('detectPrompts and looksLikeTelnet accept any input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), fc.uint8Array({ maxLength: 300 }), (s, b) => {
        const p = detectPrompts(s);
        assert.ok(!(p.loginPrompt && p.passwordPrompt));
        assert.equal(typeof looksLikeTelnet(b), 'boolean');
      }),
    );
  });
});

describe('looksForeign', () => {
  it('spots the greetings of other protocols, not telnet text', () => {
    for (const s of ['SSH-2.0-dropbear\r\n', 'HTTP/1.0 400 Bad Request', '220 (vsFTPd 3.0.3)', 'RTSP/1.0 200 OK', '<?xml version="1.0"?>']) assert.equal(looksForeign(Buffer.from(s)), true, s);
    for (const s of ['\r\nipcam login: ', 'Welcome to BusyBox', '']) assert.equal(looksForeign(Buffer.from(s)), false, s);
    assert.equal(looksForeign(BUSYBOX), false);
  });
});
