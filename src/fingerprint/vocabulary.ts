// Stage: fingerprint (knowledge). The controlled vocabularies — canonical vendor names with their aliases, and
// device types — that every rule's output is normalised to, so "dlink", "D-Link Systems, Inc." and "D-Link" count
// as one vendor in every statistic.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';

const VocabularyFile = z.strictObject({
  deviceTypes: z.record(z.string().regex(/^[a-z][a-z0-9-]*$/), z.string().min(1)),
  /** foreign device-type words (Recog, Nmap, UPnP) → one of deviceTypes */
  typeAliases: z.record(z.string(), z.string()),
  /** canonical name → aliases */
  vendors: z.record(z.string().min(1), z.array(z.string().min(1)).default([])),
});

/** Legal-form words that never distinguish vendors. */
const LEGAL = new Set(['inc', 'ltd', 'co', 'corp', 'corporation', 'llc', 'gmbh', 'ag', 'sa', 'limited', 'company', 'bv', 'ab', 'oy', 'srl', 'plc', 'kg', 'the']);

/** Lookup key of a name: lower case, letters and digits only, legal forms dropped. */
export function nameKey(s: string): string {
  const words = s.toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim().split(' ').filter((w) => w && !LEGAL.has(w));
  return words.join('');
}

export class Vocabulary {
  readonly deviceTypes: ReadonlySet<string>;
  private readonly vendorByKey = new Map<string, string>();
  private readonly typeByKey = new Map<string, string>();
  readonly canonicalVendors: readonly string[];

  constructor(raw: unknown, readonly file: string) {
    const parsed = VocabularyFile.safeParse(raw);
    if (!parsed.success) throw new Error(`${file}: ${z.prettifyError(parsed.error)}`);
    const v = parsed.data;
    this.deviceTypes = new Set(Object.keys(v.deviceTypes));
    for (const t of this.deviceTypes) this.typeByKey.set(nameKey(t), t);
    for (const [alias, t] of Object.entries(v.typeAliases)) {
      if (!this.deviceTypes.has(t)) throw new Error(`${file}: type alias "${alias}" points at unknown device type "${t}"`);
      this.typeByKey.set(nameKey(alias), t);
    }
    this.canonicalVendors = Object.keys(v.vendors);
    for (const [name, aliases] of Object.entries(v.vendors)) {
      for (const a of [name, ...aliases]) {
        const k = nameKey(a);
        const prev = this.vendorByKey.get(k);
        if (prev && prev !== name) throw new Error(`${file}: alias "${a}" names both "${prev}" and "${name}"`);
        this.vendorByKey.set(k, name);
      }
    }
  }

  static load(file: string): Vocabulary {
    return new Vocabulary(parse(readFileSync(file, 'utf8')), file);
  }

  /** The canonical vendor for a name or alias, or undefined when the vocabulary does not know it. */
  vendor(name: string): string | undefined {
    return this.vendorByKey.get(nameKey(name));
  }

  /** The device type for a type name or a foreign type word, or undefined. */
  deviceType(name: string): string | undefined {
    return this.typeByKey.get(nameKey(name));
  }
}
