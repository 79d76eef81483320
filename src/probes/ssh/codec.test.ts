// Stage: probes, SSH wire format. Unit tests against real formats (keys made with ssh-keygen, fingerprints as
// `ssh-keygen -l` printed them) and property tests over truncated, malformed and random input.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  type AlgorithmLists,
  MAX_PACKET,
  SshWriter,
  describeHostKey,
  encodeDisconnect,
  encodeIdent,
  encodeKexInit,
  encodeKexInitMessage,
  encodePacket,
  kexFamily,
  negotiate,
  parseDisconnect,
  parseIdent,
  parseKexInit,
  parseKexReply,
  parsePacket,
} from './codec.ts';
import { KEX_METHODS, clientKeyShare } from './kex.ts';

/** Public keys generated with ssh-keygen for these tests; sha256 and bits are what `ssh-keygen -lf` printed. */
const KEYS = [
  { type: 'ssh-rsa', blob: 'AAAAB3NzaC1yc2EAAAADAQABAAABgQCnV0owXrQwCr635yF8CQWe3Pu5fuCzq7Put/bzFYRwSm3KTDfh3IIYUa8B3lcB77I69GbdMNdh5gdLxteNdr99k8flDvhqaZZecG/Y67ReALv4wXfA9mAmEjAPcXgiBvtvL1ICqxgrd7yeraup593oD/9DuqN0hd6Yicru3MnJc6YIM4iLZC/L6f7NYN9hwZNOE50lPdpexy7Nkg42+ICCYoBBe9KYjx2c6GWyw5SE1y0yzolezrBv0UTZ+aMBqONlBkk4HybJ9nXk1LRkCjBqT4qd6w0qovESqaMLjTcNY8n2khJJAz68O/zGs9O0dX+iImvbbE7pII1wM3IOo2ZBzPLW8u+s5W/CZIJi9/Xwx77fODsvN2dSmIRiw6y4ReMQMn6fhntgoGKikJvLcakhAgQayxDYjD6aitqvHFFKvCRYlUSuTDbHVdCnuaIPpIVJ9tSS8l15yWWTSszHGZWLMfYsQoWXn3WGNJBNyHl2/UGr51fjoHcZ1ybqR8vIeRk=', sha256: 'SHA256:qubc2XEdZjEmirMTHNoIuC5ojZzZ87IxTPiWTjvs/AI', bits: 3072 },
  { type: 'ecdsa-sha2-nistp384', blob: 'AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBNuwN0UTsbVUVTjav03sVvEGbOh0EvSpBJ0mS0Wq5S+S3oa7UXfMThCr65WiKjxhpASK2c1MOV1Hu7H8wqBzwGzhd/520boegmfCcUE4djh8+2+rq1H6dqqrRrDE3SVQBw==', sha256: 'SHA256:vXJ1U9SoaIS5yi2qTqi4vE74hwn/XekpSboEKEKDlIE', bits: 384 },
  { type: 'ssh-ed25519', blob: 'AAAAC3NzaC1lZDI1NTE5AAAAIPp9KFczOfuFT7KuSHZo6fj9+18p4JSOacOnCHWl3Ean', sha256: 'SHA256:OA1HK/GrXfUuSPquTMehQrxbLPJf4LFztklyteaa8Kc', bits: 256 },
  { type: 'ssh-rsa', blob: 'AAAAB3NzaC1yc2EAAAADAQABAAAAgQCTqqm0LmXbfSbHR8ogR8pw7X8NNoFCXyKIHSH69ayDgXS9dP7d7f69TRn13q5ckN+nnqhL+dtSOQdma1RHhcpkcjN3ZxN3jiMd+FKeFyGJ8eR4COrlQ6Ls/S2RubElXiHh9kKsX5DFpKi1+4+TR2k/BrNvreYNgh7BfCkav0MV1w==', sha256: 'SHA256:MNwPgO2bZKKrknsMBRnkmRJrq+T6fVcm/zXbh/gmhpE', bits: 1024 },
];

const LISTS: AlgorithmLists = {
  kexAlgorithms: ['curve25519-sha256', 'diffie-hellman-group14-sha256'],
  hostKeyAlgorithms: ['ssh-ed25519', 'rsa-sha2-256'],
  ciphersClientToServer: ['aes128-ctr'],
  ciphersServerToClient: ['aes256-ctr', 'aes128-ctr'],
  macsClientToServer: ['hmac-sha2-256'],
  macsServerToClient: ['hmac-sha1'],
  compression: ['none'],
};

