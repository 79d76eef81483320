// Stage: exports (dashboard downloads). Tables as CSV (RFC 4180) and JSON. Device text may start with a formula
// character; spreadsheet programs would run it, so such cells get a leading apostrophe (OWASP CSV injection).
export interface Column<T> {
  header: string;
  value: (row: T) => unknown;
}

const FORMULA_START = /^[=+\-@\t\r]/;

export function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  let s: string;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (Array.isArray(v)) s = v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(' ');
  else if (typeof v === 'object') s = JSON.stringify(v);
  else s = String(v);
  if (FORMULA_START.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv<T>(columns: Column<T>[], rows: T[]): string {
  const lines = [columns.map((c) => csvCell(c.header)).join(',')];
  for (const r of rows) lines.push(columns.map((c) => csvCell(c.value(r))).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

/** The same table as JSON: one object per row, keyed by the column headers. */
export function toJsonRows<T>(columns: Column<T>[], rows: T[]): Record<string, unknown>[] {
  return rows.map((r) => Object.fromEntries(columns.map((c) => [c.header, c.value(r) ?? null])));
}
