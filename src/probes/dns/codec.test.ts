// Stage: probes, DNS wire format. Known encodings, hand-built hostile names (pointer loops, forward pointers,
// pointers past the end, endless chains), a round trip with the real BIND dig (it queries a loopback socket, we
// decode its question and answer, dig prints what it understood), and property tests over random, mutated and
// truncated messages.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import fc from 'fast-check';
import {
  CLASS,
  DNS_LIMITS,
  type DnsMessage,
  type DnsRecord,
  TYPE,
  decodeHeader,
  decodeMessage,
  encodeMessage,
  encodeQuery,
  formatIpv6,
  nameToString,
  parseName,
  reverseName,
  sameName,
} from './codec.ts';

const hasDig = await promisify(execFile)('dig', ['-v']).then(
  () => true,
  () => false,
);

/** header with the given counts, then the body bytes */
function message(counts: [number, number, number, number], body: number[], flags = 0x8400): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(0x1234, 0);
  h.writeUInt16BE(flags, 2);
  counts.forEach((c, i) => h.writeUInt16BE(c, 4 + 2 * i));
  return Buffer.concat([h, Buffer.from(body)]);
}

function mustDecode(b: Buffer): DnsMessage {
  const d = decodeMessage(b);
  assert.ok(d.ok, d.ok ? '' : d.error);
  return d.message;
}

describe('DNS encoding', () => {
  it('the version.bind CHAOS TXT query is the textbook message', () => {
    const q = encodeQuery(0xbeef, [{ name: ['version', 'bind'], type: TYPE.TXT, class: CLASS.CH }]);
    assert.equal(q.toString('hex'), 'beef00000001000000000000' + '0776657273696f6e0462696e6400' + '0010' + '0003');
  });

  it('RD and the mDNS QU bit land where RFC 1035 and RFC 6762 put them', () => {
    const q = encodeQuery(1, [{ name: parseName('a.invalid'), type: TYPE.A, class: CLASS.IN }], { rd: true });
    assert.equal(q.readUInt16BE(2), 0x0100);
    const qu = encodeQuery(2, [{ name: parseName('_services._dns-sd._udp.local'), type: TYPE.PTR, class: CLASS.IN, unicastResponse: true }]);
    assert.equal(qu.readUInt16BE(qu.length - 2), 0x8001);
    const back = mustDecode(qu).questions[0]!;
    assert.deepEqual(back, { name: ['_services', '_dns-sd', '_udp', 'local'], type: TYPE.PTR, class: CLASS.IN, unicastResponse: true });
  });

  it('compression points repeated suffixes at their first occurrence and shortens the message', () => {
    const name = parseName('_http._tcp.local');
    const rec: DnsRecord = { name, type: TYPE.PTR, class: CLASS.IN, ttl: 10, data: { kind: 'PTR', target: ['My Printer', ...name] } };
    const m = { header: { id: 7, qr: true, aa: true }, questions: [{ name, type: TYPE.PTR, class: CLASS.IN }], answers: [rec] };
    const plain = encodeMessage(m);
    const packed = encodeMessage(m, { compress: true });
    assert.ok(packed.length < plain.length);
    // the answer's owner name is a pointer to offset 12, where the question's name starts
    assert.equal(packed.readUInt16BE(12 + 18 + 4), 0xc00c);
    assert.deepEqual(mustDecode(packed), mustDecode(plain));
    assert.deepEqual(mustDecode(packed).answers[0]!.data, { kind: 'PTR', target: ['My Printer', '_http', '_tcp', 'local'] });
  });

  it('refuses names and labels DNS cannot carry', () => {
    assert.throws(() => encodeQuery(1, [{ name: ['x'.repeat(64)], type: 1, class: 1 }]), RangeError);
    assert.throws(() => encodeQuery(1, [{ name: Array(5).fill('y'.repeat(60)), type: 1, class: 1 }]), RangeError);
  });
});