describe('parseIdent', () => {
  it('parses the dropbear identification and leaves the next bytes', () => {
    const buf = Buffer.concat([Buffer.from('SSH-2.0-dropbear_2022.83\r\n'), Buffer.from([0, 0, 1, 0xfc, 7])]);
    const r = parseIdent(buf);
    assert.equal(r.kind, 'ok');
    if (r.kind !== 'ok') return;
    assert.deepEqual(r.value, { ident: 'SSH-2.0-dropbear_2022.83', protoVersion: '2.0', software: 'dropbear_2022.83', preamble: [] });
    assert.equal(r.consumed, 26);
  });

  it('separates the comment and accepts text lines before the identification, and bare LF', () => {
    const r = parseIdent(Buffer.from('Welcome to the router\r\nauthorised use only\nSSH-1.99-OpenSSH_3.9p1 Debian-1ubuntu\n'));
    assert.equal(r.kind, 'ok');
    if (r.kind !== 'ok') return;
    assert.equal(r.value.protoVersion, '1.99');
    assert.equal(r.value.software, 'OpenSSH_3.9p1');
    assert.equal(r.value.comment, 'Debian-1ubuntu');
    assert.deepEqual(r.value.preamble, ['Welcome to the router', 'authorised use only']);
  });

  it('waits for the end of a partial line', () => {
    for (const s of ['', 'S', 'SSH-2.0-Open', 'banner line\r\nSSH-2.0']) assert.equal(parseIdent(Buffer.from(s)).kind, 'need-more', s);
  });

  it('rejects what is not an SSH identification', () => {
    for (const s of ['SSH-2.0-\r\n', 'SSH-\r\n', Buffer.from([0x16, 3, 1, 0, 0xa5, 1, 0, 0]).toString('latin1'), `SSH-2.0-${'x'.repeat(2000)}`])
      assert.equal(parseIdent(Buffer.from(s, 'latin1')).kind, 'error', JSON.stringify(s.slice(0, 20)));
    assert.equal(parseIdent(Buffer.from('line\n'.repeat(40) + 'SSH-2.0-x\r\n')).kind, 'error');
  });

  it('never throws and never claims more bytes than it got (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 600 }), fc.string({ maxLength: 300 }).map((s) => Buffer.from(s))), (b) => {
        const r = parseIdent(b);
        if (r.kind === 'ok') {
          assert.ok(r.consumed <= b.length);
          assert.ok(r.value.ident.startsWith('SSH-'));
        }
      }),
    );
  });
});

describe('encodeIdent', () => {
  it('writes a clean line of at most 255 bytes with CR LF', () => {
    assert.equal(encodeIdent('iotscope_0.1', 'iotscope/0.1 (IoT; cert@example.org)'), 'SSH-2.0-iotscope_0.1 iotscope/0.1 (IoT; cert@example.org)\r\n');
    const long = encodeIdent('iotscope_0.1', `x\r\n\x1b${'y'.repeat(400)}`);
    assert.ok(long.length <= 255);
    assert.match(long, /^SSH-2\.0-iotscope_0\.1 xy+\r\n$/);
    const r = parseIdent(Buffer.from(long));
    assert.equal(r.kind, 'ok');
  });
});

describe('binary packets', () => {
  it('frames with 4..11 bytes of padding to a multiple of 8 and reads back', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 2000 }), (payload) => {
        const pkt = encodePacket(payload);
        assert.equal(pkt.length % 8, 0);
        assert.ok(pkt[4]! >= 4 && pkt[4]! < 12);
        const r = parsePacket(pkt);
        assert.equal(r.kind, 'ok');
        if (r.kind === 'ok') {
          assert.deepEqual([...r.value], [...payload]);
          assert.equal(r.consumed, pkt.length);
        }
        // every truncation asks for more, never fails or succeeds
        for (const cut of [0, 1, 4, 5, pkt.length - 1]) if (cut < pkt.length) assert.equal(parsePacket(pkt.subarray(0, cut)).kind, 'need-more');
      }),
    );
  });

  it('rejects absurd lengths and padding at once', () => {
    const huge = Buffer.from([0x7f, 0xff, 0xff, 0xff, 4]);
    assert.equal(parsePacket(huge).kind, 'error');
    const tooBig = Buffer.alloc(5);
    tooBig.writeUInt32BE(MAX_PACKET + 1);
    assert.equal(parsePacket(tooBig).kind, 'error');
    assert.equal(parsePacket(Buffer.from([0, 0, 0, 8, 8, 0, 0, 0, 0, 0, 0, 0])).kind, 'error');
    assert.equal(parsePacket(Buffer.from([0, 0, 0, 1, 0])).kind, 'error');
  });

  it('never throws on random bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        const r = parsePacket(b);
        if (r.kind === 'ok') assert.ok(r.consumed <= b.length && r.value.length < r.consumed);
      }),
    );
  });
});

