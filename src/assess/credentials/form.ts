// Stage: assess (credential audit, wire). Logins through an HTTP(S) login form: fetch the page fresh (so CSRF tokens
// and session cookies are current), fill the user and password inputs, submit, and describe the answer by a
// signature. A pair is accepted only when its answer differs from the negative control's in a way that means "logged
// in"; the control itself must look like a refusal. Nothing here logs or returns a password.
import { createHash } from 'node:crypto';
import type { Conn } from '../../scan/conn.ts';
import { type ProbeContext, ProbeError } from '../../scan/probe.ts';
import {
  HTTP_LIMITS,
  type HttpResponse,
  ResponseCompletion,
  bodyText,
  decodeEntities,
  hasPasswordInput,
  hostHeader,
  parseResponse,
  resolveLocation,
  safeRequestPath,
  sameHostPath,
} from '../../probes/http/codec.ts';
import type { AttemptOutcome, AttemptSession, AuditTarget, Credential } from './protocols.ts';

/** A login form as found on a page: where it goes and which inputs to fill. */
export interface LoginForm {
  /** same-host path (and query) the form submits to */
  action: string;
  method: 'GET' | 'POST';
  /** name of the user-name input; absent on password-only forms */
  userField?: string;
  passwordField: string;
  /** hidden inputs (CSRF tokens and the like) and named submit buttons, sent as the page gave them */
  fixed: [string, string][];
}

const MAX_FORMS = 20;
const MAX_INPUTS = 100;
const MAX_FORM_CHARS = 64 * 1024;
const USER_NAME = /user|login|account|usr|uid|name|email|mail|id$/i;

