// Stage: assess (credential audit). Tries listed default credentials on the services a scan found — only when the
// scope file authorises `credentials` AND the operator asked for it. Per service: a negative control first (a random
// user and password must fail), then listed pairs under strict caps (per host, per service, a delay between
// attempts), stopping at the first success. Findings name the pair (list#position, source, user), never a password.
import type { Observation } from '../../core/observation.ts';
import type { Scope } from '../../core/scope.ts';
import { createProbeContext, type ProbeLimits } from '../../scan/context.ts';
import { ProbeError, statusOfError } from '../../scan/probe.ts';
import { RateLimiter, sleep } from '../../scan/rate.ts';
import type { Store } from '../../store/store.ts';
import type { NewFinding } from '../checks.ts';
import { assessExposure } from '../exposure.ts';
import { universalDefaults, UNIVERSAL_PASSWORD_ID } from '../population.ts';
import { type AuditProtocol, type CredentialList, type CredentialPair, loadCredentialLists, pairsFor } from './pairs.ts';
import { type Attempt, ATTEMPTS, type AttemptSession, type AuditTarget, randomCredential } from './protocols.ts';

export const AUTHORIZATION = 'credentials';

export class CredentialAuditRefused extends Error {
  override name = 'CredentialAuditRefused';
}

export interface AuditLimits {
  /** login attempts (negative control included) on one address, all services together */
  maxAttemptsPerHost: number;
  /** login attempts (negative control included) on one service */
  maxAttemptsPerService: number;
  /** pause between two attempts on the same host, ms */
  delayMs: number;
  /** hosts audited at the same time */
  hostConcurrency: number;
}

export const DEFAULT_AUDIT_LIMITS: AuditLimits = { maxAttemptsPerHost: 16, maxAttemptsPerService: 6, delayMs: 1000, hostConcurrency: 4 };

/** One attempt as logs and tests may see it: which pair, never which password. */
export interface AttemptEvent {
  ip: string;
  port: number;
  protocol: string;
  pair: string;
  outcome: 'accepted' | 'rejected' | 'no-auth' | 'error';
  error?: string;
}

export interface AuditOptions {
  scope: Scope;
  /** the operator passed --check-credentials */
  requested: boolean;
  lists?: CredentialList[];
  limits?: Partial<AuditLimits>;
  probeLimits?: Partial<ProbeLimits>;
  /** new connections per second, shared by every attempt (the scan's --rate) */
  rate?: number;
  /** device vendor of an address, to try that vendor's list first */
  vendorOf?: (ip: string) => string | undefined;
  onAttempt?: (e: AttemptEvent) => void;
  signal?: AbortSignal;
  /** replaces the wire attempts (tests of the caps) */
  attempts?: Record<string, Attempt>;
}

export interface AuditResult {
  findings: NewFinding[];
  /** services that took a random credential or none: no default-credential finding, a no-auth one instead */
  noAuth: NewFinding[];
  attempts: number;
  audited: { ip: string; port: number; protocol: string; attempts: number; outcome: string }[];
}

/** Refuses unless both the scope file and the operator allow the audit. Called before anything is sent. */
export function assertAuditAllowed(scope: Scope, requested: boolean): void {
  if (!requested) throw new CredentialAuditRefused('the credential audit runs only with --check-credentials');
  if (!scope.authorized.has(AUTHORIZATION)) throw new CredentialAuditRefused(`the scope file does not authorise the credential audit (add "${AUTHORIZATION}" to its authorize: list)`);
}

/** Which services the audit knocks on, as the scan saw them: only where a login is what stands in the way. */
export function auditTarget(o: Pick<Observation, 'ip' | 'port' | 'transport' | 'protocol' | 'status' | 'data'>): (AuditTarget & { protocol: AuditProtocol }) | null {
  if (o.status !== 'success') return null;
  const d = o.data as Record<string, unknown>;
  const tls = !!d.tls;
  switch (o.protocol) {
    case 'telnet':
    case 'ssh':
    case 'ftp':
      return o.transport === 'tcp' ? { ip: o.ip, port: o.port, protocol: o.protocol } : null;
    case 'http':
    case 'https':
      // Basic or Digest on the page the scan fetched, or a login form on it.
      if (d.statusCode === 401 && typeof d.authScheme === 'string' && /^(?:basic|digest)$/i.test(d.authScheme)) return { ip: o.ip, port: o.port, protocol: 'http', tls: o.protocol === 'https' || tls, path: typeof d.path === 'string' ? d.path : '/' };
      return d.statusCode === 200 && d.loginForm === true ? { ip: o.ip, port: o.port, protocol: 'http', tls: o.protocol === 'https' || tls, path: typeof d.path === 'string' ? d.path : '/', form: true } : null;
    case 'rtsp':
      return d.authRequired === true ? { ip: o.ip, port: o.port, protocol: 'rtsp', path: typeof d.url === 'string' ? d.url : undefined } : null;
    case 'mqtt':
    case 'mqtts':
      return d.anonymous === false || d.connackCode === 4 || d.connackCode === 5 ? { ip: o.ip, port: o.port, protocol: o.protocol, tls: o.protocol === 'mqtts' || tls } : null;
    case 'snmp':
      return o.transport === 'udp' ? { ip: o.ip, port: o.port, protocol: 'snmp' } : null;
    default:
      return null;
  }
}

