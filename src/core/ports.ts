// Stage: pure core. Port lists in nmap's notation ("T:23,80,8000-8100,U:161,1900"): which ports of which transport
// a scan covers.
import type { Transport } from './observation.ts';

export interface PortList {
  tcp: number[];
  udp: number[];
}

export class PortSpecError extends Error {
  override name = 'PortSpecError';
}

/**
 * Parse an nmap-style list. A "T:" or "U:" prefix switches the transport for the entries that follow it; entries
 * before any prefix are TCP. Ranges "a-b" are inclusive; "-" alone means 1-65535.
 */
export function parsePortList(spec: string): PortList {
  const tcp = new Set<number>();
  const udp = new Set<number>();
  let current: Transport = 'tcp';
  const items = spec.split(',').map((s) => s.trim());
  for (const [i, raw] of items.entries()) {
    let item = raw;
    const m = /^([TtUu]):(.*)$/.exec(item);
    if (m) {
      current = m[1]!.toUpperCase() === 'U' ? 'udp' : 'tcp';
      item = m[2]!.trim();
    }
    if (!item) throw new PortSpecError(`port list "${spec}": entry ${i + 1} is empty`);
    let lo: number;
    let hi: number;
    if (item === '-') {
      lo = 1;
      hi = 65535;
    } else {
      const r = /^(\d+)(?:-(\d+))?$/.exec(item);
      if (!r) throw new PortSpecError(`port list "${spec}": "${item}" is not a port or a range`);
      lo = Number(r[1]);
      hi = r[2] === undefined ? lo : Number(r[2]);
    }
    if (lo < 1 || hi > 65535 || lo > hi) throw new PortSpecError(`port list "${spec}": "${item}" is outside 1-65535 or reversed`);
    const set = current === 'tcp' ? tcp : udp;
    for (let p = lo; p <= hi; p++) set.add(p);
  }
  return { tcp: [...tcp].sort((a, b) => a - b), udp: [...udp].sort((a, b) => a - b) };
}

export function formatPortList(p: PortList): string {
  const compress = (ports: number[]) => {
    const out: string[] = [];
    for (let i = 0; i < ports.length; ) {
      let j = i;
      while (j + 1 < ports.length && ports[j + 1] === ports[j]! + 1) j++;
      out.push(i === j ? `${ports[i]}` : `${ports[i]}-${ports[j]}`);
      i = j + 1;
    }
    return out.join(',');
  };
  const parts: string[] = [];
  if (p.tcp.length) parts.push(`T:${compress(p.tcp)}`);
  if (p.udp.length) parts.push(`U:${compress(p.udp)}`);
  return parts.join(',');
}
