// Stage: assess (checks). Loads the exposure checks under content/checks/ (validated with zod, a bad check is
// refused with its file and id), and evaluates their declarative matchers over observations — scanned or imported
// alike, since both carry the field names of src/core/fields.ts. Pure: no I/O beyond reading the check files.
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { z } from 'zod';
import { type Finding, type FindingKind, SEVERITIES, type Severity } from '../core/finding.ts';
import type { Observation, Transport } from '../core/observation.ts';

export function defaultChecksDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'content', 'checks');
}

export class CheckLoadError extends Error {
  constructor(readonly file: string, readonly checkId: string | undefined, reason: string) {
    super(`${file}${checkId ? `: check ${checkId}` : ''}: ${reason}`);
    this.name = 'CheckLoadError';
  }
}

/** Longest device text a regex runs over, and longest value copied into evidence. */
const TEXT_CAP = 8192;
const EVIDENCE_CAP = 300;

/**
 * A field path: `ip`, `port`, `transport`, `protocol`, `status`, `time`, or `data.<a>.<b>` into the observation's
 * data. A path through an array reaches every element; `**` reaches every nested object at any depth (UPnP embeds
 * devices in devices).
 */
const FieldPath = z.string().regex(/^(?:ip|port|transport|protocol|status|time|data(?:\.(?:\*\*|[A-Za-z0-9_$-]+))+)$/, 'a field is ip, port, transport, protocol, status, time or data.<path>');

const Scalar = z.union([z.string().max(500), z.number(), z.boolean()]);

export type Condition =
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition }
  | {
      field: string;
      equals?: string | number | boolean | (string | number | boolean)[];
      regex?: string;
      flags?: string;
      exists?: boolean;
      lt?: number;
      lte?: number;
      gt?: number;
      gte?: number;
      /** a date before the observation's time (an expired certificate) */
      beforeObservation?: boolean;
    };

const FieldCondition = z
  .strictObject({
    field: FieldPath,
    equals: z.union([Scalar, z.array(Scalar).min(1)]).optional(),
    regex: z.string().min(1).max(1000).optional(),
    flags: z.string().regex(/^[imsu]*$/, 'flags are i, m, s and u').optional(),
    exists: z.boolean().optional(),
    lt: z.number().optional(),
    lte: z.number().optional(),
    gt: z.number().optional(),
    gte: z.number().optional(),
    beforeObservation: z.boolean().optional(),
  })
  .refine((c) => ['equals', 'regex', 'exists', 'lt', 'lte', 'gt', 'gte', 'beforeObservation'].some((k) => (c as Record<string, unknown>)[k] !== undefined), 'a condition needs a test: equals, regex, exists, lt/lte/gt/gte or beforeObservation')
  .refine((c) => c.flags === undefined || c.regex !== undefined, 'flags only go with regex');

const ConditionSchema: z.ZodType<Condition> = z.lazy(() =>
  z.union([z.strictObject({ all: z.array(ConditionSchema).min(1) }), z.strictObject({ any: z.array(ConditionSchema).min(1) }), z.strictObject({ not: ConditionSchema }), FieldCondition]),
) as z.ZodType<Condition>;

const ExampleSchema = z.strictObject({
  note: z.string().max(300).optional(),
  ip: z.string().optional(),
  port: z.number().int().min(0).max(65535),
  transport: z.enum(['tcp', 'udp']).default('tcp'),
  protocol: z.string().min(1),
  time: z.string().optional(),
  data: z.record(z.string(), z.unknown()).default({}),
});
export type CheckExample = z.infer<typeof ExampleSchema>;

/** What every check says of itself, per-observation and population checks alike. */
const CHECK_HEADER = {
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'ids are lower-case letters, digits and "-"'),
  title: z.string().min(1).max(200),
  kind: z.enum(['exposure', 'no-auth', 'cleartext', 'weak-tls']),
  severity: z.enum(SEVERITIES),
  tags: z.array(z.string().regex(/^[a-z0-9-]+$/)).min(1),
  references: z.array(z.string().url()).min(1),
  remediation: z.string().min(1).max(2000),
  /** every observation field the matchers read */
  reads: z.array(FieldPath).min(1),
};

