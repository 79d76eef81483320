// The value helpers every importer shares: time stamps, the unmapped remainder kept under extra, compacting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compact, isoTime, withoutPaths } from './importer.ts';

/** What a time stamp means, worked out with Date alone: the answer isoTime's fast paths must agree with. */
function viaDate(s: string): string | undefined {
  if (/^\d{9,11}$/.test(s)) return new Date(Number(s) * 1000).toISOString();
  const t = Date.parse(s.replace(' ', 'T').replace(/(\.\d{3})\d+/, '$1'));
  if (Number.isNaN(t)) return undefined;
  const d = new Date(t);
  return d.getUTCFullYear() >= 1970 && d.getUTCFullYear() < 3000 ? d.toISOString() : undefined;
}

const two = (n: number) => String(n).padStart(2, '0');

test('UTC time stamps in the scanners\u2019 forms read the same as Date reads them, valid or not', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1950, max: 3100 }),
      fc.integer({ min: 0, max: 13 }),
      fc.integer({ min: 0, max: 32 }),
      fc.integer({ min: 0, max: 24 }),
      fc.integer({ min: 0, max: 60 }),
      fc.integer({ min: 0, max: 60 }),
      fc.constantFrom('', '.1', '.12', '.123', '.123456', '.123456789', '.'),
      fc.constantFrom('T', ' '),
      (y, mo, d, h, mi, s, frac, sep) => {
        const text = `${y}-${two(mo)}-${two(d)}${sep}${two(h)}:${two(mi)}:${two(s)}${frac}Z`;
        assert.equal(isoTime(text), viaDate(text), text);
      },
    ),
    { numRuns: 2000 },
  );
});

test('epoch seconds, offsets and zone-less stamps', () => {
  assert.equal(isoTime('1795572682'), '2026-11-25T02:11:22.000Z');
  assert.equal(isoTime(1795572682), '2026-11-25T02:11:22.000Z');
  assert.equal(isoTime('2026-11-25T03:11:22+01:00'), '2026-11-25T02:11:22.000Z');
  assert.equal(isoTime('2026-11-25 02:11:22'), '2026-11-25T02:11:22.000Z', 'no zone means UTC');
  assert.equal(isoTime('2026-11-25T02:11:22.123456'), '2026-11-25T02:11:22.123Z');
  assert.equal(isoTime('yesterday'), undefined);
  assert.equal(isoTime('12345'), undefined);
  // the remembered last answer never leaks into a different input
  assert.equal(isoTime('2026-11-25T02:11:22Z'), '2026-11-25T02:11:22.000Z');
  assert.equal(isoTime('2026-11-25T02:11:23Z'), '2026-11-25T02:11:23.000Z');
  assert.equal(isoTime('2026-11-25T02:11:23Z'), '2026-11-25T02:11:23.000Z');
});

test('withoutPaths keeps exactly what was not mapped, prunes emptied objects, and keeps a __proto__ member as data', () => {
  const paths = ['a', 'b.c', 'b.d.e'] as const;
  assert.deepEqual(withoutPaths({ a: 1, b: { c: 2, d: { e: 3 } }, z: [1] }, paths), { z: [1] });
  assert.deepEqual(withoutPaths({ a: 1, b: { c: 2, d: { e: 3, f: 4 }, g: null } }, paths), { b: { d: { f: 4 }, g: null } });
  assert.deepEqual(withoutPaths({ b: 'not an object' }, paths), { b: 'not an object' });
  assert.equal(withoutPaths({ a: 1 }, paths), undefined);
  assert.equal(withoutPaths('x', paths), undefined);
  // the same paths given as a new list each time answer the same
  assert.deepEqual(withoutPaths({ a: 1, y: 2 }, ['a', 'b.c', 'b.d.e']), { y: 2 });
  const hostile = JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"x": 1}, "a": 1}');
  const rest = withoutPaths(hostile, paths)!;
  assert.equal(Object.getPrototypeOf(rest), Object.prototype);
  assert.deepEqual(Object.keys(rest), ['__proto__', 'constructor']);
  assert.equal(JSON.stringify(rest), '{"__proto__":{"polluted":true},"constructor":{"x":1}}');
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('compact drops undefined members only, in order', () => {
  assert.deepEqual(Object.entries(compact({ a: 1, b: undefined, c: null, d: 0, e: '' })), [['a', 1], ['c', null], ['d', 0], ['e', '']]);
});
