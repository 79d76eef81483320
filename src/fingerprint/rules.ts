// Stage: fingerprint (load). Reads the rule files under content/fingerprints/, validates them with zod and against
// the vocabularies, compiles their patterns, and rejects a bad rule with an error naming its file and id.
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { z } from 'zod';
import { cpeTemplateError, templatePlaceholders } from './cpe.ts';
import { isKnownField } from './fields.ts';
import type { Identity, Matcher, Rule } from './types.ts';
import { Vocabulary } from './vocabulary.ts';

export const VOCABULARY_FILE = 'vocabulary.yaml';

/** The content/fingerprints folder of this installation. */
export function defaultRulesDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'content', 'fingerprints');
}

export class RuleLoadError extends Error {
  constructor(readonly file: string, readonly ruleId: string | undefined, reason: string) {
    super(`${file}${ruleId ? `: rule ${ruleId}` : ''}: ${reason}`);
    this.name = 'RuleLoadError';
  }
}

const text = z.string().min(1).max(200);
const IdentitySchema = z.strictObject({
  vendor: text.optional(),
  product: text.optional(),
  model: text.optional(),
  version: text.optional(),
  type: text.optional(),
});
const oneOrMany = z.union([z.string().min(1).max(2000), z.array(z.string().min(1).max(2000)).min(1)]);

const ExampleSchema = z.strictObject({
  input: z.string().min(1).max(8192),
  field: z.string().optional(),
  captures: z.record(z.string(), z.string()).optional(),
  expect: z.record(z.string(), z.string()).optional(),
});

const RuleSchema = z
  .strictObject({
    id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'ids are lower-case letters, digits, ".", "_" and "-"'),
    description: z.string().min(1).max(500),
    field: z.string().optional(),
    fields: z.array(z.string()).min(1).optional(),
    regex: z.string().min(1).max(2000).optional(),
    flags: z.string().regex(/^[ims]*$/, 'flags are i, m and s').optional(),
    equals: oneOrMany.optional(),
    prefix: oneOrMany.optional(),
    certainty: z.number().min(0).max(1),
    device: IdentitySchema.optional(),
    os: IdentitySchema.optional(),
    software: IdentitySchema.optional(),
    cpe: oneOrMany.optional(),
    examples: z.array(z.union([z.string().min(1), ExampleSchema])).min(1, 'a rule needs at least one positive example'),
    counterexamples: z.array(z.string().min(1)).min(1, 'a rule needs at least one negative example'),
  })
  .refine((r) => [r.regex, r.equals, r.prefix].filter((x) => x !== undefined).length === 1, 'exactly one of regex, equals, prefix')
  .refine((r) => (r.field === undefined) !== (r.fields === undefined), 'exactly one of field, fields')
  .refine((r) => r.device || r.os || r.software, 'a rule says something: device, os or software');

const RuleFileSchema = z.strictObject({ rules: z.array(z.unknown()).min(1) });

export type RuleInput = z.infer<typeof RuleSchema>;

