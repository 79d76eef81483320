// Stage: probes, SNMP wire format. Known BER encodings, a round trip with the real Net-SNMP client (snmpget sends
// its GetRequest to a loopback socket, we decode it and answer, snmpget prints what it understood), and property
// tests over random, mutated and truncated datagrams.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import fc from 'fast-check';
import {
  BER_LIMITS,
  BerError,
  SNMP_V1,
  SNMP_V2C,
  SYSTEM_OIDS,
  type SnmpValue,
  TAG,
  decodeBer,
  decodeInteger,
  decodeMessage,
  decodeOid,
  encodeGetRequest,
  encodeInteger,
  encodeIntegerContent,
  encodeLength,
  encodeMessage,
  encodeOid,
  tlv,
} from './codec.ts';

const hasSnmpget = await promisify(execFile)('snmpget', ['--version']).then(
  () => true,
  () => false,
);

describe('BER encoding', () => {
  it('a v2c GetRequest for sysDescr.0 is byte for byte the textbook message', () => {
    const bytes = encodeGetRequest({ version: SNMP_V2C, community: 'public', requestId: 1, oids: [SYSTEM_OIDS.sysDescr] });
    assert.equal(bytes.toString('hex'), '3026020101040670756' + '26c6963a019020101020100020100300e300c06082b060102010101000500');
  });

  it('lengths: short form below 128, long form above', () => {
    assert.deepEqual([...encodeLength(0x7f)], [0x7f]);
    assert.deepEqual([...encodeLength(0x80)], [0x81, 0x80]);
    assert.deepEqual([...encodeLength(300)], [0x82, 0x01, 0x2c]);
    assert.deepEqual([...encodeLength(70_000)], [0x83, 0x01, 0x11, 0x70]);
    const long = tlv(TAG.OCTET_STRING, Buffer.alloc(300, 0x61));
    assert.equal(decodeBer(long).value.length, 300);
  });

  it('integers: minimal two’s complement', () => {
    const cases: [number | bigint, string][] = [
      [0, '00'],
      [127, '7f'],
      [128, '0080'],
      [-1, 'ff'],
      [-128, '80'],
      [-129, 'ff7f'],
      [0x7fffffff, '7fffffff'],
      [2n ** 64n - 1n, '00ffffffffffffffff'],
    ];
    for (const [v, h] of cases) assert.equal(encodeIntegerContent(v).toString('hex'), h, String(v));
  });

  it('OIDs: first two arcs folded, base-128 arcs, large arcs', () => {
    assert.equal(encodeOid('1.3.6.1.4.1.8072.3.2.10').toString('hex'), '060a2b06010401bf0803020a');
    assert.equal(encodeOid('.1.3.6.1.2.1.1.5.0').toString('hex'), '06082b06010201010500');
    assert.equal(decodeOid(decodeBer(encodeOid('2.999.3'))), '2.999.3');
    assert.equal(decodeOid(decodeBer(encodeOid('1.3.6.1.4.1.4294967295.18446744073709551616'))), '1.3.6.1.4.1.4294967295.18446744073709551616');
    assert.throws(() => encodeOid('1.40'), RangeError);
    assert.throws(() => encodeOid('1.3.x'), RangeError);
  });

  it('round-trips integers and OIDs (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }), (v) => {
        const d = decodeInteger(decodeBer(encodeInteger(v)));
        assert.equal(BigInt(d), v);
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 39 }), fc.array(fc.bigInt({ min: 0n, max: 2n ** 70n }), { maxLength: 20 }), (a, b, rest) => {
        const oid = [a, b, ...rest].join('.');
        assert.equal(decodeOid(decodeBer(encodeOid(oid))), oid);
      }),
    );
  });
});