describe('DNS names as text', () => {
  it('dots and backslashes inside a label survive the text form', () => {
    assert.deepEqual(parseName('Cam\\.1 (Hall)._http._tcp.local.'), ['Cam.1 (Hall)', '_http', '_tcp', 'local']);
    assert.equal(nameToString(['a.b', 'c\\d', 'e']), 'a\\.b.c\\\\d.e');
    assert.deepEqual(parseName(''), []);
    assert.deepEqual(parseName('.'), []);
    assert.ok(sameName(parseName('SmartHub.LOCAL'), parseName('smarthub.local')));
    assert.ok(!sameName(parseName('smarthub.local'), parseName('smarthub.lan')));
  });

  it('text form and labels round-trip (property)', () => {
    const label = fc.string({ minLength: 1, maxLength: 12 });
    fc.assert(fc.property(fc.array(label, { maxLength: 6 }), (labels) => assert.deepEqual(parseName(nameToString(labels)), labels)));
  });

  it('reverse names for IPv4 and IPv6', () => {
    assert.equal(nameToString(reverseName('10.213.0.30')!), '30.0.213.10.in-addr.arpa');
    assert.equal(nameToString(reverseName('2001:db8::1')!), '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa');
    assert.equal(reverseName('host.example'), null);
    assert.equal(reverseName('1::2::3'), null);
  });

  it('IPv6 text is RFC 5952: the longest zero run of two or more groups shortened', () => {
    const f = (h: string) => formatIpv6(Buffer.from(h, 'hex'));
    assert.equal(f('00000000000000000000000000000001'), '::1');
    assert.equal(f('20010db8000000000000000000000001'), '2001:db8::1');
    assert.equal(f('fe800000000000000000000000000000'), 'fe80::');
    assert.equal(f('00010000000000010000000000000001'), '1:0:0:1::1');
    assert.equal(f('00010000000200030004000500060007'), '1:0:2:3:4:5:6:7');
    assert.equal(f('00000000000000000000000000000000'), '::');
  });
});