const CheckSchema = z.strictObject({
  ...CHECK_HEADER,
  /** fields whose values are copied into the finding's evidence (a subset of reads) */
  evidence: z.array(FieldPath).default([]),
  match: ConditionSchema,
  examples: z.array(ExampleSchema).min(1, 'a check needs at least one positive example'),
  counterexamples: z.array(ExampleSchema).min(1, 'a check needs at least one negative example'),
});
export type CheckSpec = z.infer<typeof CheckSchema>;

/** Checks over the whole population: the same value of `key` on at least `minDevices` addresses. */
const PopulationSchema = z.strictObject({
  ...CHECK_HEADER,
  /** which observations take part */
  match: ConditionSchema,
  /** the value shared by many devices */
  key: FieldPath,
  minDevices: z.number().int().min(2),
  /** groups of examples: each a population, and the addresses that must (or must not) be flagged */
  examples: z
    .array(z.strictObject({ note: z.string().max(300).optional(), observations: z.array(ExampleSchema.extend({ ip: z.string() })).min(1), flagged: z.array(z.string()) }))
    .min(2, 'a population check needs a flagged and an unflagged example'),
});
export type PopulationSpec = z.infer<typeof PopulationSchema>;

const FileSchema = z.strictObject({
  checks: z.array(z.unknown()).default([]),
  population: z.array(z.unknown()).default([]),
});

export interface CompiledCheck extends CheckSpec {
  file: string;
  test: (o: Observation) => boolean;
}
export interface CompiledPopulation extends PopulationSpec {
  file: string;
  test: (o: Observation) => boolean;
}

export interface CheckSet {
  checks: CompiledCheck[];
  population: CompiledPopulation[];
}

/** Path segments after "data.", split once per path (paths come from the check files: a bounded set). */
const PATH_SEGMENTS = new Map<string, string[]>();

function segmentsOf(path: string): string[] {
  let segs = PATH_SEGMENTS.get(path);
  if (!segs) {
    segs = path.split('.').slice(1);
    if (PATH_SEGMENTS.size < 4096) PATH_SEGMENTS.set(path, segs);
  }
  return segs;
}

/** `**`: every object at or below v (bounded in depth, breadth and count: the data came from a device). */
function collectObjects(v: unknown, depth: number, next: unknown[]): void {
  if (depth > 16 || next.length > 1000) return;
  if (Array.isArray(v)) {
    const n = Math.min(v.length, 200);
    for (let i = 0; i < n; i++) collectObjects(v[i], depth + 1, next);
  } else if (v && typeof v === 'object') {
    next.push(v);
    let k = 0;
    for (const key in v) {
      if (++k > 200) break;
      const c = (v as Record<string, unknown>)[key];
      if (c && typeof c === 'object') collectObjects(c, depth + 1, next);
    }
  }
}

/** Values at a field path (several when the path crosses arrays or `**`). */
export function valuesAt(o: Observation, path: string): unknown[] {
  if (!path.startsWith('data.')) {
    const v = (o as unknown as Record<string, unknown>)[path];
    return v === undefined || v === null ? [] : [v];
  }
  let current: unknown[] = [o.data];
  for (const seg of segmentsOf(path)) {
    const next: unknown[] = [];
    for (const v of current) {
      if (seg === '**') collectObjects(v, 0, next);
      else if (Array.isArray(v)) {
        const n = Math.min(v.length, 200);
        for (let i = 0; i < n; i++) {
          const e = v[i];
          if (e && typeof e === 'object' && seg in e) {
            const x = (e as Record<string, unknown>)[seg];
            if (x !== undefined && x !== null) next.push(x);
          }
        }
      } else if (v && typeof v === 'object' && Object.hasOwn(v, seg)) {
        const x = (v as Record<string, unknown>)[seg];
        if (x !== undefined && x !== null) next.push(x);
      }
    }
    if (!next.length) return next;
    current = next;
  }
  // A trailing array stands for its elements.
  const out: unknown[] = [];
  for (const v of current) {
    if (Array.isArray(v)) {
      const n = Math.min(v.length, 200);
      for (let i = 0; i < n; i++) if (v[i] !== undefined && v[i] !== null) out.push(v[i]);
    } else out.push(v);
  }
  return out;
}

