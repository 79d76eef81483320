// Stage: knowledge (pure). CPE 2.3 names as well-formed names (WFN): unbinding from and binding to the formatted
// string (NISTIR 7695 §6.2), and name matching (NISTIR 7696): per attribute SUPERSET/SUBSET/EQUAL/DISJOINT.
// The fingerprint stage's escaping (src/fingerprint/cpe.ts) is reused for splitting and for binding device text.
import { escapeCpeValue, splitFormatted } from '../fingerprint/cpe.ts';

export const CPE_ATTRIBUTES = ['part', 'vendor', 'product', 'version', 'update', 'edition', 'language', 'sw_edition', 'target_sw', 'target_hw', 'other'] as const;
export type CpeAttribute = (typeof CPE_ATTRIBUTES)[number];

/**
 * A WFN. Each value is in WFN form: "*" alone is the logical value ANY, "-" alone is NA; otherwise a string where
 * every character other than letters, digits and "_" is quoted with a backslash, and unquoted "*"/"?" are wildcards.
 */
export type Wfn = Record<CpeAttribute, string>;
export const ANY = '*';
export const NA = '-';

export class CpeError extends Error {
  override name = 'CpeError';
}

/** Unbind one formatted-string component into its WFN value. */
function unbindValue(s: string, attr: string): string {
  if (s === '*' || s === '') return ANY;
  if (s === '-') return NA;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\') {
      if (i + 1 >= s.length) throw new CpeError(`${attr}: trailing backslash`);
      const n = s[i + 1]!;
      out += /[A-Za-z0-9_]/.test(n) ? n : '\\' + n;
      i++;
    } else if (/[A-Za-z0-9_]/.test(c)) out += c;
    else if (c === '*' || c === '?') out += c;
    else if (c.charCodeAt(0) < 0x21 || c.charCodeAt(0) > 0x7e) throw new CpeError(`${attr}: character ${JSON.stringify(c)} not allowed`);
    else out += '\\' + c;
  }
  return out;
}

/** Parse (unbind) a CPE 2.3 formatted string. Throws CpeError with the reason. */
export function parseCpe(fs: string): Wfn {
  if (typeof fs !== 'string' || !fs.startsWith('cpe:2.3:')) throw new CpeError(`not a CPE 2.3 formatted string: ${String(fs).slice(0, 80)}`);
  if (fs.length > 1000) throw new CpeError('CPE name longer than 1000 characters');
  const parts = splitFormatted(fs);
  if (parts.length !== 13) throw new CpeError(`has ${parts.length} colon-separated parts; CPE 2.3 needs 13`);
  const w = {} as Wfn;
  CPE_ATTRIBUTES.forEach((a, i) => {
    w[a] = unbindValue(parts[i + 2]!, a);
  });
  if (![ANY, NA, 'a', 'o', 'h'].includes(w.part)) throw new CpeError(`part "${w.part}" is not a, o, h, * or -`);
  return w;
}

export function tryParseCpe(fs: string): Wfn | null {
  try {
    return parseCpe(fs);
  } catch {
    return null;
  }
}

/** Bind one WFN value to the formatted string: "." "-" "_" lose their quotes except a lone "\-" (else it reads as NA). */
function bindValue(v: string): string {
  if (v === ANY) return '*';
  if (v === NA) return '-';
  if (v === '\\-') return '\\-';
  let out = '';
  for (let i = 0; i < v.length; i++) {
    const c = v[i]!;
    if (c === '\\' && i + 1 < v.length) {
      const n = v[i + 1]!;
      out += n === '.' || n === '-' || n === '_' ? n : '\\' + n;
      i++;
    } else out += c;
  }
  return out;
}

/** Format (bind) a WFN as a CPE 2.3 formatted string. */
export function formatCpe(w: Wfn): string {
  return ['cpe', '2.3', ...CPE_ATTRIBUTES.map((a) => bindValue(w[a]))].join(':');
}

/** A WFN value for device text (a literal, lower-cased, blanks to "_"); empty text is ANY. */
export function wfnValueOf(text: string | undefined): string {
  if (text === undefined || !text.trim()) return ANY;
  const fs = escapeCpeValue(text);
  return unbindValue(fs, 'value');
}

/** The literal text of a WFN value without wildcards (quotes removed), or null for ANY/NA. */
export function literalOf(v: string): string | null {
  if (v === ANY || v === NA) return null;
  return v.replace(/\\(.)/g, '$1');
}

export function makeWfn(part: 'a' | 'o' | 'h', vendor: string, product: string, version?: string): Wfn {
  return {
    part,
    vendor: wfnValueOf(vendor),
    product: wfnValueOf(product),
    version: wfnValueOf(version),
    update: ANY,
    edition: ANY,
    language: ANY,
    sw_edition: ANY,
    target_sw: ANY,
    target_hw: ANY,
    other: ANY,
  };
}

export type AttributeRelation = 'SUPERSET' | 'SUBSET' | 'EQUAL' | 'DISJOINT' | 'UNDEFINED';
export type NameRelation = 'SUPERSET' | 'SUBSET' | 'EQUAL' | 'DISJOINT' | 'UNDEFINED';

function hasWildcard(v: string): boolean {
  for (let i = 0; i < v.length; i++) {
    if (v[i] === '\\') i++;
    else if (v[i] === '*' || v[i] === '?') return true;
  }
  return false;
}

/** Does a source value with wildcards match a literal target? Both in WFN form; case-insensitive. */
function wildcardMatches(source: string, target: string): boolean {
  let re = '^';
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\\' && i + 1 < source.length) {
      re += (source[i + 1]!).replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
      i++;
    } else if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else re += c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
  }
  return new RegExp(re + '$', 'is').test(literalOf(target) ?? '');
}

/** NISTIR 7696 Table 6-2: how a source attribute value relates to a target value. */
export function compareAttribute(source: string, target: string): AttributeRelation {
  if (source === ANY) return target === ANY ? 'EQUAL' : 'SUPERSET';
  if (target === ANY) return 'SUBSET';
  if (source === NA) return target === NA ? 'EQUAL' : 'DISJOINT';
  if (target === NA) return 'DISJOINT';
  if (hasWildcard(target)) return 'UNDEFINED';
  if (source.toLowerCase() === target.toLowerCase()) return 'EQUAL';
  if (hasWildcard(source)) return wildcardMatches(source, target) ? 'SUPERSET' : 'DISJOINT';
  return 'DISJOINT';
}

/** Name comparison (NISTIR 7696 §6.2): per attribute, then combined. */
export function compareNames(source: Wfn, target: Wfn): NameRelation {
  const rel = CPE_ATTRIBUTES.map((a) => compareAttribute(source[a], target[a]));
  if (rel.includes('DISJOINT')) return 'DISJOINT';
  if (rel.includes('UNDEFINED')) return 'UNDEFINED';
  if (rel.every((r) => r === 'EQUAL')) return 'EQUAL';
  if (rel.every((r) => r === 'EQUAL' || r === 'SUPERSET')) return 'SUPERSET';
  if (rel.every((r) => r === 'EQUAL' || r === 'SUBSET')) return 'SUBSET';
  return 'UNDEFINED';
}

/** CPE_SUPERSET or CPE_EQUAL: the source name covers the target. */
export function cpeCovers(source: Wfn, target: Wfn): boolean {
  const r = compareNames(source, target);
  return r === 'SUPERSET' || r === 'EQUAL';
}
