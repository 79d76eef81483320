// Stage: knowledge (names). Vendor and product names between fingerprints (the vocabulary's canonical names), NVD
// CPE tokens and CVE 5 free text, reduced to one key each so the match index can join them. Data lives in
// content/knowledge/aliases.yaml on top of the fingerprint vocabulary's aliases.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { z } from 'zod';
import { Vocabulary, nameKey } from '../fingerprint/vocabulary.ts';

const AliasFile = z.strictObject({
  vendors: z.record(z.string().min(1), z.array(z.string().min(1)).default([])),
  products: z.array(z.strictObject({ vendor: z.string().min(1), name: z.string().min(1), cpe: z.array(z.string().min(1)).min(1) })).default([]),
  examples: z.array(z.strictObject({ name: z.string(), vendor: z.string() })).default([]),
});
export type AliasData = z.infer<typeof AliasFile>;

export function defaultAliasFile(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'content', 'knowledge', 'aliases.yaml');
}
function vocabularyFile(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'content', 'fingerprints', 'vocabulary.yaml');
}

/** A product key: lower case, blanks and CPE quoting gone, "_firmware" dropped (NVD names firmware "<model>_firmware"). */
export function productKey(s: string): string {
  return s
    .toLowerCase()
    .replace(/\\(.)/g, '$1')
    .trim()
    .replace(/[\s_]+/g, '_')
    .replace(/_firmware$/, '');
}

export class Aliases {
  private readonly vendorByKey = new Map<string, string>();
  private readonly productByKey = new Map<string, string>();

  constructor(
    private readonly vocabulary: Vocabulary,
    readonly data: AliasData,
  ) {
    for (const [name, aliases] of Object.entries(data.vendors)) {
      const canonical = vocabulary.vendor(name) ?? name;
      for (const a of [name, ...aliases]) this.vendorByKey.set(nameKey(a), canonical);
    }
    for (const p of data.products) {
      const v = this.vendorKey(p.vendor);
      const canonical = productKey(p.cpe[0]!);
      for (const n of [p.name, ...p.cpe]) this.productByKey.set(`${v}\u0000${productKey(n)}`, canonical);
    }
  }

  static load(file = defaultAliasFile(), vocabulary = Vocabulary.load(vocabularyFile())): Aliases {
    const parsed = AliasFile.safeParse(parse(readFileSync(file, 'utf8')));
    if (!parsed.success) throw new Error(`${file}: ${z.prettifyError(parsed.error)}`);
    return new Aliases(vocabulary, parsed.data);
  }

  /** The canonical vendor name for any spelling ("dlink", "D-Link Systems, Inc.", "ui"), or its own key. */
  canonicalVendor(name: string): string {
    const k = nameKey(name.replace(/\\(.)/g, '$1').replace(/_/g, ' '));
    return this.vendorByKey.get(k) ?? this.vocabulary.vendor(k) ?? this.vocabulary.vendor(name) ?? k;
  }

  // Matching asks for the same few thousand names for every device: remember the answers. Product keys are kept per
  // vendor key, so a lookup needs no joined string.
  private readonly vendorKeyCache = new Map<string, string>();
  private readonly productKeyCache = new Map<string, Map<string, string>>();
  private productKeyCount = 0;

  vendorKey(name: string): string {
    let k = this.vendorKeyCache.get(name);
    if (k === undefined) {
      if (this.vendorKeyCache.size > 100_000) this.vendorKeyCache.clear();
      k = nameKey(this.canonicalVendor(name));
      this.vendorKeyCache.set(name, k);
    }
    return k;
  }

  /** The product key under a vendor key, through the product aliases. */
  productKeyOf(vendorKey: string, product: string): string {
    let byProduct = this.productKeyCache.get(vendorKey);
    let k = byProduct?.get(product);
    if (k === undefined) {
      if (this.productKeyCount > 100_000) {
        this.productKeyCache.clear();
        this.productKeyCount = 0;
        byProduct = undefined;
      }
      if (!byProduct) this.productKeyCache.set(vendorKey, (byProduct = new Map()));
      const p = productKey(product);
      k = this.productByKey.get(`${vendorKey}\u0000${p}`) ?? p;
      byProduct.set(product, k);
      this.productKeyCount++;
    }
    return k;
  }
}
