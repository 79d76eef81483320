// Stage: fingerprint (run). Compiles rules once into per-field indexes — literal prefilter automata for patterns,
// hash maps for equality and prefix rules — and classifies observations: only rules that can match a field run.
import type { Observation } from '../core/observation.ts';
import { fillCpe } from './cpe.ts';
import { observationFields } from './fields.ts';
import { LiteralIndex, requiredLiterals } from './prefilter.ts';
import type { Identity, Match, Rule } from './types.ts';
import type { Vocabulary } from './vocabulary.ts';

/** Longest matched text kept in a match (evidence, not storage of the banner). */
const VALUE_CAP = 256;

interface FieldIndex {
  /** rules with a pattern and at least one required literal */
  literals: LiteralIndex | null;
  /** rules with a pattern whose literals could not be derived: they run on every value */
  alwaysRun: number[];
  equals: Map<string, number[]>;
  prefix: Map<string, number[]>;
  prefixLengths: number[];
}

export interface ClassifierStats {
  rules: number;
  fields: number;
  /** pattern rules that run only when one of their literals occurs */
  prefiltered: number;
  alwaysRun: number;
  lookup: number;
}

export class Classifier {
  readonly rules: readonly Rule[];
  private readonly byField = new Map<string, FieldIndex>();
  private readonly wantedHeaders = new Set<string>();
  /** generation stamps: candidate de-duplication without allocating a Set per value */
  private readonly stamp: Uint32Array;
  private generation = 0;
  readonly stats: ClassifierStats;

  constructor(rules: readonly Rule[], private readonly vocabulary?: Vocabulary) {
    this.rules = rules;
    this.stamp = new Uint32Array(rules.length);
    const build = new Map<string, { lit: { literal: string; rule: number }[]; always: number[]; equals: Map<string, number[]>; prefix: Map<string, number[]> }>();
    let prefiltered = 0;
    let alwaysRun = 0;
    let lookup = 0;
    rules.forEach((rule, idx) => {
      const lits = rule.matcher.kind === 'regex' ? requiredLiterals(rule.matcher.regex.source) : null;
      if (rule.matcher.kind === 'regex') {
        if (lits) prefiltered++;
        else alwaysRun++;
      } else lookup++;
      for (const field of rule.fields) {
        if (field.startsWith('http.headers.')) this.wantedHeaders.add(field.slice('http.headers.'.length));
        let b = build.get(field);
        if (!b) build.set(field, (b = { lit: [], always: [], equals: new Map(), prefix: new Map() }));
        const m = rule.matcher;
        if (m.kind === 'regex') {
          if (lits) for (const literal of lits) b.lit.push({ literal, rule: idx });
          else b.always.push(idx);
        } else {
          const map = m.kind === 'equals' ? b.equals : b.prefix;
          for (const v of m.values) {
            const l = map.get(v);
            if (l) l.push(idx);
            else map.set(v, [idx]);
          }
        }
      }
    });
    for (const [field, b] of build) {
      this.byField.set(field, {
        literals: b.lit.length ? new LiteralIndex(b.lit) : null,
        alwaysRun: b.always,
        equals: b.equals,
        prefix: b.prefix,
        prefixLengths: [...new Set([...b.prefix.keys()].map((k) => k.length))].sort((a, z) => a - z),
      });
    }
    this.stats = { rules: rules.length, fields: this.byField.size, prefiltered, alwaysRun, lookup };
  }

  /** Every rule match over every field of one observation (one per rule), most certain first. */
  classify(obs: Pick<Observation, 'protocol' | 'data'>): Match[] {
    const out: Match[] = [];
    const fields = observationFields(obs, this.wantedHeaders);
    for (const [field, value] of fields) this.matchField(field, value, out);
    // A rule reading several fields (or a field with several values) counts once: its first match.
    if (out.length > 1) {
      const seen = new Set<string>();
      for (let i = 0; i < out.length; i++) {
        if (seen.has(out[i]!.ruleId)) out.splice(i--, 1);
        else seen.add(out[i]!.ruleId);
      }
    }
    if (out.length > 1) out.sort((a, b) => b.certainty - a.certainty);
    return out;
  }

