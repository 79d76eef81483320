// Stage: fingerprint (verification). Runs a rule's own positive and negative examples through the classifier the
// way scanned data goes through it; the tests call this for every rule, own and imported alike.
import type { Classifier } from './classify.ts';
import { observationOf } from './fields.ts';
import { fillParams } from './recog.ts';
import type { Match, Rule } from './types.ts';

/** What one example should have produced, said in words; empty when every example holds. */
export function checkRuleExamples(classifier: Classifier, rule: Rule): string[] {
  const problems: string[] = [];
  for (const ex of rule.examples) {
    const field = ex.field ?? rule.fields[0]!;
    const obs = observationOf(field, ex.input);
    const match = classifier.classify(obs).find((m) => m.ruleId === rule.id);
    if (!match) {
      problems.push(`example ${JSON.stringify(ex.input)} on ${field} did not match`);
      continue;
    }
    for (const [k, want] of Object.entries(ex.captures ?? {})) {
      if (match.captures[k] !== want) problems.push(`example ${JSON.stringify(ex.input)}: capture ${k} is ${JSON.stringify(match.captures[k])}, expected ${JSON.stringify(want)}`);
    }
    if (ex.params && rule.params) {
      const got = fillParams(rule.params, match.captures);
      for (const [k, want] of Object.entries(ex.params)) {
        if (got[k] !== want) problems.push(`example ${JSON.stringify(ex.input)}: param ${k} is ${JSON.stringify(got[k])}, expected ${JSON.stringify(want)}`);
      }
    }
    for (const [k, want] of Object.entries(ex.expect ?? {})) {
      const got = expectedPart(match, k);
      if (k === 'cpe' ? !match.cpe.includes(want) : got !== want) {
        problems.push(`example ${JSON.stringify(ex.input)}: ${k} is ${JSON.stringify(k === 'cpe' ? match.cpe : got)}, expected ${JSON.stringify(want)}`);
      }
    }
  }
  for (const neg of rule.counterexamples) {
    for (const field of rule.fields) {
      if (classifier.classify(observationOf(field, neg)).some((m) => m.ruleId === rule.id)) {
        problems.push(`counterexample ${JSON.stringify(neg)} on ${field} matched`);
      }
    }
  }
  return problems;
}

/** 'device.model' → match.device.model, and so on. */
export function expectedPart(m: Match, path: string): string | undefined {
  const [layer, key] = path.split('.') as [string, string | undefined];
  if (layer !== 'device' && layer !== 'os' && layer !== 'software') return undefined;
  const idn = m[layer];
  return idn && key ? (idn as Record<string, string | undefined>)[key] : undefined;
}
