// Stage: assess (credential audit, data). Loads the default-credential lists under content/credentials/: each list
// names its protocols, optionally the vendors it belongs to, and its public source. A pair is referred to by its
// id (list#position) everywhere after loading, so the password itself never leaves this module's callers' memory.
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { z } from 'zod';

export const AUDIT_PROTOCOLS = ['telnet', 'ssh', 'ftp', 'http', 'rtsp', 'mqtt', 'mqtts', 'snmp'] as const;
export type AuditProtocol = (typeof AUDIT_PROTOCOLS)[number];

export function defaultCredentialsDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'content', 'credentials');
}

const Applies = z.strictObject({ protocol: z.enum(AUDIT_PROTOCOLS), vendor: z.string().optional() });
const ListSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9-]+$/),
  protocols: z.array(z.enum(AUDIT_PROTOCOLS)).min(1),
  vendors: z.array(z.string().min(1)).optional(),
  source: z.strictObject({ name: z.string().min(10), url: z.string().url() }),
  pairs: z
    .array(z.strictObject({ user: z.string().max(64).optional(), password: z.string().max(128), weight: z.number().int().min(0).optional(), note: z.string().max(200).optional() }))
    .min(1),
  examples: z.strictObject({ applies: z.array(Applies).min(1), notApplies: z.array(Applies).min(1) }),
});
export type CredentialListSpec = z.infer<typeof ListSchema>;

export interface CredentialPair {
  /** "mirai-telnet#1": list id and 1-based position; what findings and logs name */
  id: string;
  list: string;
  user: string;
  password: string;
  source: string;
  sourceUrl: string;
}

export interface CredentialList extends CredentialListSpec {
  file: string;
}

export class CredentialLoadError extends Error {
  constructor(readonly file: string, reason: string) {
    super(`${file}: ${reason}`);
    this.name = 'CredentialLoadError';
  }
}

export function parseCredentialList(text: string, file: string): CredentialList {
  let doc: unknown;
  try {
    doc = parse(text, { maxAliasCount: 10 });
  } catch (e) {
    throw new CredentialLoadError(file, `not YAML: ${(e as Error).message}`);
  }
  const r = ListSchema.safeParse(doc);
  if (!r.success) throw new CredentialLoadError(file, r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  return { ...r.data, file };
}

export function loadCredentialLists(dir: string = defaultCredentialsDir()): CredentialList[] {
  const out: CredentialList[] = [];
  const ids = new Set<string>();
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.yaml')).sort()) {
    const list = parseCredentialList(readFileSync(join(dir, name), 'utf8'), basename(name));
    if (ids.has(list.id)) throw new CredentialLoadError(name, `list id ${list.id} used twice`);
    ids.add(list.id);
    out.push(list);
  }
  return out;
}

const norm = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');

export function listApplies(list: CredentialListSpec, protocol: AuditProtocol, vendor?: string): boolean {
  if (!list.protocols.includes(protocol)) return false;
  if (!list.vendors) return true;
  return !!vendor && list.vendors.some((v) => norm(v) === norm(vendor));
}

/**
 * The pairs to try on one service, in order: lists for the device's vendor first (most specific), then the generic
 * lists; within a list by weight, then as listed. Duplicates keep their first (most specific) id.
 */
export function pairsFor(lists: readonly CredentialList[], protocol: AuditProtocol, vendor?: string): CredentialPair[] {
  const applicable = lists.filter((l) => listApplies(l, protocol, vendor)).sort((a, b) => Number(!!b.vendors) - Number(!!a.vendors));
  const out: CredentialPair[] = [];
  const seen = new Set<string>();
  for (const l of applicable) {
    const ordered = l.pairs.map((p, i) => ({ p, i })).sort((a, b) => (b.p.weight ?? 0) - (a.p.weight ?? 0) || a.i - b.i);
    for (const { p, i } of ordered) {
      const key = `${p.user ?? ''}\u0000${p.password}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ id: `${l.id}#${i + 1}`, list: l.id, user: p.user ?? '', password: p.password, source: l.source.name, sourceUrl: l.source.url });
    }
  }
  return out;
}