describe('BER decoding of hostile input', () => {
  it('refuses indefinite lengths, oversize lengths, trailing bytes, multi-byte tags', () => {
    for (const h of ['3080', '04850100000000', '0401410000', '1f0100', '3005020101', '04', ''])
      assert.throws(() => decodeBer(Buffer.from(h, 'hex')), BerError, h);
  });

  it('bounds nesting depth and element count', () => {
    let deep: Buffer = tlv(TAG.NULL, Buffer.alloc(0));
    for (let i = 0; i < BER_LIMITS.maxDepth + 2; i++) deep = tlv(TAG.SEQUENCE, deep);
    assert.throws(() => decodeBer(deep), /nesting deeper/);
    const wide = tlv(TAG.SEQUENCE, Buffer.concat(Array.from({ length: BER_LIMITS.maxElements + 1 }, () => tlv(TAG.NULL, Buffer.alloc(0)))));
    assert.throws(() => decodeBer(wide), /more than/);
  });

  it('a response message decodes into typed values', () => {
    const values: SnmpValue[] = [
      { type: 'string', value: Buffer.from('Linux router') },
      { type: 'oid', value: '1.3.6.1.4.1.8072.3.2.10' },
      { type: 'timeticks', value: 4_294_967_295 },
      { type: 'counter64', value: 2n ** 64n - 1n },
      { type: 'ipaddress', value: '10.0.0.1' },
      { type: 'noSuchObject' },
      { type: 'gauge32', value: 0 },
    ];
    const bytes = encodeMessage({
      version: SNMP_V2C,
      community: Buffer.from('public'),
      pduType: TAG.GET_RESPONSE,
      requestId: 77,
      errorStatus: 0,
      errorIndex: 0,
      varbinds: values.map((value, i) => ({ oid: `1.3.6.1.2.1.1.${i + 1}.0`, value })),
    });
    const d = decodeMessage(bytes);
    assert.ok(d.ok);
    if (!d.ok) return;
    assert.equal(d.message.requestId, 77);
    assert.equal(d.message.pduType, TAG.GET_RESPONSE);
    assert.deepEqual(
      d.message.varbinds.map((v) => v.value),
      values,
    );
  });

  it('never throws and never faults on random, mutated or truncated messages (property)', () => {
    const valid = fc
      .tuple(fc.constantFrom(SNMP_V1, SNMP_V2C), fc.string({ maxLength: 12 }), fc.integer({ min: 0, max: 0x7fffffff }), fc.subarray(Object.values(SYSTEM_OIDS), { minLength: 1 }))
      .map(([version, community, requestId, oids]) => encodeGetRequest({ version, community, requestId, oids }));
    const mutated = fc.tuple(valid, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([b, at, v]) => {
      const c = Buffer.from(b);
      c[at % c.length] = v;
      return c;
    });
    const truncated = fc.tuple(valid, fc.nat()).map(([b, at]) => b.subarray(0, at % b.length));
    fc.assert(
      fc.property(fc.oneof(valid, mutated, truncated, fc.uint8Array({ maxLength: 120 }).map((u) => Buffer.from(u))), (buf) => {
        const d = decodeMessage(buf);
        if (!d.ok) {
          assert.ok(d.error instanceof BerError);
          assert.doesNotMatch(d.error.message, /decoder fault/);
        }
      }),
      { numRuns: 3000 },
    );
    fc.assert(
      fc.property(valid, (b) => {
        for (let k = 0; k < b.length; k++) assert.equal(decodeMessage(b.subarray(0, k)).ok, false);
        assert.equal(decodeMessage(b).ok, true);
      }),
      { numRuns: 100 },
    );
  });
});

describe('round trip with the Net-SNMP client', () => {
  it('snmpget’s GetRequest decodes, and snmpget reads our GetResponse', async (t) => {
    if (!hasSnmpget) {
      if (process.env.CI) throw new Error('snmpget (Debian package snmp) is needed under CI');
      t.skip('snmpget not installed (Debian package snmp)');
      return;
    }
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    const port = sock.address().port;
    const seen: ReturnType<typeof decodeMessage>[] = [];
    sock.on('message', (msg, rinfo) => {
      const d = decodeMessage(msg);
      seen.push(d);
      if (!d.ok) return;
      const answer: Record<string, SnmpValue> = {
        [SYSTEM_OIDS.sysDescr]: { type: 'string', value: Buffer.from('Lab device "x" v1') },
        [SYSTEM_OIDS.sysObjectID]: { type: 'oid', value: '1.3.6.1.4.1.8072.3.2.10' },
        [SYSTEM_OIDS.sysUpTime]: { type: 'timeticks', value: 173493 },
        '1.3.6.1.2.1.31.1.1.1.6.1': { type: 'counter64', value: 2n ** 40n + 5n },
      };
      const reply = encodeMessage({ ...d.message, pduType: TAG.GET_RESPONSE, varbinds: d.message.varbinds.map((v) => ({ oid: v.oid, value: answer[v.oid] ?? { type: 'noSuchObject' } })) });
      sock.send(reply, rinfo.port, rinfo.address);
    });
    try {
      const { stdout } = await promisify(execFile)('snmpget', ['-On', '-t', '2', '-r', '0', '-v2c', '-c', 'public', `127.0.0.1:${port}`, SYSTEM_OIDS.sysDescr, SYSTEM_OIDS.sysObjectID, SYSTEM_OIDS.sysUpTime, '1.3.6.1.2.1.31.1.1.1.6.1', SYSTEM_OIDS.sysName]);
      const first = seen[0]!;
      assert.ok(first.ok);
      if (!first.ok) return;
      assert.equal(first.message.version, SNMP_V2C);
      assert.equal(first.message.community.toString(), 'public');
      assert.equal(first.message.pduType, TAG.GET_REQUEST);
      assert.deepEqual(
        first.message.varbinds.map((v) => [v.oid, v.value.type]),
        [SYSTEM_OIDS.sysDescr, SYSTEM_OIDS.sysObjectID, SYSTEM_OIDS.sysUpTime, '1.3.6.1.2.1.31.1.1.1.6.1', SYSTEM_OIDS.sysName].map((o) => [o, 'null']),
      );
      assert.match(stdout, /\.1\.3\.6\.1\.2\.1\.1\.1\.0 = STRING: "Lab device \\?"x\\?" v1"/);
      assert.match(stdout, /\.1\.3\.6\.1\.2\.1\.1\.2\.0 = OID: \.1\.3\.6\.1\.4\.1\.8072\.3\.2\.10/);
      assert.match(stdout, /\.1\.3\.6\.1\.2\.1\.1\.3\.0 = Timeticks: \(173493\) 0:28:54\.93/);
      assert.match(stdout, /\.1\.3\.6\.1\.2\.1\.31\.1\.1\.1\.6\.1 = Counter64: 1099511627781/);
      assert.match(stdout, /\.1\.3\.6\.1\.2\.1\.1\.5\.0 = No Such Object/);
    } finally {
      sock.close();
    }
  });
});