describe('DNS decoding', () => {
  it('reads a dnsmasq-style REFUSED answer with RA set and an EDNS OPT record', () => {
    const m = mustDecode(
      // header, the question, then OPT: root name, type 41, UDP size 1232, ttl 0, one Extended DNS Error (14)
      Buffer.from('a84281850001000000000001' + '0e696f7473636f70652d70726f626507696e76616c69640000010001' + '00' + '0029' + '04d0' + '00000000' + '0006' + '000f0002000e', 'hex'),
    );
    assert.equal(m.header.rcode, 5);
    assert.ok(m.header.qr && m.header.rd && m.header.ra && !m.header.aa);
    assert.deepEqual(m.questions[0]!.name, ['iotscope-probe', 'invalid']);
    const opt = m.additionals[0]!;
    assert.equal(opt.type, TYPE.OPT);
    assert.equal(opt.class, 1232, 'an OPT record keeps its UDP size whole, top bit included');
    assert.equal(opt.cacheFlush, undefined);
  });

  it('reads TXT, SRV, A, AAAA and PTR records, with the mDNS cache-flush bit', () => {
    const inst = ['Smart Hub', '_mqtt', '_tcp', 'local'];
    const host = ['smarthub-4f2a', 'local'];
    const records: DnsRecord[] = [
      { name: inst.slice(1), type: TYPE.PTR, class: 1, ttl: 4500, data: { kind: 'PTR', target: inst } },
      { name: inst, type: TYPE.TXT, class: 1, cacheFlush: true, ttl: 4500, data: { kind: 'TXT', strings: [Buffer.from('model=LabHub-1'), Buffer.alloc(0), Buffer.from('fw=2.4.1')] } },
      { name: inst, type: TYPE.SRV, class: 1, cacheFlush: true, ttl: 120, data: { kind: 'SRV', priority: 0, weight: 0, port: 1883, target: host } },
      { name: host, type: TYPE.A, class: 1, cacheFlush: true, ttl: 120, data: { kind: 'A', address: '10.213.0.30' } },
      { name: host, type: TYPE.AAAA, class: 1, cacheFlush: true, ttl: 120, data: { kind: 'AAAA', address: 'fe80::ba27:ebff:fe4f:2a30' } },
      { name: host, type: 99, class: 1, ttl: 1, data: { kind: 'other', bytes: Buffer.from('opaque') } },
    ];
    const m = mustDecode(encodeMessage({ header: { id: 9, qr: true, aa: true }, answers: records.slice(0, 1), additionals: records.slice(1) }, { compress: true }));
    assert.deepEqual([...m.answers, ...m.additionals], records);
  });

  it('a name that points at itself, forwards, or past the end is an error, not a loop', () => {
    const q = (name: number[]) => message([1, 0, 0, 0], [...name, 0, 1, 0, 1], 0);
    const self = decodeMessage(q([0xc0, 12]));
    assert.ok(!self.ok && /backwards/.test(self.error), JSON.stringify(self));
    const forward = decodeMessage(q([0xc0, 14, 0]));
    assert.ok(!forward.ok && /backwards/.test(forward.error));
    // a record whose owner points to a later pointer that points back to it: the second hop is forwards
    const mutual = decodeMessage(message([1, 1, 0, 0], [0, 0, 1, 0, 1, 0xc0, 29, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 17, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0]));
    assert.ok(!mutual.ok);
    const past = decodeMessage(message([0, 1, 0, 0], [0xc0, 0xff, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0]));
    assert.ok(!past.ok && /backwards/.test(past.error));
    const cut = decodeMessage(message([0, 1, 0, 0], [5, 0x61, 0x62, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
    assert.ok(!cut.ok);
    const reserved = decodeMessage(q([0x40, 0x61]));
    assert.ok(!reserved.ok && /reserved label type/.test(reserved.error));
  });

  it('a chain of backward pointers is cut after the hop limit', () => {
    // question: the root name at byte 12. Record 1 (type 99, opaque) carries 40 pointers from byte 28 on, each to
    // the one before it (the first to byte 12); record 2's owner name is a pointer to the last of them.
    const pointers: number[] = [];
    let prev = 12;
    for (let i = 0; i < 40; i++) {
      pointers.push(0xc0 | (prev >> 8), prev & 0xff);
      prev = 28 + 2 * i;
    }
    const body = [0, 0, 1, 0, 1, 0, 0, 99, 0, 1, 0, 0, 0, 0, 0, pointers.length, ...pointers, 0xc0 | (prev >> 8), prev & 0xff, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4];
    const d = decodeMessage(message([1, 2, 0, 0], body, 0));
    assert.ok(!d.ok && new RegExp(`more than ${DNS_LIMITS.maxPointerHops}`).test(d.error), JSON.stringify(d));
    // the same with a short chain decodes
    const short = [0, 0, 1, 0, 1, 0, 0, 99, 0, 1, 0, 0, 0, 0, 0, 6, ...pointers.slice(0, 6), 0xc0, 32, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4];
    assert.deepEqual(mustDecode(message([1, 2, 0, 0], short, 0)).answers[1]!.name, []);
  });

  it('a name longer than 255 bytes through pointers is refused', () => {
    const labels = Array(5).fill('z'.repeat(60)) as string[];
    const body: number[] = [];
    for (const l of labels.slice(0, 4)) body.push(l.length, ...Buffer.from(l));
    body.push(0, 0, 1, 0, 1);
    // second question: one more 60-byte label, then a pointer to the first name (4 × 61 + 1 bytes)
    body.push(60, ...Buffer.from(labels[4]!), 0xc0, 12, 0, 1, 0, 1);
    const d = decodeMessage(message([2, 0, 0, 0], body, 0));
    assert.ok(!d.ok && /longer than 255/.test(d.error));
  });

  it('huge counts are refused at once, with the header still reported', () => {
    const d = decodeMessage(message([0xffff, 0xffff, 0xffff, 0xffff], []));
    assert.ok(!d.ok);
    assert.equal(d.header?.id, 0x1234);
    const d2 = decodeMessage(message([0, 40, 0, 0], Array(100).fill(0)));
    assert.ok(!d2.ok && /counts announce/.test(d2.error));
    assert.equal(decodeHeader(Buffer.alloc(11)), null);
  });

  it('record data must fill its length exactly', () => {
    const a = (rdlength: number, rdata: number[]) => decodeMessage(message([0, 1, 0, 0], [0, 0, 1, 0, 1, 0, 0, 0, 0, 0, rdlength, ...rdata]));
    assert.ok(a(4, [1, 2, 3, 4]).ok);
    assert.ok(!a(5, [1, 2, 3, 4, 5]).ok);
    const txt = (rdlength: number, rdata: number[]) => decodeMessage(message([0, 1, 0, 0], [0, 0, 16, 0, 1, 0, 0, 0, 0, 0, rdlength, ...rdata]));
    assert.ok(txt(3, [2, 0x61, 0x62]).ok);
    assert.ok(!txt(3, [3, 0x61, 0x62]).ok, 'a TXT string running past its record');
    const ptr = decodeMessage(message([0, 1, 0, 0], [0, 0, 12, 0, 1, 0, 0, 0, 0, 0, 4, 1, 0x61, 0, 0]));
    assert.ok(!ptr.ok, 'a PTR name shorter than its record');
  });
});

// Arbitrary messages for round trips and as seeds for mutation.
const label = fc.array(fc.constantFrom(...'abcXYZ019-_ .é'), { minLength: 1, maxLength: 12 }).map((a) => a.join(''));
const name = fc.array(label, { maxLength: 4 });
const record: fc.Arbitrary<DnsRecord> = fc.record({
  name,
  type: fc.constant(0),
  class: fc.constantFrom(1, 3),
  ttl: fc.nat(),
  data: fc.oneof(
    fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map(([a, b, c, d]) => ({ kind: 'A' as const, address: `${a}.${b}.${c}.${d}` })),
    fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => ({ kind: 'AAAA' as const, address: formatIpv6(b) })),
    name.map((target) => ({ kind: 'PTR' as const, target })),
    fc.record({ priority: fc.nat(0xffff), weight: fc.nat(0xffff), port: fc.nat(0xffff), target: name }).map((s) => ({ kind: 'SRV' as const, ...s })),
    fc.array(fc.uint8Array({ maxLength: 40 }).map((u) => Buffer.from(u)), { maxLength: 5 }).map((strings) => ({ kind: 'TXT' as const, strings })),
  ),
}, { noNullPrototype: true }).map((r) => ({ ...r, type: TYPE[r.data.kind as 'A' | 'AAAA' | 'PTR' | 'SRV' | 'TXT'] }));
const anyMessage = fc.record({
  id: fc.nat(0xffff),
  questions: fc.array(fc.record({ name, type: fc.constantFrom(1, 12, 16, 33), class: fc.constant(1) }, { noNullPrototype: true }), { maxLength: 3 }),
  answers: fc.array(record, { maxLength: 4 }),
  additionals: fc.array(record, { maxLength: 4 }),
  compress: fc.boolean(),
}, { noNullPrototype: true });

describe('DNS codec properties', () => {
  it('decode(encode(m)) gives m back, compressed or not', () => {
    fc.assert(
      fc.property(anyMessage, ({ id, questions, answers, additionals, compress }) => {
        const bytes = encodeMessage({ header: { id, qr: true, rcode: 3 }, questions, answers, additionals }, { compress });
        const m = mustDecode(bytes);
        assert.equal(m.header.id, id);
        assert.equal(m.header.rcode, 3);
        assert.deepEqual(m.questions, questions);
        assert.deepEqual(m.answers, answers);
        assert.deepEqual(m.additionals, additionals);
      }),
      { numRuns: 300 },
    );
  });

  const neverThrows = (b: Uint8Array) => {
    const d = decodeMessage(b);
    if (d.ok) {
      const m = d.message;
      assert.equal(m.questions.length, m.header.qdcount);
      assert.equal(m.answers.length + m.authorities.length + m.additionals.length, m.header.ancount + m.header.nscount + m.header.arcount);
      for (const r of [...m.answers, ...m.additionals]) if ('target' in r.data) assert.ok(r.data.target.join('.').length <= 255);
    } else assert.equal(typeof d.error, 'string');
  };

  it('random bytes: a result or a typed error, never a throw', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), neverThrows), { numRuns: 2000 });
    // random bodies behind plausible headers reach the name and record readers
    fc.assert(
      fc.property(fc.tuple(fc.nat(4), fc.nat(6), fc.nat(2), fc.nat(3)), fc.uint8Array({ maxLength: 400 }), (c, body) => neverThrows(message(c, [...body]))),
      { numRuns: 2000 },
    );
  });

  it('mutated and truncated real messages: a result or a typed error, never a throw or a hang', () => {
    fc.assert(
      fc.property(anyMessage, fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 6 }), fc.nat(), ({ id, questions, answers, additionals }, flips, cut) => {
        const bytes = encodeMessage({ header: { id, qr: true }, questions, answers, additionals }, { compress: true });
        for (const [at, v] of flips) if (bytes.length) bytes[at % bytes.length] = v;
        const t0 = performance.now();
        neverThrows(bytes);
        neverThrows(bytes.subarray(0, cut % (bytes.length + 1)));
        assert.ok(performance.now() - t0 < 50);
      }),
      { numRuns: 1500 },
    );
  });

  it('every compression pointer value in every name position decodes or errs', () => {
    fc.assert(
      fc.property(fc.nat(0x3fff), fc.nat(30), (target, pad) => {
        const body = [...Array(pad).fill(1).flatMap(() => [1, 0x61]), 0xc0 | (target >> 8), target & 0xff, 0, 1, 0, 1];
        neverThrows(message([1, 0, 0, 0], body, 0));
      }),
    );
  });
});

