// Stage: pure core. Scope rules, port lists, target sets and the walk order, tested without any I/O.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parse as parseYaml } from 'yaml';
import { formatRange, parseRange } from './ipnum.ts';
import { Permutation } from './permutation.ts';
import { formatPortList, parsePortList } from './ports.ts';
import { ScopeError, parseScopeYaml } from './scope.ts';
import { TargetSet, parseTargetFile } from './targets.ts';
import { printable } from './bytes.ts';

const scope = (y: string) => parseScopeYaml(y, 'scope.yaml', parseYaml);

describe('scope', () => {
  it('allows only listed addresses, minus exclusions', () => {
    const s = scope('allow: [198.51.100.0/24, 2001:db8::/64]\nexclude: [198.51.100.128/25]\n');
    assert.equal(s.refusal('198.51.100.7'), null);
    assert.match(s.refusal('198.51.100.200')!, /excluded/);
    assert.match(s.refusal('198.51.101.1')!, /outside the scope/);
    assert.equal(s.refusal('2001:db8::5'), null);
    assert.match(s.refusal('2001:db8:0:1::5')!, /outside/);
  });

  it('refuses reserved and special ranges unless an allow entry lies inside them', () => {
    const wide = scope('allow: [0.0.0.0/0, "::/0"]\n');
    for (const ip of ['127.0.0.1', '10.1.2.3', '192.168.1.1', '169.254.1.1', '100.64.0.1', '::1', 'fe80::1', 'fd00::1', '240.0.0.1'])
      assert.match(wide.refusal(ip)!, /range|never/, ip);
    assert.equal(wide.refusal('8.8.8.8'), null);
    const lab = scope('allow: [10.213.0.0/24, 127.0.0.0/8, "::1"]\n');
    assert.equal(lab.refusal('10.213.0.20'), null);
    assert.equal(lab.refusal('127.0.0.12'), null);
    assert.equal(lab.refusal('::1'), null);
    assert.match(lab.refusal('10.213.1.20')!, /outside/);
    // multicast and broadcast are never targets, even when listed
    assert.match(scope('allow: [224.0.0.0/4, 255.255.255.255]\n').refusal('239.255.255.250')!, /never/);
  });

  it('cuts requested targets into in-scope and refused pieces with reasons', () => {
    const s = scope('allow: [0.0.0.0/0]\nexclude: [8.8.8.0/24]\n');
    const { inScope, refused } = s.cut([parseRange('8.8.7.0-8.8.9.255')!, parseRange('10.0.0.1')!]);
    assert.deepEqual(inScope.map(formatRange), ['8.8.7.0/24', '8.8.9.0/24']);
    assert.deepEqual(refused.map((r) => formatRange(r.range)), ['8.8.8.0/24', '10.0.0.1']);
    assert.match(refused[1]!.reason, /private/);
  });

  it('rejects malformed scope files with the place of the problem', () => {
    assert.throws(() => scope('allow: [10.0.0.0/33]\n'), (e: Error) => e instanceof ScopeError && /allow\[0\]/.test(e.message));
    assert.throws(() => scope('allow: []\n'), /allow/);
    assert.throws(() => scope('allow: [1.2.3.4]\nauthorize: [everything]\n'), /authorize/);
    assert.throws(() => scope('allow: [1.2.3.4]\nallwo: [5.6.7.8]\n'), /allwo|Unrecognized/);
    assert.throws(() => scope('allow: [1.2.3.4\n'), /not valid YAML/);
    assert.deepEqual([...scope('allow: [1.2.3.4]\nauthorize: [credentials]\n').authorized], ['credentials']);
  });

  it('never lets a shorthand IPv4 form through', () => {
    assert.equal(parseRange('10.1'), null);
    assert.equal(parseRange('0x7f.1'), null);
    assert.equal(parseRange('127.1'), null);
  });
});

describe('ports', () => {
  it('parses nmap-style lists with transport prefixes and ranges', () => {
    const p = parsePortList('T:23,80,8000-8003,U:161,1900');
    assert.deepEqual(p.tcp, [23, 80, 8000, 8001, 8002, 8003]);
    assert.deepEqual(p.udp, [161, 1900]);
    assert.equal(formatPortList(p), 'T:23,80,8000-8003,U:161,1900');
    assert.equal(parsePortList('-').tcp.length, 65535);
    assert.deepEqual(parsePortList('22,U:53,T:443'), { tcp: [22, 443], udp: [53] });
  });
  it('rejects bad entries by name', () => {
    for (const bad of ['0', '70000', '80-70', 'http', '80,,81', 'X:80']) assert.throws(() => parsePortList(bad), /port list/, bad);
  });
  it('round-trips through its own format', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: 65535 }), { maxLength: 50 }), fc.uniqueArray(fc.integer({ min: 1, max: 65535 }), { maxLength: 50 }), (t, u) => {
        const p = { tcp: [...t].sort((a, b) => a - b), udp: [...u].sort((a, b) => a - b) };
        if (!p.tcp.length && !p.udp.length) return;
        assert.deepEqual(parsePortList(formatPortList(p)), p);
      }),
    );
  });
});

