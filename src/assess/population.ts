// Stage: assess (population). Checks that only make sense over every device at once: one key on many addresses
// (hard-coded in firmware), one default credential accepted by many devices of one model (a universal password).
// Pure: observations, devices and findings in, findings out.
import type { Finding } from '../core/finding.ts';
import type { Observation } from '../core/observation.ts';
import type { Device } from '../fingerprint/types.ts';
import { type CompiledPopulation, type NewFinding, valuesAt } from './checks.ts';

/** Addresses named in the evidence of a population finding, at most this many. */
const PEERS_SHOWN = 5;

export function evaluatePopulation(checks: readonly CompiledPopulation[], observations: readonly Observation[]): NewFinding[] {
  const out: NewFinding[] = [];
  for (const c of checks) {
    const groups = new Map<string, Observation[]>();
    for (const o of observations) {
      if (o.status !== 'success' || !c.test(o)) continue;
      for (const v of new Set(valuesAt(o, c.key).filter((x): x is string | number => typeof x === 'string' || typeof x === 'number').map(String))) {
        const g = groups.get(v) ?? [];
        g.push(o);
        groups.set(v, g);
      }
    }
    for (const [value, members] of groups) {
      const ips = [...new Set(members.map((m) => m.ip))];
      if (ips.length < c.minDevices) continue;
      for (const o of members) {
        out.push({
          ip: o.ip,
          port: o.port,
          transport: o.transport,
          kind: c.kind,
          id: c.id,
          title: c.title,
          severity: c.severity,
          evidence: { [c.key]: value, devices: ips.length, peers: ips.filter((i) => i !== o.ip).slice(0, PEERS_SHOWN), protocol: o.protocol, observed: o.time },
          remediation: c.remediation,
          references: c.references,
          details: { tags: c.tags, check: c.file, population: true },
        });
      }
    }
  }
  return out;
}

export const UNIVERSAL_PASSWORD_ID = 'universal-default-password';
/** Devices of one model accepting the same listed pair before it counts as the model's universal password. */
export const UNIVERSAL_MIN_DEVICES = 3;

/**
 * Default-credential findings grouped by device model and listed pair: a pair accepted by many devices of one model
 * is that model's factory password, a fault of the product rather than of each owner.
 */
export function universalDefaults(credentialFindings: readonly Pick<Finding, 'ip' | 'port' | 'transport' | 'id' | 'kind' | 'evidence'>[], devices: readonly Device[], minDevices = UNIVERSAL_MIN_DEVICES): NewFinding[] {
  const byIp = new Map(devices.map((d) => [d.ip, d]));
  const groups = new Map<string, { model: string; pair: string; findings: typeof credentialFindings[number][] }>();
  for (const f of credentialFindings) {
    if (f.kind !== 'default-credential' || f.id === UNIVERSAL_PASSWORD_ID) continue;
    const d = byIp.get(f.ip);
    const model = d && (d.model ?? d.product) ? [d.vendor, d.model ?? d.product].filter(Boolean).join(' ') : null;
    const pair = typeof f.evidence.pairId === 'string' ? f.evidence.pairId : null;
    if (!model || !pair) continue;
    const key = `${model}\u0000${pair}`;
    const g = groups.get(key) ?? { model, pair, findings: [] };
    g.findings.push(f);
    groups.set(key, g);
  }
  const out: NewFinding[] = [];
  for (const g of groups.values()) {
    const ips = [...new Set(g.findings.map((f) => f.ip))];
    if (ips.length < minDevices) continue;
    for (const f of g.findings) {
      out.push({
        ip: f.ip,
        port: f.port,
        transport: f.transport,
        kind: 'default-credential',
        id: UNIVERSAL_PASSWORD_ID,
        title: `The same default credential is accepted by ${ips.length} devices of model ${g.model}`,
        severity: 'critical',
        evidence: { model: g.model, pairId: g.pair, username: f.evidence.username, devices: ips.length, peers: ips.filter((i) => i !== f.ip).slice(0, PEERS_SHOWN) },
        remediation: 'Change the password on every unit; report the model to its manufacturer (one factory password on every unit breaches ETSI EN 303 645 provision 5.1-1 and UK PSTI) and ask for firmware that forces a unique password.',
        references: ['https://cwe.mitre.org/data/definitions/1392.html', 'https://www.etsi.org/deliver/etsi_en/303600_303699/303645/02.01.01_60/en_303645v020101p.pdf'],
        details: { population: true },
      });
    }
  }
  return out;
}
