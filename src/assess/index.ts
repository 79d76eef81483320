// Stage: assess. What other stages use of the assessment: the exposure checks and their recording in the store,
// and the opt-in credential audit.
export { assessExposure, assessObservations, defaultChecks, EXPOSURE_KINDS, type AssessResult } from './exposure.ts';
export { loadChecks, parseCheckFile, evaluateChecks, CheckLoadError, type CheckSet, type NewFinding } from './checks.ts';
export { evaluatePopulation, universalDefaults } from './population.ts';