function list(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** Named groups of a JavaScript pattern. */
function groupNames(source: string): Set<string> {
  return new Set([...source.matchAll(/\(\?<([A-Za-z_][A-Za-z0-9_]*)>/g)].map((m) => m[1]!));
}

/**
 * Validate one own rule and compile it. Fixed vendors and types must be in the vocabulary (and are normalised to the
 * canonical spelling); placeholders must name a capture of the pattern.
 */
export function compileRule(raw: unknown, file: string, vocab: Vocabulary, origin = 'own'): Rule {
  const id = typeof (raw as { id?: unknown })?.id === 'string' ? (raw as { id: string }).id : undefined;
  const parsed = RuleSchema.safeParse(raw);
  if (!parsed.success) throw new RuleLoadError(file, id, z.prettifyError(parsed.error).replace(/\n/g, '; '));
  const r = parsed.data;
  const fail = (why: string): never => {
    throw new RuleLoadError(file, r.id, why);
  };
  const fields = r.fields ?? [r.field!];
  for (const f of fields) if (!isKnownField(f)) fail(`unknown field "${f}"`);

  let matcher: Matcher;
  let captureNames = new Set<string>();
  if (r.regex !== undefined) {
    try {
      matcher = { kind: 'regex', regex: new RegExp(r.regex, r.flags ?? '') };
    } catch (e) {
      return fail(`bad regex: ${(e as Error).message}`);
    }
    captureNames = groupNames(r.regex);
  } else if (r.equals !== undefined) {
    matcher = { kind: 'equals', values: list(r.equals).map(normaliseKey) };
  } else {
    matcher = { kind: 'prefix', values: list(r.prefix).map(normaliseKey) };
  }

  const identity = (layer: 'device' | 'os' | 'software', idn: Identity | undefined): Identity | undefined => {
    if (!idn) return undefined;
    const out: Identity = { ...idn };
    for (const [k, v] of Object.entries(idn)) {
      for (const p of templatePlaceholders(v)) if (!captureNames.has(p)) fail(`${layer}.${k} uses {${p}}, which the pattern does not capture`);
    }
    if (idn.vendor && !idn.vendor.includes('{')) {
      const canon = vocab.vendor(idn.vendor);
      if (!canon) fail(`${layer}.vendor "${idn.vendor}" is not in the vendor vocabulary (${vocab.file})`);
      out.vendor = canon;
    }
    if (idn.type) {
      if (idn.type.includes('{')) fail(`${layer}.type must be fixed, not captured`);
      if (!vocab.deviceTypes.has(idn.type)) fail(`${layer}.type "${idn.type}" is not a device type of the vocabulary (${vocab.file})`);
    }
    return out;
  };
  const cpe = list(r.cpe);
  for (const t of cpe) {
    const err = cpeTemplateError(t);
    if (err) fail(`cpe "${t}" ${err}`);
    for (const p of templatePlaceholders(t)) if (!captureNames.has(p)) fail(`cpe uses {${p}}, which the pattern does not capture`);
  }
  const examples = r.examples.map((e) => (typeof e === 'string' ? { input: e } : e));
  for (const e of examples) if (e.field && !fields.includes(e.field)) fail(`example field "${e.field}" is not one the rule reads`);

  return {
    id: r.id,
    origin,
    file,
    description: r.description,
    fields,
    matcher,
    certainty: r.certainty,
    device: identity('device', r.device),
    os: identity('os', r.os),
    software: identity('software', r.software),
    cpe,
    examples,
    counterexamples: r.counterexamples,
  };
}

/** Hashes and OIDs compare case-insensitively and without a leading dot. */
export function normaliseKey(v: string): string {
  return v.trim().toLowerCase().replace(/^\./, '');
}

export interface LoadedRules {
  rules: Rule[];
  vocabulary: Vocabulary;
}

/** Load every rule file of `dir` (vocabulary.yaml and *.yaml rule files). Throws RuleLoadError on the first bad rule. */
export function loadRules(dir: string = defaultRulesDir()): LoadedRules {
  const vocabulary = Vocabulary.load(join(dir, VOCABULARY_FILE));
  const rules: Rule[] = [];
  const seen = new Map<string, string>();
  const files = readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f) && f !== VOCABULARY_FILE)
    .sort();
  for (const name of files) {
    const file = join(dir, name);
    let doc: unknown;
    try {
      doc = parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new RuleLoadError(name, undefined, `not YAML: ${(e as Error).message}`);
    }
    const top = RuleFileSchema.safeParse(doc);
    if (!top.success) throw new RuleLoadError(name, undefined, z.prettifyError(top.error).replace(/\n/g, '; '));
    for (const raw of top.data.rules) {
      const rule = compileRule(raw, basename(file), vocabulary);
      const prev = seen.get(rule.id);
      if (prev) throw new RuleLoadError(name, rule.id, `duplicate rule id (also in ${prev})`);
      seen.set(rule.id, name);
      rules.push(rule);
    }
  }
  return { rules, vocabulary };
}