function numberOf(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^-?\d+(?:\.\d+)?$/.test(v.trim())) return Number(v);
  return null;
}

function compile(c: Condition, fields: Set<string>, where: string): (o: Observation) => boolean {
  if ('all' in c) {
    const parts = c.all.map((p) => compile(p, fields, where));
    return (o) => parts.every((p) => p(o));
  }
  if ('any' in c) {
    const parts = c.any.map((p) => compile(p, fields, where));
    return (o) => parts.some((p) => p(o));
  }
  if ('not' in c) {
    const inner = compile(c.not, fields, where);
    return (o) => !inner(o);
  }
  if (!fields.has(c.field)) throw new Error(`${where}: matcher reads ${c.field}, which is not listed under reads`);
  let re: RegExp | null = null;
  if (c.regex !== undefined) {
    try {
      re = new RegExp(c.regex, c.flags ?? '');
    } catch (e) {
      throw new Error(`${where}: bad regex ${JSON.stringify(c.regex)}: ${(e as Error).message}`);
    }
  }
  const equals = c.equals === undefined ? null : Array.isArray(c.equals) ? c.equals : [c.equals];
  const tests: ((v: unknown, o: Observation) => boolean)[] = [];
  if (equals) tests.push((v) => equals.some((e) => e === v || (typeof e === 'string' && typeof v === 'string' && e.toLowerCase() === v.toLowerCase())));
  if (re) {
    const r = re;
    tests.push((v) => (typeof v === 'string' || typeof v === 'number') && r.test(String(v).slice(0, TEXT_CAP)));
  }
  const num = (cmp: (n: number) => boolean) => (v: unknown) => {
    const n = numberOf(v);
    return n !== null && cmp(n);
  };
  if (c.lt !== undefined) tests.push(num((n) => n < c.lt!));
  if (c.lte !== undefined) tests.push(num((n) => n <= c.lte!));
  if (c.gt !== undefined) tests.push(num((n) => n > c.gt!));
  if (c.gte !== undefined) tests.push(num((n) => n >= c.gte!));
  if (c.beforeObservation !== undefined) {
    const want = c.beforeObservation;
    tests.push((v, o) => {
      const t = typeof v === 'string' ? Date.parse(v) : NaN;
      const seen = Date.parse(o.time);
      return Number.isFinite(t) && Number.isFinite(seen) && t < seen === want;
    });
  }
  const field = c.field;
  if (c.exists !== undefined) {
    const want = c.exists;
    if (!tests.length) return (o) => valuesAt(o, field).length > 0 === want;
    return (o) => {
      const vs = valuesAt(o, field);
      return want ? vs.some((v) => tests.every((t) => t(v, o))) : vs.length === 0;
    };
  }
  // Any value at the path that passes every test.
  return (o) => valuesAt(o, field).some((v) => tests.every((t) => t(v, o)));
}

/** An example as an observation the matchers can run on. */
export function exampleObservation(e: CheckExample, fallbackIp = '192.0.2.1'): Observation {
  return {
    ip: e.ip ?? fallbackIp,
    port: e.port,
    transport: e.transport as Transport,
    protocol: e.protocol,
    time: e.time ?? '2026-06-01T00:00:00.000Z',
    status: 'success',
    data: e.data,
    source: 'example',
    runId: 'example',
  };
}

