// Tests of the prefix→ASN table: reading the iptoasn.com TSV (gzip) and CAIDA pfx2as formats, the most specific
// range winning, bad lines reported with file:line and leaving the table as it was, and the range sweep agreeing
// with a direct per-address query.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { ipKey, keyOf } from '../../core/ipnum.ts';
import { SqliteStore } from './store.ts';
import { AsnTableError, asnRangeCount, importAsnTables, parseAsn, tableAsnOfKeys } from './asn.ts';

const dir = mkdtempSync(join(tmpdir(), 'iotscope-asn-'));
function write(name: string, text: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const IPTOASN = [
  '192.0.2.0\t192.0.2.255\t64496\tNL\tEXAMPLE-A Example Net A',
  '198.51.100.0\t198.51.100.255\t0\tNone\tNot routed',
  '2001:db8::\t2001:db8:ffff:ffff:ffff:ffff:ffff:ffff\t64497\tDE\tEXAMPLE-V6',
].join('\n');

const PFX2AS = ['# comment', '192.0.2.0\t24\t64498', '192.0.2.128\t25\t64499_64500', '198.51.100.0\t24\t64501,64502', '2001:db8::\t32\t64503', '2001:db8:1::\t48\t64504', ''].join('\n');

function lookup(store: SqliteStore, ip: string): number | undefined {
  return tableAsnOfKeys(store.handle, [ipKey(ip)]).get(ipKey(ip))?.asn;
}

test('an iptoasn TSV (gzip) loads ranges with names and countries; unrouted rows are skipped', async () => {
  const store = SqliteStore.open(':memory:');
  const [r] = await importAsnTables(store.handle, [write('ip2asn-combined.tsv.gz', gzipSync(IPTOASN))]);
  assert.deepEqual({ ranges: r!.ranges, skipped: r!.skipped, format: r!.format }, { ranges: 2, skipped: 1, format: 'iptoasn' });
  assert.deepEqual(tableAsnOfKeys(store.handle, [ipKey('192.0.2.77')]).get(ipKey('192.0.2.77')), { asn: 64496, name: 'EXAMPLE-A Example Net A' });
  assert.equal(lookup(store, '198.51.100.7'), undefined);
  assert.equal(lookup(store, '2001:db8:5::1'), 64497);
  assert.equal(lookup(store, '203.0.113.1'), undefined);
  const row = store.handle.prepare("SELECT country FROM asn_ranges WHERE asn = 64496").get() as { country: string };
  assert.equal(row.country, 'NL');
  await store.close();
});

test('a pfx2as file loads; the most specific prefix wins, the first origin of a multi-origin AS is kept', async () => {
  const store = SqliteStore.open(':memory:');
  await importAsnTables(store.handle, [write('routeviews.pfx2as', PFX2AS)]);
  assert.equal(asnRangeCount(store.handle), 5);
  assert.equal(lookup(store, '192.0.2.5'), 64498);
  assert.equal(lookup(store, '192.0.2.200'), 64499);
  assert.equal(lookup(store, '198.51.100.1'), 64501);
  assert.equal(lookup(store, '2001:db8:1::5'), 64504);
  assert.equal(lookup(store, '2001:db8:2::1'), 64503);
  assert.equal(lookup(store, '10.0.0.1'), undefined);
  // --replace drops what was loaded before.
  await importAsnTables(store.handle, [write('again.tsv', IPTOASN)], { replace: true });
  assert.equal(asnRangeCount(store.handle), 2);
  assert.equal(lookup(store, '192.0.2.200'), 64496);
  await store.close();
});

test('a bad line fails the import with file:line and stores nothing, also when other files were good', async () => {
  const store = SqliteStore.open(':memory:');
  await importAsnTables(store.handle, [write('base.pfx2as', PFX2AS)]);
  const before = store.handle.prepare('SELECT * FROM asn_ranges ORDER BY start_key, end_key').all();
  const cases: [string, string, RegExp][] = [
    ['bad-ip.pfx2as', '192.0.2.0\t24\t64510\n198.51.100.0\t24\t64511\n198.51.100.300\t24\t64511\n', /bad-ip\.pfx2as:3: .*prefix/],
    ['bad-len.pfx2as', '192.0.2.0\t24\t64510\n192.0.2.0\t33\t64511\n', /bad-len\.pfx2as:2: .*not a network prefix/],
    ['bad-asn.tsv', '192.0.2.0\t192.0.2.255\t64510\tNL\tX\n198.51.100.0\t198.51.100.255\tASX\tNL\tY\n', /bad-asn\.tsv:2: "ASX" is not an AS number/],
    ['mixed.tsv', '# header\n192.0.2.0\t2001:db8::1\t64510\tNL\tX\n', /mixed\.tsv:2: .*address families/],
    ['reversed.tsv', '192.0.2.255\t192.0.2.0\t64510\tNL\tX\n', /reversed\.tsv:1: range end is before its start/],
    ['garbage.txt', 'hello world\n', /garbage\.txt:1: neither an iptoasn line/],
    ['empty.txt', '# nothing\n\n', /empty\.txt: no data lines/],
  ];
  for (const [name, text, expected] of cases) {
    const good = write('good.tsv', IPTOASN);
    await assert.rejects(importAsnTables(store.handle, [good, write(name, text)], { replace: true }), (e: Error) => {
      assert.ok(e instanceof AsnTableError, String(e));
      assert.match(e.message, expected);
      return true;
    });
    assert.deepEqual(store.handle.prepare('SELECT * FROM asn_ranges ORDER BY start_key, end_key').all(), before, name);
  }
  await assert.rejects(importAsnTables(store.handle, [join(dir, 'missing.tsv')]), /missing\.tsv: cannot open/);
  const truncated = gzipSync(IPTOASN).subarray(0, 20);
  await assert.rejects(importAsnTables(store.handle, [write('truncated.tsv.gz', truncated)]), (e: Error) => e instanceof AsnTableError && /truncated\.tsv\.gz:\d+: cannot read/.test(e.message));
  assert.deepEqual(store.handle.prepare('SELECT * FROM asn_ranges ORDER BY start_key, end_key').all(), before);
  await store.close();
});

test('AS numbers as imported data writes them', () => {
  assert.equal(parseAsn('AS8075'), 8075);
  assert.equal(parseAsn('as64500'), 64500);
  assert.equal(parseAsn(' 64501 '), 64501);
  assert.equal(parseAsn(64502), 64502);
  for (const bad of [0, -1, 1.5, 4_294_967_296, '', 'AS', 'ASX', '64500x', null, undefined, {}]) assert.equal(parseAsn(bad), null, String(bad));
});

test('the range sweep gives every address the narrowest range a direct query finds', async () => {
  const store = SqliteStore.open(':memory:');
  // Nested and overlapping ranges inside 192.0.2.0/24 and 2001:db8::/32 with private-use AS numbers.
  const v4 = (n: number) => `192.0.2.${n}`;
  const lines: string[] = [];
  const rangeArb = fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 64496, max: 64511 }));
  const ranges = fc.sample(fc.array(rangeArb, { minLength: 1, maxLength: 40 }), { numRuns: 1, seed: 7 })[0]!;
  for (const [a, b, asn] of ranges) lines.push(`${v4(Math.min(a, b))}\t${v4(Math.max(a, b))}\t${asn}\tZZ\tAS-${asn}`);
  lines.push('2001:db8::\t2001:db8::ffff\t64510\tZZ\tV6-WIDE', '2001:db8::100\t2001:db8::1ff\t64511\tZZ\tV6-NARROW');
  await importAsnTables(store.handle, [write('random.tsv', lines.join('\n'))]);
  const direct = store.handle.prepare('SELECT span FROM asn_ranges WHERE start_key <= ? AND end_key >= ? AND substr(start_key, 1, 1) = substr(?, 1, 1) ORDER BY span LIMIT 1').pluck();
  const spanOfAsn = store.handle.prepare('SELECT span FROM asn_ranges WHERE start_key <= ? AND end_key >= ? AND asn = ? ORDER BY span LIMIT 1').pluck();
  fc.assert(
    fc.property(fc.uniqueArray(fc.oneof(fc.integer({ min: 0, max: 255 }).map((n) => ipKey(v4(n))), fc.integer({ min: 0, max: 0x2ff }).map((n) => keyOf(6, 0x20010db8n * (1n << 96n) + BigInt(n)))), { maxLength: 30 }), (keys) => {
      const got = tableAsnOfKeys(store.handle, keys);
      for (const k of keys) {
        const want = direct.get(k, k, k) as string | undefined;
        const g = got.get(k);
        if (want === undefined) assert.equal(g, undefined, k);
        else {
          assert.ok(g, k);
          // The chosen AS owns a range of the narrowest span that holds the address.
          assert.equal(spanOfAsn.get(k, k, g.asn), want, k);
        }
      }
    }),
    { numRuns: 100 },
  );
  await store.close();
});
