// Stage: probes, FTP wire format (RFC 959 §4.2 replies, RFC 2389 FEAT, RFC 4217 AUTH TLS). Pure functions, no
// I/O: split a reply (single or multi-line) off a byte stream, read the FEAT list, and tell an FTP greeting from
// an SMTP one, which also opens with 220.

export type Decoded<T> = { kind: 'ok'; value: T; consumed: number } | { kind: 'need-more' } | { kind: 'error'; reason: string };

export interface FtpReply {
  code: number;
  /** every line of the reply without CR LF, code prefixes included */
  lines: string[];
}

/** A reply longer than this is not an FTP server talking. */
const MAX_REPLY_LINES = 256;
const MAX_LINE = 4096;

/**
 * One reply at the start of `buf`. Multi-line replies start "123-" and end with a line "123 " (RFC 959 §4.2);
 * lines in between may be anything. A lone "123" line (no text) is accepted, as many servers send it.
 */
export function parseReply(buf: Uint8Array): Decoded<FtpReply> {
  const lines: string[] = [];
  let off = 0;
  let code = -1;
  for (;;) {
    let nl = -1;
    for (let i = off; i < buf.length; i++)
      if (buf[i] === 0x0a) {
        nl = i;
        break;
      }
    if (nl === -1) {
      if (buf.length - off > MAX_LINE) return { kind: 'error', reason: 'reply line too long' };
      // Reject a non-reply as soon as the first bytes show it, not after a timeout.
      if (code === -1 && !couldStartReply(buf.subarray(off))) return { kind: 'error', reason: 'not an FTP reply' };
      return { kind: 'need-more' };
    }
    let end = nl;
    if (end > off && buf[end - 1] === 0x0d) end--;
    const line = Buffer.from(buf.subarray(off, end)).toString('latin1');
    off = nl + 1;
    if (code === -1) {
      const m = /^([1-5]\d\d)([ -]|$)/.exec(line);
      if (!m) return { kind: 'error', reason: `not an FTP reply: ${JSON.stringify(line.slice(0, 60))}` };
      code = Number(m[1]);
      lines.push(line);
      if (m[2] !== '-') return { kind: 'ok', value: { code, lines }, consumed: off };
      continue;
    }
    lines.push(line.slice(0, 1024));
    if (line.length >= 3 && line.startsWith(String(code)) && (line.length === 3 || line[3] === ' ')) return { kind: 'ok', value: { code, lines }, consumed: off };
    if (lines.length > MAX_REPLY_LINES) return { kind: 'error', reason: 'multi-line reply never ends' };
  }
}

function couldStartReply(b: Uint8Array): boolean {
  const want = [/[1-5]/, /\d/, /\d/, /[ \-\r]/];
  for (let i = 0; i < Math.min(b.length, 4); i++) if (!want[i]!.test(String.fromCharCode(b[i]!))) return false;
  return true;
}

/** The text of a reply without code prefixes, lines joined by "\n". */
export function replyText(r: FtpReply): string {
  return r.lines.map((l) => (/^\d{3}[ -]?/.test(l) && l.startsWith(String(r.code)) ? l.slice(4) : l)).join('\n');
}

/** FEAT (RFC 2389 §3.2): the feature lines between "211-" and "211 ", each starting with a space. */
export function parseFeatures(r: FtpReply): string[] {
  if (r.code !== 211 || r.lines.length < 2) return [];
  return r.lines
    .slice(1, -1)
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(0, 100);
}

/** AUTH TLS (RFC 4217) in the FEAT list; "AUTH TLS;SSL" style lists too. */
export function offersAuthTls(features: readonly string[]): boolean {
  return features.some((f) => /^AUTH\s+(.*)$/i.test(f) && /\bTLS\b/i.test(f.slice(4)));
}

/** A 220 greeting that names a mail server is SMTP speaking on this port, not FTP. */
export function looksLikeSmtp(greeting: string): boolean {
  return /\b(E?SMTP|LMTP|Postfix|Sendmail|Exim|MailEnable|Microsoft Exchange|mail service)\b/i.test(greeting);
}

/** Greeting words that FTP servers use and other 220-speaking protocols do not. */
export function looksLikeFtp(greeting: string): boolean {
  return /\b(FTP|FTPD|FileZilla|ProFTPD|Pure-FTPd|vsFTPd|Serv-U|wu-ftpd|WAR-FTPD|bftpd|Gene6|Xlight|GuildFTPd|Titan|CrushFTP|Multicraft|NASFTPD|File server)\b/i.test(greeting) || /ftp/i.test(greeting);
}

/** Does a greeting start with a 220 reply (or the first line of one)? */
export function isGreeting220(banner: Uint8Array): boolean {
  return banner.length >= 4 && /^220[ -]/.test(Buffer.from(banner.subarray(0, 4)).toString('latin1'));
}