/** Which attempt speaks to a target: login forms have their own, everything else goes by protocol. */
const attemptKey = (t: AuditTarget) => (t.form ? 'http-form' : t.protocol);

const SEVERITY: Record<string, NewFinding['severity']> = { telnet: 'critical', ssh: 'critical', snmp: 'high', http: 'high', rtsp: 'high', mqtt: 'high', mqtts: 'high', ftp: 'high' };

/** Run the audit over the given services (the latest observation of each). */
export async function auditCredentials(services: readonly Pick<Observation, 'ip' | 'port' | 'transport' | 'protocol' | 'status' | 'data'>[], opts: AuditOptions): Promise<AuditResult> {
  assertAuditAllowed(opts.scope, opts.requested);
  const limits = { ...DEFAULT_AUDIT_LIMITS, ...opts.limits };
  const lists = opts.lists ?? loadCredentialLists();
  const attempts = opts.attempts ?? ATTEMPTS;
  const limiter = new RateLimiter(opts.rate ?? 0, opts.signal);
  const result: AuditResult = { findings: [], noAuth: [], attempts: 0, audited: [] };
  const byHost = new Map<string, { target: AuditTarget & { protocol: AuditProtocol }; obs: (typeof services)[number] }[]>();
  for (const o of services) {
    const t = auditTarget(o);
    if (!t || opts.scope.refusal(t.ip)) continue;
    const list = byHost.get(t.ip) ?? [];
    if (!list.some((x) => x.target.port === t.port && x.target.protocol === t.protocol)) list.push({ target: t, obs: o });
    byHost.set(t.ip, list);
  }

  const auditHost = async (ip: string, items: NonNullable<ReturnType<typeof byHost.get>>) => {
    let hostAttempts = 0;
    let first = true;
    const tryOnce = async (target: AuditTarget, cred: { user: string; password: string } | null, pair: string, session: AttemptSession) => {
      if (!first) await sleep(limits.delayMs, opts.signal);
      first = false;
      hostAttempts++;
      result.attempts++;
      const ctx = createProbeContext({ ip: target.ip, port: target.port, transport: target.protocol === 'snmp' ? 'udp' : 'tcp' }, { scope: opts.scope, limits: { maxConnections: 4, ...opts.probeLimits }, signal: opts.signal, beforeDial: () => limiter.acquire() });
      try {
        const outcome = await attempts[attemptKey(target)]!(ctx, target, cred, session);
        opts.onAttempt?.({ ip: target.ip, port: target.port, protocol: target.protocol, pair, outcome });
        return outcome;
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        const safe = cred && cred.password ? msg.split(cred.password).join('…') : msg;
        opts.onAttempt?.({ ip: target.ip, port: target.port, protocol: target.protocol, pair, outcome: 'error', error: safe });
        throw new ProbeError(statusOfError(e), safe);
      } finally {
        ctx.closeAll();
      }
    };

    for (const { target, obs } of items) {
      if (opts.signal?.aborted) return;
      const attempt = attempts[attemptKey(target)];
      if (!attempt) continue;
      const session: AttemptSession = { negativeControl: true, memo: {} };
      let serviceAttempts = 0;
      const room = () => serviceAttempts < limits.maxAttemptsPerService && hostAttempts < limits.maxAttemptsPerHost && !opts.signal?.aborted;
      const summary = { ip, port: target.port, protocol: target.protocol, attempts: 0, outcome: 'nothing accepted' };
      result.audited.push(summary);
      if (!room()) {
        summary.outcome = 'host cap reached';
        continue;
      }
      try {
        // Negative control: a credential nobody set must fail, or an "accepted" would prove nothing.
        serviceAttempts++;
        const control = await tryOnce(target, randomCredential(), 'negative-control', session);
        session.negativeControl = false;
        if (control !== 'rejected' && target.form) {
          // A form whose answer to a random credential does not read as a refusal cannot tell a login from a
          // failure: that proves nothing either way, so no finding of any kind.
          summary.outcome = 'login form: a random credential did not look refused, nothing concluded';
          continue;
        }
        if (control !== 'rejected') {
          summary.outcome = 'accepts any credential';
          result.noAuth.push({
            ip,
            port: target.port,
            transport: obs.transport,
            kind: 'no-auth',
            id: `${target.protocol}-accepts-any-credential`,
            title: `${target.protocol.toUpperCase()} lets anyone in: a random user name and password were accepted`,
            severity: 'critical',
            evidence: { protocol: target.protocol, negativeControl: control },
            remediation: 'The service does not check credentials at all. Turn it off or configure real authentication.',
            references: ['https://cwe.mitre.org/data/definitions/306.html'],
          });
          continue;
        }
        const known = (obs.data as { community?: unknown }).community;
        for (const pair of pairsFor(lists, target.protocol, opts.vendorOf?.(ip))) {
          if (!room()) {
            summary.outcome = 'cap reached, nothing accepted';
            break;
          }
          // The scan already showed this community answers; the exposure checks report it.
          if (target.protocol === 'snmp' && pair.password === known) continue;
          serviceAttempts++;
          const outcome = await tryOnce(target, pair, pair.id, session);
          if (outcome === 'accepted') {
            summary.outcome = `accepted ${pair.id}`;
            result.findings.push(credentialFinding(ip, target, obs.transport, pair, serviceAttempts));
            break;
          }
        }
      } catch (e) {
        summary.outcome = `stopped: ${(e as Error).message}`;
      } finally {
        summary.attempts = serviceAttempts;
      }
    }
  };

  const hosts = [...byHost.entries()];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limits.hostConcurrency, hosts.length) }, async () => {
      while (next < hosts.length) {
        const [ip, items] = hosts[next++]!;
        await auditHost(ip, items);
      }
    }),
  );
  return result;
}

