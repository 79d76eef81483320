// Stage: pure helpers for hostile bytes. Everything a device sends is untrusted: these turn it into
// bounded, printable text before it is stored or shown.

/** Decode bytes as latin1-safe text: valid UTF-8 stays, anything else is kept byte for byte. */
export function bytesToText(buf: Uint8Array, max = 4096): string {
  const slice = buf.subarray(0, max);
  const utf8 = Buffer.from(slice).toString('utf8');
  if (!utf8.includes('\uFFFD')) return utf8;
  return Buffer.from(slice).toString('latin1');
}

/** Make text safe for a terminal: control characters (ANSI escapes included) become visible \xNN escapes. */
export function printable(s: string, max = 512): string {
  let out = '';
  for (const ch of s) {
    if (out.length >= max) {
      out += '…';
      break;
    }
    const c = ch.codePointAt(0)!;
    if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c < 0x20 || (c >= 0x7f && c < 0xa0) || c === 0x2028 || c === 0x2029 || c === 0x061c || (c >= 0x200e && c <= 0x200f) || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069))
      out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out;
}

export function hex(buf: Uint8Array): string {
  return Buffer.from(buf).toString('hex');
}
