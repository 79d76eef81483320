// Stage: pure core. The hosts a scan covers: requested specs (IPs, CIDRs, ranges, lines of files) parsed into
// address ranges, then indexed so the engine can address host i of n without listing them all.
import { type IpRange, formatIp, normalise, parseRange, rangeSize } from './ipnum.ts';

export class TargetSpecError extends Error {
  override name = 'TargetSpecError';
}

/** Parse one command-line target or one line of a target file. `where` names it in errors. */
export function parseTargetSpec(spec: string, where: string): IpRange {
  const r = parseRange(spec);
  if (!r) {
    const hint = /^[a-z0-9.-]+$/i.test(spec) && /[a-z]/i.test(spec) ? ' (host names are not resolved: give addresses)' : '';
    throw new TargetSpecError(`${where}: "${spec}" is not an IP address, CIDR or range${hint}`);
  }
  return r;
}

/** Lines of a target file: one spec per line (or several separated by blanks/commas), # starts a comment. */
export function parseTargetFile(text: string, file: string): IpRange[] {
  const out: IpRange[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const content = line.replace(/#.*/, '').trim();
    if (!content) return;
    for (const item of content.split(/[\s,]+/)) if (item) out.push(parseTargetSpec(item, `${file}:${i + 1}`));
  });
  return out;
}

/** Largest host count a single scan accepts; bigger scopes are split into several runs. */
export const MAX_HOSTS = 2 ** 32;

export class TargetSet {
  readonly ranges: IpRange[];
  readonly size: number;
  private readonly offsets: number[];

  constructor(ranges: IpRange[]) {
    this.ranges = normalise(ranges);
    this.offsets = [];
    let total = 0n;
    for (const r of this.ranges) {
      this.offsets.push(Number(total));
      total += rangeSize(r);
      if (total > BigInt(MAX_HOSTS)) throw new TargetSpecError(`more than ${MAX_HOSTS} target addresses in one scan; split the scope`);
    }
    this.size = Number(total);
  }

  /** The address at index i (0 ≤ i < size), in range order. */
  hostAt(i: number): string {
    // binary search the range holding index i
    let lo = 0;
    let hi = this.ranges.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.offsets[mid]! <= i) lo = mid;
      else hi = mid - 1;
    }
    const r = this.ranges[lo]!;
    return formatIp(r.family, r.first + BigInt(i - this.offsets[lo]!));
  }
}
