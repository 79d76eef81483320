// Stage: CLI front-end. Plain-text tables for the terminal. Every cell passes through printable(), because cells
// hold text that devices and imports supplied: terminal escapes in a banner must show, not act.
import { printable } from '../core/bytes.ts';

export function renderTable(headers: string[], rows: unknown[][], maxCell = 60): string {
  const cells = rows.map((r) => r.map((c) => printable(c === undefined || c === null ? '' : String(c), maxCell)));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}
