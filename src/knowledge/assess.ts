// Stage: assess (vulnerabilities). Turns CVE matches of every device into findings of kind 'vulnerability', with
// CVSS, KEV, EPSS, match confidence and remediation, and records them so the store tracks open and fixed ones.
import type { Finding, Severity } from '../core/finding.ts';
import type { Store, FindingChanges } from '../store/store.ts';
import type { KnowledgeBase } from './kb.ts';
import { VulnIndex, type VulnMatch } from './match.ts';

type NewFinding = Omit<Finding, 'firstSeen' | 'lastSeen' | 'state' | 'fixedAt'>;

/** Severity from the CVSS base score (critical ≥ 9, high ≥ 7, medium ≥ 4, low > 0); KEV raises it to at least high. */
export function severityOf(m: Pick<VulnMatch, 'cvss' | 'kev'>): Severity {
  const s = m.cvss?.score;
  let sev: Severity = s === undefined ? 'medium' : s >= 9 ? 'critical' : s >= 7 ? 'high' : s >= 4 ? 'medium' : s > 0 ? 'low' : 'info';
  if (m.kev && sev !== 'critical') sev = 'high';
  return sev;
}

export function remediationOf(m: VulnMatch): string {
  const parts: string[] = [];
  if (m.fixedVersion) parts.push(`Update to version ${m.fixedVersion} or later (the first version the data lists as fixed).`);
  else parts.push('No fixed version is given in the data; check the vendor advisory, replace the device if it is end of life, or keep it off the internet.');
  if (m.kev?.requiredAction) parts.push(`CISA KEV required action: ${m.kev.requiredAction}`);
  const adv = m.references.find((r) => (r.tags ?? []).some((t) => /vendor.?advisory|patch/i.test(t)));
  if (adv) parts.push(`Advisory: ${adv.url}`);
  return parts.join(' ');
}

export function findingOf(ip: string, m: VulnMatch): NewFinding {
  return {
    ip,
    kind: 'vulnerability',
    id: m.cve,
    title: m.title,
    severity: severityOf(m),
    evidence: { answer: m.answer, confidence: m.confidence, reasons: m.reasons, matched: m.matched, basis: m.basis },
    remediation: remediationOf(m),
    references: m.references.map((r) => r.url),
    details: {
      answer: m.answer,
      confidence: m.confidence,
      ...(m.cvss ? { cvss: { version: m.cvss.version, score: m.cvss.score, vector: m.cvss.vector, source: m.cvss.source } } : {}),
      kev: m.kev ? { dateAdded: m.kev.dateAdded, knownRansomwareCampaignUse: m.kev.knownRansomwareCampaignUse ?? 'Unknown', source: m.kev.source, ...(m.kev.dueDate ? { dueDate: m.kev.dueDate } : {}) } : null,
      epss: m.epss ?? null,
      ...(m.fixedVersion ? { fixedVersion: m.fixedVersion } : {}),
    },
  };
}

export interface AssessResult extends FindingChanges {
  devices: number;
  findings: number;
}

/** Match every device (or those at `ips`) and record the findings; open ones no longer matched become fixed. */
export async function assessVulnerabilities(store: Store, kb: KnowledgeBase, ips?: string[], index?: VulnIndex): Promise<AssessResult> {
  const ix = index ?? VulnIndex.fromKnowledgeBase(kb);
  const devices = await store.devices({ noise: 'include' });
  const wanted = ips ? new Set(ips) : null;
  const chosen = wanted ? devices.filter((d) => wanted.has(d.ip)) : devices;
  const findings: NewFinding[] = [];
  for (const d of chosen) for (const m of ix.match(ix.profileOfDevice(d))) findings.push(findingOf(d.ip, m));
  const changes = await store.recordFindings({ ips: ips ?? chosen.map((d) => d.ip), kinds: ['vulnerability'], time: new Date().toISOString() }, findings);
  return { ...changes, devices: chosen.length, findings: findings.length };
}
