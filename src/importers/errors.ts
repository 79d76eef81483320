// Stage: imports (foreign files → observations). The one error type every importer raises: it names the file, the
// position (line and/or byte offset) and the reason, so a user can open the file at the right place.

export interface ImportPosition {
  /** 1-based line number, where the format has lines */
  line?: number;
  /** 0-based byte offset into the (decompressed) data */
  offset?: number;
}

export class ImportError extends Error {
  override name = 'ImportError';
  readonly file: string;
  readonly line: number | undefined;
  readonly offset: number | undefined;
  readonly reason: string;

  constructor(file: string, pos: ImportPosition, reason: string) {
    super(formatImportError(file, pos, reason));
    this.file = file;
    this.line = pos.line;
    this.offset = pos.offset;
    this.reason = reason;
  }
}

function formatImportError(file: string, pos: ImportPosition, reason: string): string {
  const where: string[] = [];
  if (pos.line !== undefined) where.push(`line ${pos.line}`);
  if (pos.offset !== undefined) where.push(`byte ${pos.offset}`);
  return `${file}${where.length ? ` (${where.join(', ')})` : ''}: ${reason}`;
}

/** Shorten a foreign value for an error message: errors end up in terminals and logs. */
export function excerpt(s: string, max = 60): string {
  const flat = s.replace(/[\x00-\x1f\x7f]/g, ' ');
  return JSON.stringify(flat.length > max ? `${flat.slice(0, max)}…` : flat);
}
