// Stage: fingerprint. The stage's public face for the scan pipeline, the importers' pipeline, the store and the
// CLI: load rules (own and Recog), classify observations, merge per host, track over time, tag noise.
export { createClassifier, Classifier, type ClassifierStats } from './classify.ts';
export { defaultRulesDir, loadRules, RuleLoadError, type LoadedRules } from './rules.ts';
export { importRecog, RECOG_DATABASES, type RecogImport, type RecogDatabaseReport, type SkippedFingerprint } from './recog.ts';
export { mergeHost, trackDevice } from './merge.ts';
export { tagNoise, withNoise, excludeNoise, DEFAULT_NOISE_OPTIONS, type NoiseOptions } from './noise.ts';
export { observationFields, FIELDS } from './fields.ts';
export { Vocabulary } from './vocabulary.ts';
export type { Device, DeviceEvent, Evidence, Identity, Layer, Match, NoiseTag, Rule, SoftwareSeen } from './types.ts';

import type { Observation } from '../core/observation.ts';
import { createClassifier, type Classifier } from './classify.ts';
import { mergeHost } from './merge.ts';
import { withNoise } from './noise.ts';
import { importRecog } from './recog.ts';
import { loadRules } from './rules.ts';
import type { Device } from './types.ts';

/** Own rules from `rulesDir` (default: the installed content/fingerprints), plus Recog databases when given. */
export function loadClassifier(opts: { rulesDir?: string; recogDir?: string } = {}): Classifier {
  const { rules, vocabulary } = loadRules(opts.rulesDir);
  const recog = opts.recogDir ? importRecog(opts.recogDir, vocabulary).rules : [];
  // Own rules first: at equal certainty, the merge prefers the value seen first.
  return createClassifier([...rules, ...recog], vocabulary);
}

/** Classify, merge and tag all observations of one address: the whole stage for one host. */
export function fingerprintHost(classifier: Classifier, observations: readonly Observation[]): Device {
  const matches = observations.map((o) => (o.status === 'success' ? classifier.classify(o) : []));
  return withNoise(mergeHost(observations, matches), observations);
}
