// Stage: assess (exposure). Runs the exposure checks and the population checks over the latest observation of every
// service in the store, and records the findings: new ones open, ones no longer seen become fixed.
import type { FindingKind } from '../core/finding.ts';
import type { Observation } from '../core/observation.ts';
import { latestPerService } from '../fingerprint/refresh.ts';
import type { FindingChanges, Store } from '../store/store.ts';
import { type CheckSet, evaluateChecks, loadChecks, type NewFinding } from './checks.ts';
import { evaluatePopulation } from './population.ts';

/** The finding kinds exposure checks own: an assessment replaces the open findings of these kinds. */
export const EXPOSURE_KINDS: FindingKind[] = ['exposure', 'no-auth', 'cleartext', 'weak-tls'];

let cached: CheckSet | null = null;
export function defaultChecks(): CheckSet {
  cached ??= loadChecks();
  return cached;
}

/** Pure: every finding the checks raise over these observations (latest per service already chosen). */
export function assessObservations(checks: CheckSet, observations: readonly Observation[], populationObservations: readonly Observation[] = observations): NewFinding[] {
  const assessed = new Set(observations.map((o) => o.ip));
  return [
    ...evaluateChecks(checks.checks, observations),
    ...evaluatePopulation(checks.population, populationObservations).filter((f) => assessed.has(f.ip)),
  ];
}

export interface AssessOptions {
  checks?: CheckSet;
  /** findings of these kinds from another stage of the same assessment (the credential audit's no-auth results) */
  extra?: NewFinding[];
  time?: string;
}

export interface AssessResult extends FindingChanges {
  addresses: number;
  findings: number;
}

/**
 * Assess the given addresses (every address in the store without a list). Population checks always look at the
 * whole store, since a key shared with devices scanned last month is still shared.
 */
export async function assessExposure(store: Store, ips?: Iterable<string>, opts: AssessOptions = {}): Promise<AssessResult> {
  const checks = opts.checks ?? defaultChecks();
  const wanted = ips ? new Set(ips) : null;
  const observations: Observation[] = [];
  const population: Observation[] = [];
  const popNeeded = checks.population.length > 0;
  const assessed: string[] = [];
  // population checks look at every address; otherwise only the given ones are read
  for await (const host of store.observationsByHost({ ips: popNeeded ? undefined : wanted ?? undefined, status: 'any' })) {
    const latest = latestPerService(host.observations).filter((o) => o.protocol !== 'event');
    if (popNeeded) for (const o of latest) if (checks.population.some((c) => c.test(o))) population.push(o);
    if (!wanted || wanted.has(host.ip)) {
      for (const o of latest) observations.push(o);
      assessed.push(host.ip);
    }
  }
  // given addresses that have no observation left are assessed too: whatever was open on them is now fixed
  const targets = wanted ? [...wanted] : assessed;
  const inScope = wanted ?? new Set(assessed);
  const findings = [...assessObservations(checks, observations, population), ...(opts.extra ?? []).filter((f) => inScope.has(f.ip))];
  const time = opts.time ?? new Date().toISOString();
  const changes = await store.recordFindings({ ips: targets, kinds: EXPOSURE_KINDS, time }, findings);
  return { ...changes, addresses: targets.length, findings: findings.length };
}
