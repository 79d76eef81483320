// Stage: probes, NAT-PMP / PCP wire format. The requests byte for byte as RFC 6886 and RFC 6887 lay them out,
// replies as MiniUPnPd sends them, the cross-version "unsupported" answers, and property tests over random,
// truncated and mutated datagrams.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type GatewayReply, decodeReply, encodeAnnounceRequest, encodeExternalAddressRequest, resultName } from './codec.ts';

const reply = (hex: string): GatewayReply => {
  const d = decodeReply(Buffer.from(hex, 'hex'));
  assert.ok(d.ok, d.ok ? '' : d.error);
  return d.reply;
};

describe('NAT-PMP / PCP requests', () => {
  it('the external-address request is version 0, opcode 0, nothing else', () => {
    assert.equal(encodeExternalAddressRequest().toString('hex'), '0000');
  });

  it('ANNOUNCE is 24 bytes: version 2, opcode 0, lifetime 0, the client address', () => {
    assert.equal(encodeAnnounceRequest().toString('hex'), '02000000' + '00000000' + '00000000000000000000ffff00000000');
    const mine = encodeAnnounceRequest(Buffer.from('00000000000000000000ffff0ad50001', 'hex'));
    assert.equal(mine.subarray(8).toString('hex'), '00000000000000000000ffff0ad50001');
    assert.throws(() => encodeAnnounceRequest(Buffer.alloc(4)), RangeError);
  });

  it('our own requests do not decode as replies', () => {
    assert.equal(decodeReply(encodeExternalAddressRequest()).ok, false);
    assert.equal(decodeReply(encodeAnnounceRequest()).ok, false);
  });
});

describe('NAT-PMP / PCP replies', () => {
  it('MiniUPnPd refusing a private external address: NETWORK_FAILURE, epoch, address field zero', () => {
    const r = reply('0080000300000aa900000000');
    assert.deepEqual(r, { protocol: 'nat-pmp', version: 0, opcode: 0, resultCode: 3, epoch: 0xaa9, externalAddress: '0.0.0.0' });
    assert.equal(resultName(r), 'NETWORK_FAILURE');
  });

  it('a successful external-address reply carries the public address', () => {
    assert.deepEqual(reply('0080000000012345cb007107'), { protocol: 'nat-pmp', version: 0, opcode: 0, resultCode: 0, epoch: 0x12345, externalAddress: '203.0.113.7' });
  });

  it('the 8-byte "unsupported version" a NAT-PMP server gives a PCP request', () => {
    const r = reply('0080000100000010');
    assert.deepEqual(r, { protocol: 'nat-pmp', version: 0, opcode: 0, resultCode: 1, epoch: 16 });
    assert.equal(resultName(r), 'UNSUPPORTED_VERSION');
  });

  it('a PCP ANNOUNCE reply as MiniUPnPd sends it', () => {
    const r = reply('028000000000000000000b28000000000000000000000000');
    assert.deepEqual(r, { protocol: 'pcp', version: 2, opcode: 0, resultCode: 0, lifetime: 0, epoch: 0xb28 });
    assert.equal(resultName(r), 'SUCCESS');
    assert.equal(resultName({ ...r, resultCode: 12 }), 'ADDRESS_MISMATCH');
    assert.equal(resultName({ ...r, resultCode: 200 }), 'RESULT200');
  });

  it('short, request-shaped, odd-length and unknown-version datagrams are errors', () => {
    for (const hex of ['', '00', '0080', '00800000000000', '0280000000', '02000000' + '00'.repeat(20), '0280000000000000000000000000000000000000000000', '0380000000000000000000000000000000000000000000', '48656c6c6f']) {
      const d = decodeReply(Buffer.from(hex, 'hex'));
      assert.equal(d.ok, false, hex);
    }
  });
});

describe('NAT-PMP / PCP decoder properties', () => {
  const check = (b: Uint8Array) => {
    const d = decodeReply(b);
    if (d.ok) {
      assert.ok(b.length >= 8);
      assert.ok(d.reply.resultCode >= 0 && d.reply.resultCode <= 0xffff);
      if (d.reply.protocol === 'pcp') assert.ok(b.length >= 24 && b.length % 4 === 0);
    } else assert.equal(typeof d.error, 'string');
  };

  it('random bytes: a reply or a typed error, never a throw', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 1200 }), check), { numRuns: 3000 });
    fc.assert(fc.property(fc.constantFrom(0, 1, 2), fc.uint8Array({ maxLength: 64 }), (v, rest) => check(Buffer.from([v, ...rest]))), { numRuns: 3000 });
  });

  it('truncated and mutated real replies: a reply or a typed error, never a throw', () => {
    const valid = ['0080000300000aa900000000', '0080000000012345cb007107', '028000000000000000000b28000000000000000000000000'];
    fc.assert(
      fc.property(fc.constantFrom(...valid), fc.nat(), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 4 }), (hex, cut, flips) => {
        const b = Buffer.from(hex, 'hex');
        check(b.subarray(0, cut % (b.length + 1)));
        for (const [at, v] of flips) b[at % b.length] = v;
        check(b);
      }),
    );
  });
});