// Under CI a missing dig must fail the run, not skip it: .ci/run installs bind9-dnsutils.
describe('DNS codec against dig (BIND 9)', { skip: hasDig || process.env.CI ? false : 'dig is not installed (Debian package bind9-dnsutils)' }, () => {
  it('dig’s queries decode; our compressed answers print as dig reads them', async () => {
    const seen: DnsMessage[] = [];
    const server = dgram.createSocket('udp4');
    server.on('message', (msg, rinfo) => {
      const d = decodeMessage(msg);
      if (!d.ok) return;
      seen.push(d.message);
      const q = d.message.questions[0]!;
      const inst = ['Cam 1', '_rtsp', '_tcp', 'local'];
      const answers: DnsRecord[] =
        q.type === TYPE.TXT
          ? [{ name: q.name, type: TYPE.TXT, class: q.class, ttl: 0, data: { kind: 'TXT', strings: [Buffer.from('lab-dns 1.0'), Buffer.from('x=y')] } }]
          : q.type === TYPE.SRV
            ? [{ name: q.name, type: TYPE.SRV, class: 1, ttl: 5, data: { kind: 'SRV', priority: 1, weight: 2, port: 554, target: ['cam', 'local'] } }]
            : q.type === TYPE.AAAA
              ? [{ name: q.name, type: TYPE.AAAA, class: 1, ttl: 5, data: { kind: 'AAAA', address: '2001:db8::7' } }]
              : q.type === TYPE.PTR
                ? [{ name: q.name, type: TYPE.PTR, class: 1, ttl: 5, data: { kind: 'PTR', target: inst } }]
                : [{ name: q.name, type: TYPE.A, class: 1, ttl: 5, data: { kind: 'A', address: '192.0.2.9' } }];
      server.send(encodeMessage({ header: { id: d.message.header.id, qr: true, aa: true, rd: d.message.header.rd }, questions: [q], answers }, { compress: true }), rinfo.port, rinfo.address);
    });
    await new Promise<void>((r) => server.bind(0, '127.0.0.1', r));
    const port = String(server.address().port);
    const dig = async (...args: string[]) => (await promisify(execFile)('dig', ['@127.0.0.1', '-p', port, '+short', '+time=2', '+tries=1', ...args])).stdout.trim();
    try {
      assert.equal(await dig('version.bind', 'chaos', 'txt'), '"lab-dns 1.0" "x=y"');
      assert.equal(await dig('_rtsp._tcp.local', 'ptr'), 'Cam\\0321._rtsp._tcp.local.');
      assert.equal(await dig('Cam\\0321._rtsp._tcp.local', 'srv'), '1 2 554 cam.local.');
      assert.equal(await dig('cam.local', 'aaaa'), '2001:db8::7');
      assert.equal(await dig('cam.local', 'a'), '192.0.2.9');
      assert.deepEqual(
        seen.map((m) => [nameToString(m.questions[0]!.name), m.questions[0]!.type, m.questions[0]!.class]),
        [
          ['version.bind', TYPE.TXT, CLASS.CH],
          ['_rtsp._tcp.local', TYPE.PTR, CLASS.IN],
          ['Cam 1._rtsp._tcp.local', TYPE.SRV, CLASS.IN],
          ['cam.local', TYPE.AAAA, CLASS.IN],
          ['cam.local', TYPE.A, CLASS.IN],
        ],
      );
      // dig adds an EDNS OPT record and asks for recursion
      assert.ok(seen.every((m) => m.header.rd && m.additionals.some((r) => r.type === TYPE.OPT)));
    } finally {
      server.close();
    }
  });
});
