// Stage: fingerprint. CPE 2.3 templates of the rules: checking a template's shape at load time and filling its
// `{capture}` placeholders with device text, escaped per the CPE 2.3 formatted-string binding (NISTIR 7695 §6.2).

const PARTS = new Set(['a', 'h', 'o', '*', '-']);
const PLACEHOLDER = /\{([A-Za-z0-9_.]+)\}/g;

/** Split a formatted string at the colons that are not escaped. */
export function splitFormatted(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && i + 1 < s.length) {
      cur += c + s[i + 1];
      i++;
    } else if (c === ':') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/**
 * Bind one attribute value. Device text becomes a quoted literal: lower-cased (NVD's convention; matching is
 * case-insensitive), blanks to "_", every character other than letters, digits, "_", "." and "-" preceded by a
 * backslash, and a lone "-" quoted so it does not read as NA. Empty text means ANY.
 */
export function escapeCpeValue(raw: string): string {
  const v = raw.trim().toLowerCase().replace(/\s+/g, '_');
  if (!v) return '*';
  if (v === '-') return '\\-';
  let out = '';
  for (const ch of v) {
    if (/[a-z0-9_.\-]/.test(ch)) out += ch;
    else if (ch.codePointAt(0)! < 0x21 || ch.codePointAt(0)! > 0x7e) out += '_';
    else out += '\\' + ch;
  }
  return out;
}

/** Placeholder names a template uses. */
export function templatePlaceholders(t: string): string[] {
  return [...t.matchAll(PLACEHOLDER)].map((m) => m[1]!);
}

/** Why a CPE 2.3 template is malformed, or null when it is fine. */
export function cpeTemplateError(t: string): string | null {
  if (!t.startsWith('cpe:2.3:')) return 'must start with "cpe:2.3:"';
  const parts = splitFormatted(t);
  if (parts.length !== 13) return `has ${parts.length} colon-separated parts; CPE 2.3 needs 13`;
  if (!PARTS.has(parts[2]!)) return `part "${parts[2]}" is not a, h, o, * or -`;
  for (let i = 3; i < 13; i++) {
    const bare = parts[i]!.replace(PLACEHOLDER, 'x');
    if (!bare) return `component ${i - 1} is empty (use * or -)`;
    if (bare === '*' || bare === '-') continue;
    // Unquoted characters other than these must be escaped in a formatted string.
    for (let j = 0; j < bare.length; j++) {
      const c = bare[j]!;
      if (c === '\\') {
        j++;
        continue;
      }
      if (!/[A-Za-z0-9_.\-*?]/.test(c)) return `component ${i - 1} has an unescaped "${c}"`;
    }
  }
  return null;
}

/** Fill a checked template. A placeholder without a value becomes ANY ("*") when it is the whole component. */
export function fillCpe(t: string, values: Record<string, string | undefined>): string {
  const parts = splitFormatted(t);
  for (let i = 3; i < parts.length; i++) {
    const p = parts[i]!;
    if (!p.includes('{')) continue;
    let missing = false;
    const filled = p.replace(PLACEHOLDER, (_, name: string) => {
      const v = values[name];
      if (v === undefined || v === '') {
        missing = true;
        return '';
      }
      return escapeCpeValue(v);
    });
    parts[i] = missing && !filled ? '*' : filled || '*';
  }
  return parts.join(':');
}

/** Translate a CPE 2.2 URI (`cpe:/o:mikrotik:routeros:{os.version}`, as Recog writes them) to a 2.3 template. */
export function uriToTemplate(uri: string): string | null {
  if (!uri.startsWith('cpe:/')) return null;
  const comps = uri.slice(5).split(':');
  if (comps.length < 1 || comps.length > 7 || !PARTS.has(comps[0] || '*')) return null;
  const out: string[] = ['cpe', '2.3', comps[0] || '*'];
  for (let i = 1; i < 11; i++) {
    const c = comps[i];
    if (c === undefined || c === '') {
      out.push('*');
      continue;
    }
    // Keep placeholders verbatim; the rest is a URI value: percent-decoded, then bound as a literal.
    const pieces = c.split(/(\{[A-Za-z0-9_.]+\})/);
    let comp = '';
    for (const piece of pieces) {
      if (!piece) continue;
      if (/^\{[A-Za-z0-9_.]+\}$/.test(piece)) comp += piece;
      else if (piece === '-' && pieces.length === 1) comp += '-';
      else {
        let dec: string;
        try {
          dec = decodeURIComponent(piece);
        } catch {
          return null;
        }
        comp += escapeCpeValue(dec);
      }
    }
    out.push(comp || '*');
  }
  return out.join(':');
}