function credentialFinding(ip: string, target: AuditTarget, transport: 'tcp' | 'udp', pair: CredentialPair, attempts: number): NewFinding {
  const isCommunity = target.protocol === 'snmp';
  return {
    ip,
    port: target.port,
    transport,
    kind: 'default-credential',
    id: `default-credential-${target.protocol}${target.form ? '-form' : ''}`,
    title: isCommunity ? 'SNMP answers a default community from a public list' : target.form ? 'The web login form accepts a default credential from a public list' : `${target.protocol.toUpperCase()} accepts a default credential from a public list`,
    severity: isCommunity && pair.password === 'private' ? 'critical' : (SEVERITY[target.protocol] ?? 'high'),
    // The pair id and the user name say which listed default it was; the password stays out of the record.
    evidence: { protocol: target.protocol, ...(target.form ? { login: 'form', path: target.path } : {}), pairId: pair.id, list: pair.list, source: pair.source, sourceUrl: pair.sourceUrl, ...(isCommunity ? {} : { username: pair.user }), attempts },
    remediation: isCommunity
      ? 'Change the SNMP communities to long random values (or disable v1/v2c and use SNMPv3 authPriv), and restrict the agent to management addresses.'
      : 'Change the password now (it is on public lists bots use), disable the service if it is not needed, and update the firmware; ask the vendor for firmware that forces a unique password at first use.',
    references: ['https://cwe.mitre.org/data/definitions/1392.html', pair.sourceUrl],
  };
}

export interface AuditRunOptions extends Omit<AuditOptions, 'vendorOf'> {
  /** the run whose services to audit */
  runId: string;
  time?: string;
}

/**
 * The store side: audit the services a run found, record default-credential findings (and the universal-password
 * view over all devices of a model), and hand no-auth results to the exposure assessment.
 */
export async function auditRun(store: Store, opts: AuditRunOptions): Promise<AuditResult> {
  assertAuditAllowed(opts.scope, opts.requested);
  const services = (await store.services({ runId: opts.runId })).filter((s) => s.status === 'success');
  const devices = await store.devices({ noise: 'include' });
  const vendors = new Map(devices.map((d) => [d.ip, d.vendor]));
  const result = await auditCredentials(services, { ...opts, vendorOf: (ip) => vendors.get(ip) });
  const ips = [...new Set(result.audited.map((a) => a.ip))];
  if (!ips.length) return result;
  const audited = new Set(ips);
  const earlier = (await store.findings({ kind: 'default-credential', state: 'open' })).filter((f) => !audited.has(f.ip) && f.id !== UNIVERSAL_PASSWORD_ID);
  const universal = universalDefaults([...earlier, ...result.findings], devices).filter((f) => audited.has(f.ip));
  const time = opts.time ?? new Date().toISOString();
  await store.recordFindings({ ips, kinds: ['default-credential'], time }, [...result.findings, ...universal]);
  if (result.noAuth.length) await assessExposure(store, ips, { extra: result.noAuth, time });
  return result;
}
