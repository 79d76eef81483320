// Stage: imports (foreign files → observations). A streaming RFC 4180 CSV reader (quoted fields, doubled quotes,
// line breaks inside quotes) over the line splitter, giving each row with the line and byte offset it starts at.
import type { ImportContext } from './importer.ts';
import { readLineBatches, type Line } from './lines.ts';

export interface CsvRow {
  fields: string[];
  line: number;
  offset: number;
}

/** Longest row (in characters) a quoted field may stretch to before it is called unterminated. */
const MAX_ROW = 16 * 1024 * 1024;

interface RowState {
  fields: string[];
  field: string;
  /** the row ended inside a quoted field: the next line continues it */
  inQuotes: boolean;
  line: number;
  offset: number;
  size: number;
}

export async function* readCsvRows(chunks: AsyncIterable<Buffer>, ctx: ImportContext): AsyncGenerator<CsvRow[]> {
  let open: RowState | null = null;
  for await (const batch of readLineBatches(chunks, ctx.file)) {
    const rows: CsvRow[] = [];
    for (const l of batch) {
      let st: RowState;
      if (open) {
        st = open;
        st.field += '\n';
      } else st = { fields: [], field: '', inQuotes: false, line: l.line, offset: l.offset, size: 0 };
      const err = parseCsvLine(l, st);
      if (err) {
        open = null;
        ctx.reject({ line: l.line, offset: l.offset }, err);
        continue;
      }
      if (st.inQuotes) {
        open = st;
        st.size += l.text.length + 1;
        if (st.size > MAX_ROW) {
          ctx.reject({ line: st.line, offset: st.offset }, 'unterminated quoted field');
          open = null;
        }
        continue;
      }
      open = null;
      if (st.fields.length === 1 && st.fields[0] === '') continue;
      rows.push({ fields: st.fields, line: st.line, offset: st.offset });
    }
    if (rows.length) yield rows;
  }
  if (open) ctx.reject({ line: open.line, offset: open.offset }, 'unexpected end of file inside a quoted field (truncated file?)');
}

/** Parse one more line into the row state; returns an error message, or null (row done, or still in quotes). */
function parseCsvLine(l: Line, st: RowState): string | null {
  const s = l.text;
  let i = 0;
  for (;;) {
    if (st.inQuotes) {
      const q = s.indexOf('"', i);
      if (q < 0) {
        st.field += s.slice(i);
        return null;
      }
      st.field += s.slice(i, q);
      if (s.charCodeAt(q + 1) === 34) {
        st.field += '"';
        i = q + 2;
        continue;
      }
      st.inQuotes = false;
      i = q + 1;
      if (i < s.length && s.charCodeAt(i) !== 44) return `text after a closing quote in field ${st.fields.length + 1}`;
      continue;
    }
    if (i >= s.length) {
      st.fields.push(st.field);
      st.field = '';
      return null;
    }
    const c = s.charCodeAt(i);
    if (c === 44 /* , */) {
      st.fields.push(st.field);
      st.field = '';
      i++;
      if (i === s.length) {
        st.fields.push('');
        return null;
      }
      continue;
    }
    if (c === 34 && st.field === '') {
      st.inQuotes = true;
      i++;
      continue;
    }
    const next = s.indexOf(',', i);
    const end = next < 0 ? s.length : next;
    const piece = s.slice(i, end);
    if (piece.includes('"')) return `stray quote in unquoted field ${st.fields.length + 1}`;
    st.field += piece;
    i = end;
  }
}
