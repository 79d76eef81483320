// Stage: fingerprint (tests). The literal prefilter must never hide a match: whenever a rule's expression matches a
// text, one of its required literals occurs in it, and the automaton reports that rule. Also CPE template filling
// and the classifier's behaviour on hostile observation data.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import fc from 'fast-check';
import { FIXTURES } from '../../test/testbed.ts';
import { createClassifier } from './classify.ts';
import { cpeTemplateError, escapeCpeValue, fillCpe, uriToTemplate } from './cpe.ts';
import { LiteralIndex, requiredLiterals } from './prefilter.ts';
import { importRecog } from './recog.ts';
import { loadRules } from './rules.ts';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

test('required literals of hand-picked expressions', () => {
  assert.deepEqual(requiredLiterals('^Hikvision-Webs$'), ['hikvision-webs']);
  assert.deepEqual(requiredLiterals('^(?:Foo|Barbaz)-Webs$'), ['-webs']);
  assert.deepEqual(requiredLiterals('^(?:Foobar|Barbaz)\\d'), ['foobar', 'barbaz']);
  assert.deepEqual(requiredLiterals('^abc?def'), ['def']);
  assert.deepEqual(requiredLiterals('x+yz'), null, 'short literals are not indexed');
  assert.deepEqual(requiredLiterals('(?:login)?\\s*Password:'), ['password:']);
  assert.equal(requiredLiterals('^.*$'), null);
  assert.deepEqual(requiredLiterals('MikroTik v(?<version>\\d+)'), ['mikrotik v']);
  assert.deepEqual(requiredLiterals('\\x41BC\\u0044'), ['abcd']);
  assert.equal(requiredLiterals('(?=abc)'), null);
});

const { rules: own, vocabulary } = loadRules();
const recogDir = join(FIXTURES, 'recog', 'xml');
const recog = existsSync(recogDir) ? importRecog(recogDir, vocabulary).rules : [];
const all = [...own, ...recog];
const patterns = all.filter((r) => r.matcher.kind === 'regex').map((r) => (r.matcher as { regex: RegExp }).regex);
const examples = all.flatMap((r) => r.examples.map((e) => e.input));

test('soundness: a matching text always contains one of the required literals (all rules, examples mutated)', () => {
  const textArb = fc.oneof(
    fc.constantFrom(...examples),
    fc.tuple(fc.constantFrom(...examples), fc.string({ maxLength: 8 }), fc.nat(64)).map(([s, ins, at]) => s.slice(0, at) + ins + s.slice(at)),
    fc.tuple(fc.constantFrom(...examples), fc.constantFrom(...examples)).map(([a, b]) => `${a}\n${b}`),
    fc.constantFrom(...examples).map((s) => s.toUpperCase()),
  );
  fc.assert(
    fc.property(fc.nat(patterns.length - 1), textArb, (i, text) => {
      const re = patterns[i]!;
      const lits = requiredLiterals(re.source);
      if (!lits || !re.test(text)) return true;
      const lower = text.toLowerCase();
      return lits.some((l) => lower.includes(l));
    }),
    { numRuns: 20000 },
  );
});

test('the automaton finds exactly the literals that occur', () => {
  fc.assert(
    fc.property(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 6, unit: fc.constantFrom('a', 'b', 'c', 'A', '-', '\n', 'é') }), { maxLength: 12 }), fc.string({ maxLength: 40, unit: fc.constantFrom('a', 'b', 'c', 'B', 'C', '-', '\n', 'é', 'x') }), (lits, text) => {
      const ascii = lits.filter((l) => /^[\x00-\x7f]+$/.test(l)).map((l) => l.toLowerCase());
      const idx = new LiteralIndex(ascii.map((literal, rule) => ({ literal, rule })));
      const hit = new Set<number>();
      idx.scan(text, (r) => hit.add(r));
      const lower = text.replace(/[A-Z]/g, (c) => c.toLowerCase());
      ascii.forEach((l, r) => assert.equal(hit.has(r), lower.includes(l), `${JSON.stringify(l)} in ${JSON.stringify(text)}`));
    }),
    { numRuns: 3000 },
  );
});