function issuesText(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.join('.') || '(check)'}: ${i.message}`).join('; ');
}

/** Parse and compile one check file's text. */
export function parseCheckFile(text: string, file: string): CheckSet {
  let doc: unknown;
  try {
    doc = parse(text, { maxAliasCount: 50 });
  } catch (e) {
    throw new CheckLoadError(file, undefined, `not YAML: ${(e as Error).message}`);
  }
  const top = FileSchema.safeParse(doc ?? {});
  if (!top.success) throw new CheckLoadError(file, undefined, issuesText(top.error));
  const out: CheckSet = { checks: [], population: [] };
  for (const [i, raw] of top.data.checks.entries()) {
    const id = raw && typeof raw === 'object' && typeof (raw as { id?: unknown }).id === 'string' ? (raw as { id: string }).id : `#${i + 1}`;
    const r = CheckSchema.safeParse(raw);
    if (!r.success) throw new CheckLoadError(file, id, issuesText(r.error));
    const spec = r.data;
    const reads = new Set(spec.reads);
    for (const f of spec.evidence) if (!reads.has(f)) throw new CheckLoadError(file, id, `evidence field ${f} is not listed under reads`);
    let test: (o: Observation) => boolean;
    try {
      test = compile(spec.match, reads, 'match');
    } catch (e) {
      throw new CheckLoadError(file, id, (e as Error).message);
    }
    out.checks.push({ ...spec, file, test });
  }
  for (const [i, raw] of top.data.population.entries()) {
    const id = raw && typeof raw === 'object' && typeof (raw as { id?: unknown }).id === 'string' ? (raw as { id: string }).id : `#${i + 1}`;
    const r = PopulationSchema.safeParse(raw);
    if (!r.success) throw new CheckLoadError(file, id, issuesText(r.error));
    const spec = r.data;
    const reads = new Set(spec.reads);
    if (!reads.has(spec.key)) throw new CheckLoadError(file, id, `key ${spec.key} is not listed under reads`);
    let test: (o: Observation) => boolean;
    try {
      test = compile(spec.match, reads, 'match');
    } catch (e) {
      throw new CheckLoadError(file, id, (e as Error).message);
    }
    out.population.push({ ...spec, file, test });
  }
  return out;
}

/** Load every *.yaml under the checks folder; ids are unique across files. */
export function loadChecks(dir: string = defaultChecksDir()): CheckSet {
  const set: CheckSet = { checks: [], population: [] };
  const seen = new Map<string, string>();
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.yaml')).sort()) {
    const file = join(dir, name);
    const part = parseCheckFile(readFileSync(file, 'utf8'), basename(file));
    for (const c of [...part.checks, ...part.population]) {
      const prev = seen.get(c.id);
      if (prev) throw new CheckLoadError(basename(file), c.id, `id already used in ${prev}`);
      seen.set(c.id, basename(file));
    }
    set.checks.push(...part.checks);
    set.population.push(...part.population);
  }
  return set;
}

export type NewFinding = Omit<Finding, 'firstSeen' | 'lastSeen' | 'state' | 'fixedAt'>;

function evidenceValue(v: unknown): unknown {
  if (typeof v === 'string') return v.length > EVIDENCE_CAP ? `${v.slice(0, EVIDENCE_CAP)}…` : v;
  if (typeof v === 'number' || typeof v === 'boolean') return v;
  const s = JSON.stringify(v);
  return s.length > EVIDENCE_CAP ? `${s.slice(0, EVIDENCE_CAP)}…` : v;
}

/** The evidence of a check on one observation: where it was seen and the values of its evidence fields. */
export function evidenceOf(o: Observation, fields: readonly string[]): Record<string, unknown> {
  const ev: Record<string, unknown> = { protocol: o.protocol, source: o.source, observed: o.time };
  for (const f of fields) {
    const vs = valuesAt(o, f).slice(0, 5).map(evidenceValue);
    if (vs.length) ev[f] = vs.length === 1 ? vs[0] : vs;
  }
  return ev;
}

/** Run every check over the observations (successful ones only: a refused port exposes nothing). */
export function evaluateChecks(checks: readonly CompiledCheck[], observations: readonly Observation[]): NewFinding[] {
  const out: NewFinding[] = [];
  for (const o of observations) {
    if (o.status !== 'success') continue;
    for (const c of checks) {
      if (!c.test(o)) continue;
      out.push({
        ip: o.ip,
        port: o.port,
        transport: o.transport,
        kind: c.kind as FindingKind,
        id: c.id,
        title: c.title,
        severity: c.severity as Severity,
        evidence: evidenceOf(o, c.evidence),
        remediation: c.remediation,
        references: c.references,
        details: { tags: c.tags, check: c.file },
      });
    }
  }
  return out;
}
