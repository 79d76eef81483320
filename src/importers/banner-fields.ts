// Stage: imports (foreign files → observations). Turns a raw banner that a foreign scanner captured (masscan,
// Shodan, ZGrab2's banner module) into the protocol fields of src/core/fields.ts where the protocol's first bytes
// say them plainly: HTTP status line and headers, SSH identification, FTP reply code. Anything else stays a banner.
import { compact, text } from './importer.ts';

const MAX_HEADERS = 100;

export function parseHttpHead(banner: string): Record<string, unknown> | null {
  const m = /^HTTP\/(\d(?:\.\d)?)\s+(\d{3})(?:[ \t]+([^\r\n]*))?\r?\n/.exec(banner);
  if (!m) return null;
  const headers: Record<string, string> = {};
  const headEnd = banner.search(/\r?\n\r?\n/);
  const head = headEnd >= 0 ? banner.slice(0, headEnd) : banner;
  const lines = head.split(/\r?\n/).slice(1);
  let n = 0;
  for (const line of lines) {
    const c = line.indexOf(':');
    if (c <= 0) continue;
    const k = line.slice(0, c).trim().toLowerCase().slice(0, 128);
    const v = line.slice(c + 1).trim().slice(0, 2048);
    headers[k] = headers[k] !== undefined ? `${headers[k]}, ${v}` : v;
    if (++n >= MAX_HEADERS) break;
  }
  const d: Record<string, unknown> = { statusCode: Number(m[2]), statusLine: text(m[0].trim(), 512), headers };
  if (headers.server) d.server = headers.server;
  const auth = headers['www-authenticate'];
  if (auth) Object.assign(d, authFields(auth));
  if (headEnd >= 0) {
    const body = banner.slice(headEnd).replace(/^\r?\n\r?\n/, '');
    if (body) {
      d.body = text(body);
      const title = /<title[^>]*>([^<]{0,1024})/i.exec(body)?.[1]?.trim();
      if (title) d.title = title;
    }
  }
  return d;
}

export function authFields(wwwAuthenticate: string): { authScheme?: string; realm?: string } {
  const m = /^\s*([A-Za-z][\w-]*)(?:\s+.*?realm\s*=\s*(?:"([^"]*)"|([^,\s]*)))?/i.exec(wwwAuthenticate);
  if (!m) return {};
  return compact({ authScheme: m[1], realm: text(m[2] ?? m[3], 512) });
}

export function parseSshIdent(banner: string): Record<string, unknown> | null {
  const m = /^SSH-([\d.]+)-([^\s\r\n]*)(?:[ \t]+([^\r\n]*))?/.exec(banner);
  if (!m) return null;
  return compact({ ident: text(m[0].trim(), 255), protoVersion: m[1], software: text(m[2], 255), comment: text(m[3], 255) });
}

export function parseFtpBanner(banner: string): Record<string, unknown> {
  const m = /^(\d{3})[ -]/.exec(banner);
  return compact({ banner: text(banner), code: m ? Number(m[1]) : undefined });
}

/** Fields for a banner of a known protocol; always keeps the text itself as `banner`. */
export function fieldsFromBanner(protocol: string, banner: string): Record<string, unknown> {
  const d: Record<string, unknown> = { banner: text(banner) };
  if (protocol === 'http' || protocol === 'https' || banner.startsWith('HTTP/')) {
    const h = parseHttpHead(banner);
    if (h) Object.assign(d, h);
  } else if (protocol === 'ssh' || banner.startsWith('SSH-')) {
    const s = parseSshIdent(banner);
    if (s) Object.assign(d, s);
  } else if (protocol === 'ftp') {
    Object.assign(d, parseFtpBanner(banner));
  } else if (protocol === 'rtsp') {
    const m = /^RTSP\/1\.0\s+(\d{3})/.exec(banner);
    if (m) d.statusCode = Number(m[1]);
    const server = /\r?\nServer:\s*([^\r\n]*)/i.exec(banner)?.[1];
    if (server) d.server = text(server, 512);
  }
  return d;
}