test('classification with the prefilter equals running every rule of the field', () => {
  const classifier = createClassifier(all, vocabulary);
  const sample = examples.filter((_, i) => i % 7 === 0);
  for (const rule of all.filter((_, i) => i % 5 === 0)) {
    if (rule.matcher.kind !== 'regex') continue;
    const field = rule.fields[0]!;
    for (const text of sample) {
      const direct = rule.matcher.regex.test(text);
      const viaIndex = classifier.classifyField(field, text).some((m) => m.ruleId === rule.id);
      assert.equal(viaIndex, direct, `${rule.id} on ${JSON.stringify(text.slice(0, 80))}`);
    }
  }
});

test('hostile observation data never throws and stays capped', () => {
  const classifier = createClassifier(all, vocabulary);
  const anyValue = fc.oneof(fc.string({ maxLength: 300 }), fc.integer(), fc.constant(null), fc.array(fc.string({ maxLength: 20 }), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 40 }), { maxKeys: 4 }));
  fc.assert(
    fc.property(
      fc.constantFrom('http', 'https', 'ssh', 'telnet', 'ftp', 'snmp', 'ssdp', 'rtsp', 'mqtt', 'modbus', 'unknown', 'upnp-http'),
      fc.dictionary(fc.constantFrom('server', 'title', 'realm', 'body', 'banner', 'ident', 'software', 'sysDescr', 'sysObjectID', 'upnp', 'tls', 'headers', 'service', 'brokerVersion', 'vendorName', 'faviconMmh3'), anyValue),
      (protocol, data) => {
        for (const m of classifier.classify({ protocol, data })) assert.ok(m.value.length <= 256);
      },
    ),
    { numRuns: 3000 },
  );
  const huge = 'Server: ' + 'A'.repeat(5_000_000);
  const t = Date.now();
  classifier.classify({ protocol: 'http', data: { server: huge, body: huge, title: huge } });
  assert.ok(Date.now() - t < 2000, 'fields are capped before any rule runs');
});

test('CPE 2.3 formatted-string escaping and templates', () => {
  assert.equal(escapeCpeValue('15.1(4)M4'), '15.1\\(4\\)m4');
  assert.equal(escapeCpeValue('DS918+'), 'ds918\\+');
  assert.equal(escapeCpeValue('Archer C7'), 'archer_c7');
  assert.equal(escapeCpeValue('-'), '\\-');
  assert.equal(escapeCpeValue('a*b?c:d\\e'), 'a\\*b\\?c\\:d\\\\e');
  assert.equal(escapeCpeValue(''), '*');
  assert.equal(fillCpe('cpe:2.3:o:dlink:{model}_firmware:{version}:*:*:*:*:*:*:*', { model: 'DIR-850L', version: '1.13' }), 'cpe:2.3:o:dlink:dir-850l_firmware:1.13:*:*:*:*:*:*:*');
  assert.equal(fillCpe('cpe:2.3:a:x:y:{version}:*:*:*:*:*:*:*', {}), 'cpe:2.3:a:x:y:*:*:*:*:*:*:*:*');
  assert.equal(cpeTemplateError('cpe:2.3:h:a:b:*:*:*:*:*:*:*'), 'has 12 colon-separated parts; CPE 2.3 needs 13');
  assert.equal(cpeTemplateError('cpe:2.3:x:a:b:*:*:*:*:*:*:*:*'), 'part "x" is not a, h, o, * or -');
  assert.equal(cpeTemplateError('cpe:2.3:a:a\\:b:c:*:*:*:*:*:*:*:*'), null);
  assert.equal(uriToTemplate('cpe:/o:mikrotik:routeros:{os.version}'), 'cpe:2.3:o:mikrotik:routeros:{os.version}:*:*:*:*:*:*:*');
  assert.equal(uriToTemplate('cpe:/a:acme:web%2bserver:1.0'), 'cpe:2.3:a:acme:web\\+server:1.0:*:*:*:*:*:*:*');
  // Every filled CPE is itself a valid formatted string, whatever the device said.
  fc.assert(fc.property(fc.string({ maxLength: 30 }), fc.string({ maxLength: 30 }), (model, version) => cpeTemplateError(fillCpe('cpe:2.3:h:acme:{model}:{version}:*:*:*:*:*:*:*', { model, version })) === null));
});