  /** Matches of one field value (rule examples and benchmarks use this directly). */
  classifyField(field: string, value: string): Match[] {
    const out: Match[] = [];
    this.matchField(field, value, out);
    return out;
  }

  private matchField(field: string, value: string, out: Match[]): void {
    const idx = this.byField.get(field);
    if (!idx) return;
    const gen = ++this.generation;
    if (gen === 0xffffffff) {
      this.stamp.fill(0);
      this.generation = 1;
    }
    const candidates: number[] = [];
    const stamp = this.stamp;
    const g = this.generation;
    if (idx.literals) {
      idx.literals.scan(value, (r) => {
        if (stamp[r] !== g) {
          stamp[r] = g;
          candidates.push(r);
        }
      });
    }
    for (const r of idx.alwaysRun) candidates.push(r);
    if (idx.equals.size || idx.prefix.size) {
      const key = value.trim().toLowerCase().replace(/^\./, '');
      for (const r of idx.equals.get(key) ?? []) candidates.push(r);
      for (const len of idx.prefixLengths) {
        if (len > key.length) break;
        for (const r of idx.prefix.get(key.slice(0, len)) ?? []) candidates.push(r);
      }
    }
    if (candidates.length > 1) candidates.sort((a, b) => a - b);
    for (const r of candidates) {
      const rule = this.rules[r]!;
      let captures: Record<string, string> | null = null;
      if (rule.matcher.kind === 'regex') {
        rule.matcher.regex.lastIndex = 0;
        const m = rule.matcher.regex.exec(value);
        if (!m) continue;
        captures = {};
        for (let i = 1; i < m.length; i++) if (m[i] !== undefined) captures[String(i)] = m[i]!;
        if (m.groups) for (const [k, v] of Object.entries(m.groups)) if (v !== undefined) captures[k] = v;
      } else captures = {};
      out.push(this.matchOf(rule, field, value, captures));
    }
  }

  private fill(idn: Identity | undefined, captures: Record<string, string>): Identity | undefined {
    if (!idn) return undefined;
    const out: Identity = {};
    for (const key of ['vendor', 'product', 'model', 'version', 'type'] as const) {
      const t = idn[key];
      if (t === undefined) continue;
      let missing = false;
      const v = t.includes('{')
        ? t.replace(/\{([A-Za-z0-9_.]+)\}/g, (_, n: string) => {
            const c = captures[n];
            if (c === undefined) missing = true;
            return c ?? '';
          }).trim()
        : t;
      if (missing && !v) continue;
      if (!v) continue;
      out[key] = key === 'vendor' && t.includes('{') ? (this.vocabulary?.vendor(v) ?? v) : v;
    }
    return Object.keys(out).length ? out : undefined;
  }

  private matchOf(rule: Rule, field: string, value: string, captures: Record<string, string>): Match {
    const m: Match = {
      ruleId: rule.id,
      origin: rule.origin,
      field,
      value: value.length > VALUE_CAP ? value.slice(0, VALUE_CAP) : value,
      certainty: rule.certainty,
      cpe: rule.cpe.length ? rule.cpe.map((t) => fillCpe(t, captures)) : [],
      captures,
    };
    const device = this.fill(rule.device, captures);
    const os = this.fill(rule.os, captures);
    const software = this.fill(rule.software, captures);
    if (device) m.device = device;
    if (os) m.os = os;
    if (software) m.software = software;
    return m;
  }
}

/** Compile rules (own and imported) into a classifier. */
export function createClassifier(rules: readonly Rule[], vocabulary?: Vocabulary): Classifier {
  return new Classifier(rules, vocabulary);
}
