// Tests of the knowledge stage's CPE 2.3 names: binding/unbinding with escapes, ANY and NA, NISTIR 7696 matching.
import test from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ANY, NA, CpeError, compareAttribute, compareNames, cpeCovers, formatCpe, literalOf, makeWfn, parseCpe, wfnValueOf } from './cpe.ts';

test('unbinding a formatted string: escapes, ANY, NA, quoted punctuation', () => {
  const w = parseCpe('cpe:2.3:o:hikvision:ds-2cd2xx2f-i_series_firmware\\(v5.2.0\\):5.4.5\\ build\\ 170124:*:-:*:*:*:*:*');
  assert.equal(w.part, 'o');
  assert.equal(w.vendor, 'hikvision');
  assert.equal(literalOf(w.product), 'ds-2cd2xx2f-i_series_firmware(v5.2.0)');
  assert.equal(literalOf(w.version), '5.4.5 build 170124');
  assert.equal(w.update, ANY);
  assert.equal(w.edition, NA);
  assert.equal(formatCpe(w), 'cpe:2.3:o:hikvision:ds-2cd2xx2f-i_series_firmware\\(v5.2.0\\):5.4.5\\ build\\ 170124:*:-:*:*:*:*:*');
  // A quoted lone hyphen is the literal "-", not NA.
  const q = parseCpe('cpe:2.3:a:x:y:\\-:*:*:*:*:*:*:*');
  assert.notEqual(q.version, NA);
  assert.equal(literalOf(q.version), '-');
  assert.equal(formatCpe(q), 'cpe:2.3:a:x:y:\\-:*:*:*:*:*:*:*');
});

test('malformed names are refused with a reason', () => {
  for (const bad of ['cpe:/o:mikrotik:routeros', 'cpe:2.3:o:a:b', 'cpe:2.3:x:a:b:*:*:*:*:*:*:*:*', 'cpe:2.3:a:b:c:1\\', 'cpe:2.3:a:b:c:1 2:*:*:*:*:*:*:*']) {
    assert.throws(() => parseCpe(bad), CpeError, bad);
  }
});

test('attribute relations follow NISTIR 7696 table 6-2', () => {
  assert.equal(compareAttribute(ANY, ANY), 'EQUAL');
  assert.equal(compareAttribute(ANY, 'routeros'), 'SUPERSET');
  assert.equal(compareAttribute(ANY, NA), 'SUPERSET');
  assert.equal(compareAttribute(NA, ANY), 'SUBSET');
  assert.equal(compareAttribute(NA, NA), 'EQUAL');
  assert.equal(compareAttribute(NA, 'x'), 'DISJOINT');
  assert.equal(compareAttribute('x', NA), 'DISJOINT');
  assert.equal(compareAttribute('RouterOS', 'routeros'), 'EQUAL');
  assert.equal(compareAttribute('6\\.4*', '6\\.42'), 'SUPERSET');
  assert.equal(compareAttribute('6\\.4?', '6\\.5'), 'DISJOINT');
  assert.equal(compareAttribute('6\\.42', '6\\.4*'), 'UNDEFINED');
  const crit = parseCpe('cpe:2.3:o:mikrotik:routeros:*:*:*:*:*:*:*:*');
  const dev = parseCpe('cpe:2.3:o:mikrotik:routeros:6.42.3:*:*:*:*:*:*:*');
  assert.equal(compareNames(crit, dev), 'SUPERSET');
  assert.equal(compareNames(dev, crit), 'SUBSET');
  assert.equal(compareNames(dev, dev), 'EQUAL');
  assert.equal(compareNames(dev, parseCpe('cpe:2.3:h:mikrotik:routeros:6.42.3:*:*:*:*:*:*:*')), 'DISJOINT');
  assert.ok(cpeCovers(crit, dev));
  assert.ok(!cpeCovers(dev, crit));
});

const text = fc.string({ maxLength: 20, unit: fc.constantFrom(...'abcXYZ019 .-_:*?\\()!@#/+~'.split('')) });

test('property: format then parse returns the same WFN; parse then format is stable', () => {
  fc.assert(
    fc.property(fc.constantFrom('a', 'o', 'h') as fc.Arbitrary<'a' | 'o' | 'h'>, text, text, text, (part, vendor, product, version) => {
      const w = makeWfn(part, vendor || 'v', product || 'p', version);
      const fs = formatCpe(w);
      assert.deepEqual(parseCpe(fs), w);
      assert.equal(formatCpe(parseCpe(fs)), fs);
    }),
    { numRuns: 500 },
  );
});

test('property: parsing arbitrary text returns a WFN or throws CpeError, nothing else', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string({ maxLength: 80 }), text.map((t) => `cpe:2.3:a:${t}:${t}:${t}:*:*:*:*:*:*:*`)), (s) => {
      try {
        parseCpe(s);
      } catch (e) {
        assert.ok(e instanceof CpeError, String(e));
      }
    }),
    { numRuns: 1000 },
  );
});

test('device text becomes literal WFN values', () => {
  assert.equal(literalOf(wfnValueOf('Archer C7')), 'archer_c7');
  assert.equal(wfnValueOf(''), ANY);
  assert.equal(literalOf(wfnValueOf('DS918+')), 'ds918+');
});