describe('targets', () => {
  it('indexes hosts across ranges of both families', () => {
    const t = new TargetSet([parseRange('192.0.2.0/30')!, parseRange('2001:db8::1-2001:db8::2')!, parseRange('192.0.2.2')!]);
    assert.equal(t.size, 6);
    assert.deepEqual(Array.from({ length: 6 }, (_, i) => t.hostAt(i)), ['192.0.2.0', '192.0.2.1', '192.0.2.2', '192.0.2.3', '2001:db8::1', '2001:db8::2']);
  });
  it('reads target files with comments and names the bad line', () => {
    assert.equal(parseTargetFile('# lab\n10.0.0.1\n10.0.0.0/30, 10.0.1.1-3\n', 'list.txt').length, 3);
    assert.throws(() => parseTargetFile('10.0.0.1\ncamera.example\n', 'list.txt'), /list\.txt:2: .*host names are not resolved/);
  });
});

describe('permutation', () => {
  it('is a bijection on [0, n) for awkward sizes, and depends on the seed', () => {
    for (const n of [0, 1, 2, 3, 5, 17, 1000, 4097]) {
      const p = new Permutation(n, 42);
      const seen = new Set<number>();
      for (let i = 0; i < n; i++) seen.add(p.at(i));
      assert.equal(seen.size, n);
      for (const v of seen) assert.ok(v >= 0 && v < n);
    }
    const a = Array.from({ length: 100 }, (_, i) => new Permutation(100, 1).at(i));
    const b = Array.from({ length: 100 }, (_, i) => new Permutation(100, 2).at(i));
    assert.notDeepEqual(a, b);
    assert.deepEqual(a, Array.from({ length: 100 }, (_, i) => new Permutation(100, 1).at(i)));
  });
  it('spreads consecutive steps over the hosts of a network', () => {
    // 256 hosts × 1 port: the first 16 steps should touch 16 different /28s more often than not
    const p = new Permutation(256, 7);
    const blocks = new Set(Array.from({ length: 16 }, (_, i) => p.at(i) >> 4));
    assert.ok(blocks.size >= 8, `only ${blocks.size} distinct /28 blocks`);
  });
});

describe('printable', () => {
  it('neutralises terminal escapes and control characters', () => {
    assert.equal(printable('\x1b[31mred\x1b[0m\r\nok\u202e'), '\\x1b[31mred\\x1b[0m\\r\\nok\\x202e');
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => !/[\x00-\x1f\x7f-\x9f]/.test(printable(s))));
  });
});

describe('address keys', () => {
  it('read dotted quads by the fast path exactly as the general parser reads them, and refuse what it refuses', async () => {
    const { ipKey, parseIp } = await import('./ipnum.ts');
    const ipaddr = (await import('ipaddr.js')).default;
    const octet = fc.oneof(fc.integer({ min: 0, max: 255 }).map(String), fc.constantFrom('00', '01', '010', '256', '999', '', '1a', ' 1', '0x1'));
    fc.assert(
      fc.property(fc.array(octet, { minLength: 1, maxLength: 5 }), (parts) => {
        const s = parts.join('.');
        const t = s.trim();
        const general = ipaddr.isValid(t) && /^\d{1,3}(\.\d{1,3}){3}$/.test(t) ? ipaddr.parse(t).toByteArray() : null;
        const p = parseIp(s);
        if (!general) {
          assert.equal(p, null, s);
          assert.throws(() => ipKey(s), RangeError);
          return;
        }
        const value = general.reduce((v, b) => (v << 8n) | BigInt(b), 0n);
        assert.deepEqual(p, { family: 4, value }, s);
        assert.equal(ipKey(s), `4:${value.toString(16).padStart(8, '0')}`, s);
      }),
      { numRuns: 3000 },
    );
    assert.equal(ipKey('192.0.2.1'), '4:c0000201');
    assert.equal(ipKey('2001:db8::1'), '6:20010db8000000000000000000000001');
  });
});
