// Tests of firmware-aware version comparison: the forms embedded firmware uses, and order properties.
import test from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compareVersions, inRange, parseVersion } from './version.ts';

test('firmware version forms compare as firmware authors mean them', () => {
  const cases: [string, string, ReturnType<typeof compareVersions>][] = [
    ['V5.4.5 build 170124', '5.4.5 build 170201', -1],
    ['V5.4.5 build 170124', 'v5.4.5 Build 170124', 0],
    ['V5.4.0 build 160530', '5.4.5', -1],
    ['1.0.2k', '1.0.2', 1],
    ['1.0.2k', '1.0.2l', -1],
    ['6.42', '6.42.0', 0],
    ['6.42', '6.42.3', -1],
    ['1.0rc1', '1.0', -1],
    ['2.06b01', '2.06b02', -1],
    ['V1.0.0B07', 'V1.0.0B08', -1],
    ['2.06b01', '2.07', -1],
    // undecidable: beta-or-build letters against a bare release, a build against no build, other release lines, dates
    ['2.06b01', '2.06', 'undecidable'],
    ['1.1.4 Build 20230219', '1.1.4', 'undecidable'],
    ['h4.5.1', 'c4.5.1', 'undecidable'],
    ['20240403', '1.02', 'undecidable'],
    ['1.1.4', '3230219', 'undecidable'],
    ['-', '1.0', 'undecidable'],
    ['*', '1.0', 'undecidable'],
    ['DIPC-B1213.X.X.XXXXXX', '1.0', 'undecidable'],
    ['customized versions', '1.0', 'undecidable'],
  ];
  for (const [a, b, want] of cases) {
    assert.equal(compareVersions(a, b), want, `${a} vs ${b}`);
    const back = compareVersions(b, a);
    assert.equal(back, want === 'undecidable' ? 'undecidable' : want === 0 ? 0 : -want, `${b} vs ${a}`);
  }
});

test('ranges: bounds included or excluded, undecidable passed on', () => {
  assert.equal(inRange('6.42', { endIncluding: '6.42' }), true);
  assert.equal(inRange('6.42', { endExcluding: '6.42' }), false);
  assert.equal(inRange('5.3.5', { startIncluding: '4.0.2', endExcluding: '5.3.5' }), false);
  assert.equal(inRange('5.4.1', { startIncluding: '5.3.6', endExcluding: '5.4.5' }), true);
  assert.equal(inRange('1.1.4 Build 20230219', { endExcluding: '1.1.4' }), 'undecidable');
  assert.equal(inRange('1.1.3 Build 20221010', { endExcluding: '1.1.4' }), true);
  assert.equal(inRange('3.4.14b', { startIncluding: '2.0', endIncluding: '3.4.14b' }), true);
  assert.equal(inRange('3.4.14c', { startIncluding: '2.0', endIncluding: '3.4.14b' }), false);
});

const part = fc.oneof(fc.nat({ max: 30 }).map(String), fc.constantFrom('0', '00', '10'));
const version = fc
  .tuple(
    fc.constantFrom('', 'V', 'v', 'h', 'c'),
    fc.array(part, { minLength: 1, maxLength: 4 }),
    fc.constantFrom('', 'a', 'k', 'rc1', 'beta2', 'b01', 'b02', '-', ' (x)'),
    fc.constantFrom('', ' build 170124', ' Build 20230219', '_build_1'),
  )
  .map(([p, nums, suffix, build]) => `${p}${nums.join('.')}${suffix}${build}`);

test('property: antisymmetric, reflexive when decidable, transitive over decidable answers', () => {
  fc.assert(
    fc.property(version, version, version, (a, b, c) => {
      const ab = compareVersions(a, b);
      const ba = compareVersions(b, a);
      if (ab === 'undecidable') assert.equal(ba, 'undecidable');
      else assert.equal(ba, ab === 0 ? 0 : -ab);
      if (parseVersion(a)) assert.equal(compareVersions(a, a), 0);
      const bc = compareVersions(b, c);
      const ac = compareVersions(a, c);
      if (ab !== 'undecidable' && bc !== 'undecidable' && ac !== 'undecidable') {
        if (ab <= 0 && bc <= 0) assert.ok(ac <= 0, `${a} ≤ ${b} ≤ ${c} but ${a} vs ${c} = ${ac}`);
        if (ab >= 0 && bc >= 0) assert.ok(ac >= 0, `${a} ≥ ${b} ≥ ${c} but ${a} vs ${c} = ${ac}`);
      }
    }),
    { numRuns: 3000 },
  );
});

test('property: any text gives an answer, never an exception', () => {
  fc.assert(fc.property(fc.string({ maxLength: 120 }), fc.string({ maxLength: 120 }), (a, b) => void compareVersions(a, b)), { numRuns: 2000 });
});