describe('KEXINIT', () => {
  it('round-trips the name-lists', () => {
    const cookie = Buffer.alloc(16, 7);
    const r = parseKexInit(encodeKexInit(LISTS, cookie));
    assert.equal(r.kind, 'ok');
    if (r.kind !== 'ok') return;
    assert.deepEqual(r.value.cookie, cookie);
    for (const k of Object.keys(LISTS) as (keyof AlgorithmLists)[]) assert.deepEqual(r.value[k], LISTS[k]);
    assert.equal(r.value.firstKexPacketFollows, false);
  });

  it('round-trips any name-lists (property)', () => {
    const name = fc.stringMatching(/^[a-z0-9@.+-]{1,30}$/);
    const list = fc.array(name, { maxLength: 12 });
    fc.assert(
      fc.property(fc.record({ kexAlgorithms: list, hostKeyAlgorithms: list, ciphersClientToServer: list, ciphersServerToClient: list, macsClientToServer: list, macsServerToClient: list, compression: list }), fc.uint8Array({ minLength: 16, maxLength: 16 }), (lists, cookie) => {
        const r = parseKexInit(encodeKexInit(lists, cookie));
        assert.equal(r.kind, 'ok');
        if (r.kind === 'ok') for (const k of Object.keys(lists) as (keyof AlgorithmLists)[]) assert.deepEqual(r.value[k], lists[k]);
      }),
    );
  });

  it('reports every truncation and random input as an error, never throws (property)', () => {
    const full = encodeKexInit(LISTS, Buffer.alloc(16));
    for (let n = 0; n < full.length; n++) assert.equal(parseKexInit(full.subarray(0, n)).kind, 'error', `cut at ${n}`);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (b) => {
        const r = parseKexInit(Buffer.concat([Buffer.from([20]), b]));
        assert.ok(r.kind === 'ok' || r.kind === 'error');
      }),
    );
  });

  it('negotiates the first client algorithm the server supports', () => {
    assert.equal(negotiate(['a', 'b', 'c'], ['c', 'b']), 'b');
    assert.equal(negotiate(['a'], ['b']), null);
    assert.equal(negotiate([], ['b']), null);
  });
});

describe('host keys', () => {
  for (const k of KEYS) {
    it(`${k.type}: type, fingerprint and size as ssh-keygen -l shows them`, () => {
      const r = describeHostKey(Buffer.from(k.blob, 'base64'));
      assert.equal(r.kind, 'ok');
      if (r.kind === 'ok') assert.deepEqual(r.value, { type: k.type, sha256: k.sha256, bits: k.bits });
    });
  }

  it('reports truncated and random key blobs as errors, never throws (property)', () => {
    const rsa = Buffer.from(KEYS[0]!.blob, 'base64');
    for (let n = 0; n < 30; n++) assert.equal(describeHostKey(rsa.subarray(0, n)).kind, 'error', `cut at ${n}`);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        const r = describeHostKey(Buffer.from(b));
        if (r.kind === 'ok') assert.match(r.value.sha256, /^SHA256:[A-Za-z0-9+/]{43}$/);
      }),
    );
  });
});

describe('key-exchange messages', () => {
  it('reads the host key out of a KEX reply, and rejects truncations', () => {
    const hostKey = Buffer.from(KEYS[2]!.blob, 'base64');
    const payload = new SshWriter().byte(31).string(hostKey).string(Buffer.alloc(32, 9)).string(Buffer.alloc(83, 1)).done();
    const r = parseKexReply(payload);
    assert.equal(r.kind, 'ok');
    if (r.kind === 'ok') assert.deepEqual(r.value.hostKey, hostKey);
    for (let n = 0; n < payload.length; n++) assert.equal(parseKexReply(payload.subarray(0, n)).kind, 'error');
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (b) => void parseKexReply(Buffer.concat([Buffer.from([31]), b]))));
  });

  it('encodes the client value as a string for ECDH and as a positive mpint for DH', () => {
    const q = Buffer.alloc(32, 0xaa);
    assert.deepEqual(encodeKexInitMessage('x25519', q), Buffer.concat([Buffer.from([30, 0, 0, 0, 32]), q]));
    const e = Buffer.from([0x80, 1]);
    assert.deepEqual(encodeKexInitMessage('dh', e), Buffer.from([30, 0, 0, 0, 3, 0, 0x80, 1]));
    assert.deepEqual(encodeKexInitMessage('dh', Buffer.from([0, 0, 0x7f])), Buffer.from([30, 0, 0, 0, 1, 0x7f]));
  });

  it('makes a public value of the right size for every method offered', () => {
    const sizes: Record<string, number> = { x25519: 32 };
    for (const m of KEX_METHODS) {
      const share = clientKeyShare(m);
      assert.ok(share, m);
      assert.equal(share.family, kexFamily(m));
      if (share.family === 'x25519') assert.equal(share.publicValue.length, sizes.x25519);
      if (m === 'ecdh-sha2-nistp256') assert.equal(share.publicValue.length, 65);
      if (m === 'ecdh-sha2-nistp521') assert.equal(share.publicValue.length, 133);
      if (m === 'diffie-hellman-group14-sha256') assert.ok(share.publicValue.length <= 256 && share.publicValue.length > 200);
    }
    assert.equal(clientKeyShare('diffie-hellman-group-exchange-sha256'), null);
  });

  it('round-trips DISCONNECT', () => {
    const r = parseDisconnect(encodeDisconnect(11, 'bye'));
    assert.deepEqual(r, { kind: 'ok', value: { reason: 11, description: 'bye' } });
    assert.equal(parseDisconnect(Buffer.from([1, 0, 0])).kind, 'error');
  });
});