/** Attributes of every `<tag …>` in html, lower-cased names; bounded so hostile markup stays linear. */
function tags(html: string, tag: string, max: number): { at: number; attrs: Record<string, string> }[] {
  const out: { at: number; attrs: Record<string, string> }[] = [];
  const open = new RegExp(`<${tag}(?=[\\s/>])`, 'gi');
  for (let m = open.exec(html); m && out.length < max; m = open.exec(html)) {
    const end = html.indexOf('>', m.index);
    const stop = end < 0 ? Math.min(html.length, m.index + 1024) : Math.min(end, m.index + 1024);
    const attrs: Record<string, string> = {};
    const attr = /([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;
    const text = html.slice(m.index + tag.length + 1, stop);
    for (let a = attr.exec(text); a; a = attr.exec(text)) {
      const name = a[1]!.toLowerCase();
      if (!Object.hasOwn(attrs, name)) attrs[name] = decodeEntities(a[2] ?? a[3] ?? a[4] ?? '');
    }
    out.push({ at: m.index, attrs });
    open.lastIndex = Math.max(stop, m.index + 1);
  }
  return out;
}

/**
 * The first form on the page with exactly one password input (two mean "change password" or "sign up") and an
 * action on the same host. `pagePath` is where the page came from (relative actions resolve against it).
 */
export function parseLoginForm(html: string, pagePath: string): LoginForm | null {
  const forms = tags(html, 'form', MAX_FORMS);
  for (let i = 0; i < forms.length; i++) {
    const start = forms[i]!.at;
    const close = html.slice(start, start + MAX_FORM_CHARS).search(/<\/form\s*>/i);
    const end = Math.min(close < 0 ? start + MAX_FORM_CHARS : start + close, forms[i + 1]?.at ?? html.length);
    const inputs = tags(html.slice(start, end), 'input', MAX_INPUTS).map((t) => t.attrs);
    const typeOf = (a: Record<string, string>) => (a.type ?? 'text').trim().toLowerCase();
    const passwords = inputs.filter((a) => typeOf(a) === 'password' && a.name);
    if (passwords.length !== 1) continue;
    const texts = inputs.filter((a) => ['text', 'email', 'tel', ''].includes(typeOf(a)) && a.name);
    const user = texts.find((a) => USER_NAME.test(a.name!)) ?? texts[0];
    const fixed: [string, string][] = [];
    for (const a of inputs) {
      if (!a.name) continue;
      const t = typeOf(a);
      if (t === 'hidden') fixed.push([a.name, a.value ?? '']);
      else if (t === 'submit' && !fixed.some(([n]) => n === a.name)) fixed.push([a.name, a.value ?? '']);
    }
    const rawAction = forms[i]!.attrs.action?.trim();
    const action = rawAction ? sameHostPath(rawAction, pagePath) : pagePath;
    // A form that posts to another host is not this service's login: credentials never leave for elsewhere.
    if (!action) continue;
    return { action, method: (forms[i]!.attrs.method ?? '').trim().toLowerCase() === 'get' ? 'GET' : 'POST', ...(user ? { userField: user.name! } : {}), passwordField: passwords[0]!.name!, fixed };
  }
  return null;
}

/** name=value pairs of every Set-Cookie (the codec joins repeated headers with ", "; Expires dates hold commas). */
export function setCookies(header: string | undefined): [string, string][] {
  if (!header) return [];
  const out: [string, string][] = [];
  for (const part of header.split(/,\s*(?=[^;,=\s]+=)/).slice(0, 50)) {
    const pair = part.split(';', 1)[0]!.trim();
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const name = pair.slice(0, eq).trim();
    if (/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,128}$/.test(name)) out.push([name, pair.slice(eq + 1).trim().replace(/[\r\n;]/g, '').slice(0, 4096)]);
  }
  return out;
}

/** What a submitted login answered, reduced to what tells a refusal from a login. No field holds a credential. */
export interface FormSignature {
  status: number;
  /** same-host path a redirect points to, or the raw Location (capped) when it leaves the host */
  location?: string;
  /** the answer still (or again) shows a password input */
  passwordField: boolean;
  /** names of the cookies the answer sets, sorted */
  cookies: string[];
  /** body length rounded to a power of two: tokens change the length a little, a different page a lot */
  lengthBucket: number;
  /** SHA-256 prefix of the body with the submitted user name and the page's hidden values taken out */
  bodyHash: string;
}

export function signatureOf(r: HttpResponse, base: { ip: string; port: number; tls: boolean; path: string }, scrub: string[]): FormSignature {
  const h = r.head.headers;
  const text = bodyText(r.body, h['content-type']);
  let location: string | undefined;
  if (r.head.statusCode >= 300 && r.head.statusCode < 400 && h.location !== undefined) {
    const to = resolveLocation(h.location, base);
    location = 'error' in to ? h.location.slice(0, 200) : to.ip === base.ip && to.port === base.port ? to.path : to.url;
  }
  let scrubbed = text;
  for (const s of scrub) if (s.length >= 4) scrubbed = scrubbed.split(s).join('');
  return {
    status: r.head.statusCode,
    ...(location !== undefined ? { location } : {}),
    passwordField: hasPasswordInput(text),
    cookies: [...new Set(setCookies(h['set-cookie']).map(([n]) => n))].sort(),
    lengthBucket: r.body.length ? 2 ** Math.ceil(Math.log2(r.body.length)) : 0,
    bodyHash: createHash('sha256').update(scrubbed).digest('hex').slice(0, 16),
  };
}

const samePath = (a: string | undefined, b: string) => !!a && a.split('?', 1)[0] === b.split('?', 1)[0];

/** The negative control's answer reads as "refused": an error status, the form again, or a redirect back to it. */
export function looksRefused(s: FormSignature, form: { page: string; action: string }): boolean {
  if (s.status === 401 || s.status === 403) return true;
  if (s.location !== undefined) return samePath(s.location, form.page) || samePath(s.location, form.action);
  return s.status < 300 && s.passwordField;
}

/**
 * Whether a pair's answer means "logged in", against the control's: it must differ from it, and differ the way a
 * login does — a redirect somewhere the refusal did not go (and not back to the form), the password input gone from
 * a page, or a cookie the refusal did not set on an answer that does not show the form again.
 */
export function looksLoggedIn(s: FormSignature, control: FormSignature, form: { page: string; action: string }): boolean {
  if (s.status === 401 || s.status === 403 || s.status === 429 || s.status >= 500) return false;
  if (JSON.stringify(s) === JSON.stringify(control)) return false;
  if (s.location !== undefined && s.location !== control.location && !samePath(s.location, form.page) && !samePath(s.location, form.action)) return true;
  if (s.status >= 200 && s.status < 300 && control.passwordField && !s.passwordField) return true;
  const newCookie = s.cookies.some((c) => !control.cookies.includes(c));
  return newCookie && !s.passwordField && (s.location === undefined || !samePath(s.location, form.page));
}

const FORM_BODY_CAP = HTTP_LIMITS.scanBodyBytes;

function formEncode(fields: [string, string][]): string {
  return fields.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`.replace(/%20/g, '+')).join('&');
}

async function request(ctx: ProbeContext, t: AuditTarget, method: 'GET' | 'POST', path: string, cookies: [string, string][], body?: string): Promise<HttpResponse> {
  const conn: Conn = await ctx.connect({ tls: t.tls ? {} : undefined });
  try {
    const host = hostHeader({ ip: t.ip, port: t.port, tls: !!t.tls });
    const lines = [
      `${method} ${safeRequestPath(path)} HTTP/1.1`,
      `Host: ${host}`,
      `User-Agent: ${ctx.userAgent.replace(/[\r\n]+/g, ' ').slice(0, 256)}`,
      'Accept: text/html,application/xhtml+xml,*/*;q=0.8',
      'Accept-Encoding: identity',
      ...(cookies.length ? [`Cookie: ${cookies.map(([n, v]) => `${n}=${v}`).join('; ')}`] : []),
      ...(body !== undefined
        ? ['Content-Type: application/x-www-form-urlencoded', `Content-Length: ${Buffer.byteLength(body, 'latin1')}`, `Origin: ${t.tls ? 'https' : 'http'}://${host}`, `Referer: ${t.tls ? 'https' : 'http'}://${host}${safeRequestPath(t.path ?? '/')}`]
        : []),
      'Connection: close',
      '',
      body ?? '',
    ];
    await conn.write(Buffer.from(lines.join('\r\n'), 'latin1'));
    const completion = new ResponseCompletion();
    const bytes = Buffer.from(await conn.readUntil((b) => completion.check(b) !== 'incomplete', ctx.timeoutMs));
    return parseResponse(bytes, { connectionClosed: conn.ended && !conn.truncated, endOfInput: true, maxBodyBytes: FORM_BODY_CAP });
  } finally {
    conn.close();
  }
}

