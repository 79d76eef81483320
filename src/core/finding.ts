// Stage: records. A finding says what is wrong with a device, how bad it is and how to fix it. The assessment
// stages (checks, credential audit, CVE matching, baselines, incidents) produce them; the store tracks their life
// cycle; statistics, dashboard, report and notifications read them. Pure types, no I/O.

export const FINDING_KINDS = ['exposure', 'no-auth', 'cleartext', 'weak-tls', 'default-credential', 'vulnerability', 'infection', 'baseline'] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

export type FindingState = 'open' | 'fixed' | 'accepted';

export interface Finding {
  /** the device's address */
  ip: string;
  /** the service the finding is about, when it is about one */
  port?: number;
  transport?: 'tcp' | 'udp';
  kind: FindingKind;
  /** check id ("telnet-exposed"), CVE id ("CVE-2021-36260"), baseline clause, … */
  id: string;
  title: string;
  severity: Severity;
  /** what was seen that shows the problem: observation facts, matched values; device text, never a password */
  evidence: Record<string, unknown>;
  /** what the owner should do */
  remediation: string;
  references?: string[];
  /** kind-specific detail (CVSS, KEV, EPSS and match confidence for vulnerabilities, …) */
  details?: Record<string, unknown>;
  firstSeen: string;
  lastSeen: string;
  state: FindingState;
  /** when a later assessment stopped seeing it */
  fixedAt?: string;
}

/** The identity of a finding across assessments: same device, same service, same problem. */
export function findingKey(f: Pick<Finding, 'ip' | 'port' | 'transport' | 'kind' | 'id'>): string {
  return [f.ip, f.port ?? '', f.transport ?? '', f.kind, f.id].join('|');
}

export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}
