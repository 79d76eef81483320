// Stage: fingerprint (tests). One generated test per own rule: its positive examples match with the expected
// captures and parts, its negative examples do not. Plus what the loader refuses, named by file and rule id.
import { strict as assert } from 'node:assert';
import { mkdtempSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { createClassifier } from './classify.ts';
import { checkRuleExamples } from './examples.ts';
import { defaultRulesDir, loadRules, RuleLoadError, VOCABULARY_FILE } from './rules.ts';

const loaded = loadRules();
const classifier = createClassifier(loaded.rules, loaded.vocabulary);

describe('own rule examples', () => {
  for (const rule of loaded.rules) {
    test(`${rule.file} ${rule.id}`, () => {
      assert.deepEqual(checkRuleExamples(classifier, rule), []);
    });
  }
});

test('the own rule set is broad: at least 150 rules over at least 40 vendors', () => {
  assert.ok(loaded.rules.length >= 150, `${loaded.rules.length} rules`);
  const vendors = new Set(loaded.rules.flatMap((r) => [r.device?.vendor, r.os?.vendor, r.software?.vendor]).filter((v): v is string => !!v && !v.includes('{')));
  assert.ok(vendors.size >= 40, `${vendors.size} vendors: ${[...vendors].join(', ')}`);
  for (const t of ['ip-camera', 'dvr', 'nvr', 'router', 'cpe-ont', 'nas', 'printer', 'plc', 'ics-gateway', 'smart-hub', 'mqtt-broker']) {
    assert.ok(loaded.rules.some((r) => r.device?.type === t), `no rule gives device type ${t}`);
  }
});

test('vendor aliases normalise to one name', () => {
  const v = loaded.vocabulary;
  for (const a of ['dlink', 'd-link', 'D-Link Systems, Inc.', 'D-Link']) assert.equal(v.vendor(a), 'D-Link');
  for (const a of ['ui', 'ubnt', 'Ubiquiti Networks', 'UBIQUITI']) assert.equal(v.vendor(a), 'Ubiquiti');
  assert.equal(v.vendor('Hikvision Digital Technology Co., Ltd.'), 'Hikvision');
  assert.equal(v.vendor('TP-LINK'), 'TP-Link');
  assert.equal(v.vendor('Nobody Makes This'), undefined);
  assert.equal(v.deviceType('Broadband Router'), 'router');
});

/** A rules folder with the real vocabulary and one rule file. */
function folderWith(rule: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'iotscope-rules-'));
  copyFileSync(join(defaultRulesDir(), VOCABULARY_FILE), join(dir, VOCABULARY_FILE));
  writeFileSync(join(dir, 'broken.yaml'), JSON.stringify({ rules: [rule] }));
  return dir;
}
const good = {
  id: 'test-rule',
  description: 'a rule for loader tests',
  field: 'http.server',
  regex: '^Foo/(?<version>\\d+)$',
  certainty: 0.5,
  device: { vendor: 'D-Link', type: 'router' },
  examples: ['Foo/1'],
  counterexamples: ['Bar/1'],
};

describe('loader errors name the file and the rule', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['bad regex', { ...good, regex: '^Foo/(' }, /bad regex/],
    ['unknown vendor', { ...good, device: { vendor: 'Acme Widgets', type: 'router' } }, /vendor "Acme Widgets" is not in the vendor vocabulary/],
    ['unknown device type', { ...good, device: { vendor: 'D-Link', type: 'toaster' } }, /type "toaster" is not a device type/],
    ['missing example', { ...good, examples: [] }, /at least one positive example/],
    ['missing counterexample', { ...good, counterexamples: [] }, /at least one negative example/],
    ['placeholder without capture', { ...good, device: { vendor: 'D-Link', model: '{model}' } }, /\{model\}, which the pattern does not capture/],
    ['bad CPE', { ...good, cpe: 'cpe:2.3:h:dlink:dir 615:*:*:*:*:*:*:*:*' }, /cpe .* unescaped " "/],
    ['unknown field', { ...good, field: 'http.colour' }, /unknown field "http.colour"/],
    ['certainty out of range', { ...good, certainty: 1.5 }, /certainty/],
  ];
  for (const [name, rule, why] of cases) {
    test(name, () => {
      const dir = folderWith(rule);
      assert.throws(() => loadRules(dir), (e: unknown) => {
        assert.ok(e instanceof RuleLoadError, String(e));
        assert.match(e.message, /^broken\.yaml: rule test-rule: /);
        assert.match(e.message, why);
        return true;
      });
    });
  }
  test('a good rule loads, with its vendor normalised', () => {
    const dir = folderWith({ ...good, device: { vendor: 'dlink', type: 'router' } });
    const { rules } = loadRules(dir);
    assert.equal(rules[0]!.device?.vendor, 'D-Link');
  });
});
