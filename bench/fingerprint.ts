// Benchmark: fingerprint classification rate. Every example of the Recog databases (and of our own rules) becomes an
// observation, and all rules — ours plus every translated Recog fingerprint — classify them on one core. Prints the
// median banners/s of several runs, next to a naive run of every rule of the field for comparison.
// Usage: npx tsx bench/fingerprint.ts [RECOG_XML_DIR]   (default: ../shared/fixtures/recog/xml)
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { FIXTURES } from '../test/testbed.ts';
import { createClassifier } from '../src/fingerprint/classify.ts';
import { observationFields, observationOf } from '../src/fingerprint/fields.ts';
import { importRecog } from '../src/fingerprint/recog.ts';
import { loadRules } from '../src/fingerprint/rules.ts';

const RUNS = 7;
const recogDir = process.argv[2] ?? join(FIXTURES, 'recog', 'xml');

const { rules: own, vocabulary } = loadRules();
const recog = importRecog(recogDir, vocabulary);
const rules = [...own, ...recog.rules];
const t0 = performance.now();
const classifier = createClassifier(rules, vocabulary);
const compileMs = performance.now() - t0;

const recogInputs = recog.rules.flatMap((r) => r.examples.map((e) => observationOf(e.field ?? r.fields[0]!, e.input)));
const ownInputs = own.flatMap((r) => r.examples.map((e) => observationOf(e.field ?? r.fields[0]!, e.input)));

function rate(inputs: ReturnType<typeof observationOf>[], classify: (o: ReturnType<typeof observationOf>) => number): { perSecond: number; matched: number } {
  // Repeat the set so one run lasts long enough to time well.
  const rounds = Math.max(1, Math.ceil(20_000 / inputs.length));
  let matched = 0;
  const start = performance.now();
  for (let r = 0; r < rounds; r++) for (const o of inputs) matched += classify(o) > 0 ? 1 : 0;
  const s = (performance.now() - start) / 1000;
  return { perSecond: (rounds * inputs.length) / s, matched: matched / rounds };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** The same work without the literal prefilter: every pattern of the field runs on every value. */
const byField = new Map<string, typeof rules>();
for (const r of rules) for (const f of r.fields) byField.set(f, [...(byField.get(f) ?? []), r]);
function naive(o: ReturnType<typeof observationOf>): number {
  let n = 0;
  for (const [field, value] of observationFields(o)) {
    for (const r of byField.get(field) ?? []) if (r.matcher.kind === 'regex' ? r.matcher.regex.test(value) : r.matcher.values.includes(value.toLowerCase())) n++;
  }
  return n;
}

rate(recogInputs, (o) => classifier.classify(o).length); // warm-up
const recogRuns: number[] = [];
const ownRuns: number[] = [];
let matched = 0;
for (let i = 0; i < RUNS; i++) {
  const r = rate(recogInputs, (o) => classifier.classify(o).length);
  recogRuns.push(r.perSecond);
  matched = r.matched;
  ownRuns.push(rate(ownInputs, (o) => classifier.classify(o).length).perSecond);
}
const naiveRate = rate(recogInputs, naive).perSecond;

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
console.log(`rules loaded: ${rules.length} (own ${own.length}, Recog ${recog.rules.length} translated of ${recog.report.total}, ${recog.report.skipped.length} skipped); compiled in ${compileMs.toFixed(0)} ms`);
console.log(`prefilter: ${classifier.stats.prefiltered} patterns behind literal automata, ${classifier.stats.alwaysRun} always run, ${classifier.stats.lookup} hash lookups`);
console.log(`Recog examples: ${recogInputs.length} banners, ${fmt(matched)} matched per pass`);
console.log(`classified per second, median of ${RUNS} runs, one core:`);
console.log(`  Recog examples, all rules: ${fmt(median(recogRuns))} banners/s  (runs: ${recogRuns.map(fmt).join(', ')})`);
console.log(`  own rule examples:         ${fmt(median(ownRuns))} banners/s`);
console.log(`  naive (every pattern of the field, no prefilter): ${fmt(naiveRate)} banners/s  → prefilter speed-up ×${(median(recogRuns) / naiveRate).toFixed(1)}`);
console.log(`target ≥ 50,000 banners/s: ${median(recogRuns) >= 50_000 ? 'met' : 'NOT met'}`);