interface FormMemo {
  control?: FormSignature;
}

/**
 * One login through the page's form. The session's first call is the negative control: its signature is kept, and
 * 'no-auth' is returned when even a random credential does not look refused (the audit then concludes nothing).
 */
export async function formAttempt(ctx: ProbeContext, t: AuditTarget, cred: Credential | null, session?: AttemptSession): Promise<AttemptOutcome> {
  if (!cred) throw new ProbeError('application-error', 'a login form needs a credential');
  if (!session) throw new ProbeError('application-error', 'a login form is judged against its negative control');
  const memo = session.memo as FormMemo;
  const page = t.path ?? '/';
  const origin = { ip: t.ip, port: t.port, tls: !!t.tls };
  const fresh = await request(ctx, t, 'GET', page, []);
  if (fresh.head.statusCode !== 200) throw new ProbeError('application-error', `the login page answered ${fresh.head.statusCode}`);
  const form = parseLoginForm(bodyText(fresh.body, fresh.head.headers['content-type']), page);
  if (!form) throw new ProbeError('application-error', 'no login form on the page');
  const cookies = setCookies(fresh.head.headers['set-cookie']);
  const fields: [string, string][] = [...form.fixed.filter(([n]) => n !== form.userField && n !== form.passwordField)];
  if (form.userField) fields.push([form.userField, cred.user]);
  fields.push([form.passwordField, cred.password]);
  const encoded = formEncode(fields);
  const answer =
    form.method === 'POST'
      ? await request(ctx, t, 'POST', form.action, cookies, encoded)
      : await request(ctx, t, 'GET', `${form.action.split('?', 1)[0]}?${encoded}`, cookies);
  // Hidden values and the user name echo into pages; taken out, a re-shown form hashes the same every time.
  const sig = signatureOf(answer, { ...origin, path: form.action }, [cred.user, ...form.fixed.map(([, v]) => v), ...cookies.map(([, v]) => v)]);
  const where = { page: safeRequestPath(page), action: form.action };
  if (session.negativeControl) {
    memo.control = sig;
    return looksRefused(sig, where) ? 'rejected' : 'no-auth';
  }
  if (!memo.control) throw new ProbeError('application-error', 'no negative control for this form');
  return looksLoggedIn(sig, memo.control, where) ? 'accepted' : 'rejected';
}
