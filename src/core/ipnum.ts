// Stage: pure core. Addresses as numbers (bigint, IPv4 and IPv6 alike) and inclusive ranges of them, so scope
// arithmetic (intersection, exclusion) and target enumeration work the same for both families.
import ipaddr from 'ipaddr.js';

export type Family = 4 | 6;

export interface IpRange {
  family: Family;
  /** inclusive */
  first: bigint;
  /** inclusive */
  last: bigint;
}

/**
 * A dotted quad in canonical form (four decimal octets, no leading zeros) as a number, or -1 for anything else.
 * Every stored observation, device and finding is keyed by its address: the common case is read here by character
 * codes, and everything else (IPv6, odd forms) goes the general way.
 */
function canonicalIpv4(s: string): number {
  const n = s.length;
  if (n < 7 || n > 15) return -1;
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || ++dots > 3) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits === 1 && octet === 0) return -1; // leading zero: octal to some parsers, refused by the general path
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return -1;
    } else return -1;
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + octet;
}

export function parseIp(s: string): { family: Family; value: bigint } | null {
  const v4 = canonicalIpv4(s);
  if (v4 >= 0) return { family: 4, value: BigInt(v4) };
  const t = s.trim();
  if (!ipaddr.isValid(t)) return null;
  // Reject the shorthand forms ipaddr.js accepts for IPv4 ("10.1", "0x0a.1"): a scope must say what it means.
  if (!t.includes(':') && !/^\d{1,3}(\.\d{1,3}){3}$/.test(t)) return null;
  const a = ipaddr.parse(t);
  const bytes = a.toByteArray();
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return { family: a.kind() === 'ipv4' ? 4 : 6, value: v };
}

export function formatIp(family: Family, value: bigint): string {
  if (family === 4) {
    const n = Number(value);
    return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
  }
  const bytes: number[] = [];
  for (let i = 15; i >= 0; i--) bytes.push(Number((value >> BigInt(i * 8)) & 255n));
  return ipaddr.fromByteArray(bytes).toString();
}

export function bits(family: Family): number {
  return family === 4 ? 32 : 128;
}

/** Parse "a.b.c.d", "a.b.c.d/nn", "a.b.c.d-e.f.g.h", "a.b.c.d-h" (last octet), or the IPv6 equivalents. */
export function parseRange(spec: string): IpRange | null {
  const s = spec.trim();
  const slash = s.indexOf('/');
  if (slash >= 0) {
    const base = parseIp(s.slice(0, slash));
    const lenText = s.slice(slash + 1);
    if (!base || !/^\d{1,3}$/.test(lenText)) return null;
    const len = Number(lenText);
    const width = bits(base.family);
    if (len > width) return null;
    const hostBits = BigInt(width - len);
    const first = (base.value >> hostBits) << hostBits;
    return { family: base.family, first, last: first + (1n << hostBits) - 1n };
  }
  const dash = s.indexOf('-');
  if (dash > 0) {
    const a = parseIp(s.slice(0, dash));
    if (!a) return null;
    const rest = s.slice(dash + 1);
    let b = parseIp(rest);
    if (!b && a.family === 4 && /^\d{1,3}$/.test(rest) && Number(rest) <= 255) b = { family: 4, value: (a.value & ~255n) | BigInt(rest) };
    if (!b || b.family !== a.family || b.value < a.value) return null;
    return { family: a.family, first: a.value, last: b.value };
  }
  const one = parseIp(s);
  return one ? { family: one.family, first: one.value, last: one.value } : null;
}

export function rangeSize(r: IpRange): bigint {
  return r.last - r.first + 1n;
}

export function contains(r: IpRange, family: Family, v: bigint): boolean {
  return r.family === family && v >= r.first && v <= r.last;
}

export function intersect(a: IpRange, b: IpRange): IpRange | null {
  if (a.family !== b.family) return null;
  const first = a.first > b.first ? a.first : b.first;
  const last = a.last < b.last ? a.last : b.last;
  return first <= last ? { family: a.family, first, last } : null;
}

/** a minus b: zero, one or two ranges */
export function subtract(a: IpRange, b: IpRange): IpRange[] {
  const i = intersect(a, b);
  if (!i) return [a];
  const out: IpRange[] = [];
  if (a.first < i.first) out.push({ family: a.family, first: a.first, last: i.first - 1n });
  if (i.last < a.last) out.push({ family: a.family, first: i.last + 1n, last: a.last });
  return out;
}

/** Sort and merge overlapping or adjacent ranges. */
export function normalise(ranges: IpRange[]): IpRange[] {
  const sorted = [...ranges].sort((x, y) => x.family - y.family || (x.first < y.first ? -1 : x.first > y.first ? 1 : 0));
  const out: IpRange[] = [];
  for (const r of sorted) {
    const prev = out[out.length - 1];
    if (prev && prev.family === r.family && r.first <= prev.last + 1n) {
      if (r.last > prev.last) prev.last = r.last;
    } else out.push({ ...r });
  }
  return out;
}

export function formatRange(r: IpRange): string {
  if (r.first === r.last) return formatIp(r.family, r.first);
  const size = rangeSize(r);
  const width = bits(r.family);
  // Print as CIDR when it is one.
  if ((size & (size - 1n)) === 0n && r.first % size === 0n) {
    const len = width - (size.toString(2).length - 1);
    return `${formatIp(r.family, r.first)}/${len}`;
  }
  return `${formatIp(r.family, r.first)}-${formatIp(r.family, r.last)}`;
}

/** A sortable text key for an address ("4:0a0d0014", "6:2001…"): order and CIDR filters work on it as strings. */
export function ipKey(ip: string): string {
  const v4 = canonicalIpv4(ip);
  if (v4 >= 0) return `4:${v4.toString(16).padStart(8, '0')}`;
  const p = parseIp(ip);
  if (!p) throw new RangeError(`not an IP address: ${ip}`);
  return keyOf(p.family, p.value);
}

export function keyOf(family: Family, value: bigint): string {
  return `${family}:${value.toString(16).padStart(family === 4 ? 8 : 32, '0')}`;
}

/** The [low, high] key bounds of a range, for "ip_key BETWEEN ? AND ?" filters. */
export function keyBounds(r: IpRange): [string, string] {
  return [keyOf(r.family, r.first), keyOf(r.family, r.last)];
}
