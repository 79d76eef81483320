// Stage: pure core, first gate of the data flow. The scope is what the operator is authorised to touch. Targets
// are cut down to it before the engine sees them, and the dialer asks it again before every packet.
import { z } from 'zod';
import { type Family, type IpRange, contains, formatRange, intersect, normalise, parseIp, parseRange, subtract } from './ipnum.ts';

/** Active checks that need explicit authorisation in the scope file. */
export const AUTHORIZABLE = ['credentials'] as const;

export const scopeFileSchema = z
  .object({
    allow: z.array(z.string()).min(1, 'allow: must list at least one address or CIDR'),
    exclude: z.array(z.string()).default([]),
    authorize: z.array(z.enum(AUTHORIZABLE)).default([]),
    operator: z.string().max(200).optional(),
  })
  .strict();

export type ScopeFile = z.infer<typeof scopeFileSchema>;

/** Reserved and special-purpose ranges (IANA registries): refused unless an allow entry lies inside them. */
const SPECIAL: { spec: string; name: string; never?: boolean }[] = [
  { spec: '0.0.0.0/8', name: 'this network' },
  { spec: '10.0.0.0/8', name: 'private' },
  { spec: '100.64.0.0/10', name: 'shared address space (CGN)' },
  { spec: '127.0.0.0/8', name: 'loopback' },
  { spec: '169.254.0.0/16', name: 'link-local' },
  { spec: '172.16.0.0/12', name: 'private' },
  { spec: '192.0.0.0/24', name: 'IETF protocol assignments' },
  { spec: '192.0.2.0/24', name: 'documentation' },
  { spec: '192.88.99.0/24', name: '6to4 relay anycast' },
  { spec: '192.168.0.0/16', name: 'private' },
  { spec: '198.18.0.0/15', name: 'benchmarking' },
  { spec: '198.51.100.0/24', name: 'documentation' },
  { spec: '203.0.113.0/24', name: 'documentation' },
  { spec: '224.0.0.0/4', name: 'multicast', never: true },
  { spec: '240.0.0.0/4', name: 'reserved' },
  { spec: '255.255.255.255/32', name: 'broadcast', never: true },
  { spec: '::/128', name: 'unspecified', never: true },
  { spec: '::1/128', name: 'loopback' },
  { spec: '::ffff:0:0/96', name: 'IPv4-mapped' },
  { spec: '64:ff9b::/96', name: 'NAT64' },
  { spec: '100::/64', name: 'discard-only' },
  { spec: '2001::/23', name: 'IETF protocol assignments' },
  { spec: '2001:db8::/32', name: 'documentation' },
  { spec: '2002::/16', name: '6to4' },
  { spec: 'fc00::/7', name: 'unique local' },
  { spec: 'fe80::/10', name: 'link-local' },
  { spec: 'ff00::/8', name: 'multicast', never: true },
];
const SPECIAL_RANGES = SPECIAL.map((s) => ({ ...s, range: parseRange(s.spec)! }));

export class ScopeError extends Error {
  override name = 'ScopeError';
}

export class Scope {
  readonly allow: IpRange[];
  readonly exclude: IpRange[];
  readonly authorized: ReadonlySet<string>;
  readonly operator: string | undefined;

  constructor(file: ScopeFile, where = 'scope') {
    const parse = (list: string[], key: string) =>
      list.map((spec, i) => {
        const r = parseRange(spec);
        if (!r) throw new ScopeError(`${where}: ${key}[${i}] "${spec}" is not an address, CIDR or range`);
        return r;
      });
    this.allow = parse(file.allow, 'allow');
    this.exclude = parse(file.exclude, 'exclude');
    this.authorized = new Set(file.authorize);
    this.operator = file.operator;
  }

  /** Why an address may not be touched, or null when it may. */
  refusal(ip: string): string | null {
    const p = parseIp(ip);
    if (!p) return `${ip} is not an IP address`;
    return this.refusalOf(p.family, p.value, ip);
  }

  private refusalOf(family: Family, v: bigint, text: string): string | null {
    const covering = this.allow.filter((r) => contains(r, family, v));
    if (!covering.length) return `${text} is outside the scope (not in allow:)`;
    for (const r of this.exclude) if (contains(r, family, v)) return `${text} is excluded by the scope (exclude: ${formatRange(r)})`;
    for (const s of SPECIAL_RANGES) {
      if (!contains(s.range, family, v)) continue;
      if (s.never) return `${text} is ${s.name} (${s.spec}); never scanned`;
      // "Listed explicitly": some allow entry covering the address lies inside the special range itself.
      const explicit = covering.some((r) => r.first >= s.range.first && r.last <= s.range.last);
      if (!explicit) return `${text} is in the ${s.name} range ${s.spec}; list it (or a part of it) in allow: to scan it`;
    }
    return null;
  }

  /** Split requested target ranges into the parts inside the scope and the refused parts with reasons. */
  cut(targets: IpRange[]): { inScope: IpRange[]; refused: { range: IpRange; reason: string }[] } {
    let pending = normalise(targets);
    const inScope: IpRange[] = [];
    const refused: { range: IpRange; reason: string }[] = [];
    // Boundaries where the verdict can change: allow, exclude and special ranges. Split targets at them, then judge
    // each piece by its first address.
    const cuts = [...this.allow, ...this.exclude, ...SPECIAL_RANGES.map((s) => s.range)];
    for (const c of cuts) {
      const next: IpRange[] = [];
      for (const t of pending) {
        const i = intersect(t, c);
        if (!i) next.push(t);
        else next.push(i, ...subtract(t, c));
      }
      pending = next;
    }
    for (const piece of pending) {
      const why = this.refusalOf(piece.family, piece.first, formatRange(piece));
      if (why) refused.push({ range: piece, reason: why });
      else inScope.push(piece);
    }
    return { inScope: normalise(inScope), refused: refused.sort((a, b) => (a.range.first < b.range.first ? -1 : 1)) };
  }
}

export function parseScopeYaml(text: string, where: string, parseYaml: (t: string) => unknown): Scope {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new ScopeError(`${where}: not valid YAML: ${(e as Error).message}`);
  }
  const r = scopeFileSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new ScopeError(`${where}: ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  }
  return new Scope(r.data, where);
}
