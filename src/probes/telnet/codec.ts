// Stage: probes, telnet wire format (RFC 854/855). Pure functions, no I/O: split a received byte stream into
// text, option commands and subnegotiations; decide polite replies; spot login, password and shell prompts.

export const IAC = 255;
export const DONT = 254;
export const DO = 253;
export const WONT = 252;
export const WILL = 251;
export const SB = 250;
export const SE = 240;

/** Option codes this probe treats specially (RFC 857, 858, 1091, 1073). */
export const OPT_ECHO = 1;
export const OPT_SGA = 3;
export const OPT_TTYPE = 24;
export const OPT_NAWS = 31;

export type OptionVerb = 'do' | 'dont' | 'will' | 'wont';

export type TelnetEvent =
  | { kind: 'option'; verb: OptionVerb; option: number }
  | { kind: 'subnegotiation'; option: number; data: Buffer }
  /** two-byte commands other than the option verbs: NOP, GA, AYT, … */
  | { kind: 'command'; code: number };

export interface TelnetParse {
  /** the data bytes with every command removed and escaped 255s unescaped */
  text: Buffer;
  events: TelnetEvent[];
  /** a trailing, incomplete command (IAC at the end, IAC DO without its option, an SB without its SE): keep it
   *  and parse it again with the next bytes */
  rest: Buffer;
}

/** A subnegotiation longer than this is not a real one; its bytes are dropped rather than buffered forever. */
export const MAX_SUBNEGOTIATION = 1024;

const VERBS: Record<number, OptionVerb> = { [DO]: 'do', [DONT]: 'dont', [WILL]: 'will', [WONT]: 'wont' };

export function parseTelnet(buf: Uint8Array): TelnetParse {
  const text: number[] = [];
  const events: TelnetEvent[] = [];
  let i = 0;
  while (i < buf.length) {
    const b = buf[i]!;
    if (b !== IAC) {
      text.push(b);
      i++;
      continue;
    }
    if (i + 1 >= buf.length) break;
    const cmd = buf[i + 1]!;
    if (cmd === IAC) {
      text.push(IAC);
      i += 2;
      continue;
    }
    const verb = VERBS[cmd];
    if (verb) {
      if (i + 2 >= buf.length) break;
      events.push({ kind: 'option', verb, option: buf[i + 2]! });
      i += 3;
      continue;
    }
    if (cmd === SB) {
      const end = findSubnegotiationEnd(buf, i + 2);
      if (end === -1) {
        // Unterminated: wait for more unless it is already too long to be genuine.
        if (buf.length - i > MAX_SUBNEGOTIATION) {
          i = buf.length;
          continue;
        }
        break;
      }
      if (i + 2 < end) {
        const body = unescapeIac(buf.subarray(i + 3, end));
        events.push({ kind: 'subnegotiation', option: buf[i + 2]!, data: body });
      }
      i = end + 2;
      continue;
    }
    events.push({ kind: 'command', code: cmd });
    i += 2;
  }
  return { text: Buffer.from(text), events, rest: Buffer.from(buf.subarray(i)) };
}

/** Index of the IAC of the closing IAC SE, skipping escaped IAC IAC; -1 when not (yet) there. */
function findSubnegotiationEnd(buf: Uint8Array, from: number): number {
  for (let j = from; j + 1 < buf.length; j++) {
    if (buf[j] !== IAC) continue;
    if (buf[j + 1] === SE) return j;
    if (buf[j + 1] === IAC) j++;
  }
  return -1;
}

function unescapeIac(b: Uint8Array): Buffer {
  const out: number[] = [];
  for (let j = 0; j < b.length; j++) {
    out.push(b[j]!);
    if (b[j] === IAC && b[j + 1] === IAC) j++;
  }
  return Buffer.from(out);
}

/**
 * Our side of option negotiation. We refuse every option except the two a server needs to show a login prompt in
 * character mode: it may echo (WILL ECHO) and suppress go-ahead (WILL SGA), and we agree to suppress go-ahead
 * ourselves. Each state change is answered once, so a server that repeats itself cannot make us loop (RFC 854:
 * never acknowledge a request to enter a mode one is already in).
 */
export class Negotiator {
  /** options the server may enable on its side */
  static readonly ACCEPT_REMOTE = new Set([OPT_ECHO, OPT_SGA]);
  /** options we enable on our side when asked */
  static readonly ACCEPT_LOCAL = new Set([OPT_SGA]);

  private local = new Map<number, boolean>();
  private remote = new Map<number, boolean>();
  readonly seen = { do: [] as number[], dont: [] as number[], will: [] as number[], wont: [] as number[] };

  /** Record a server command and return the bytes to send back (possibly none). */
  answer(verb: OptionVerb, option: number): Buffer {
    const list = this.seen[verb];
    if (list.length < 256 && !list.includes(option)) list.push(option);
    switch (verb) {
      case 'do': {
        const yes = Negotiator.ACCEPT_LOCAL.has(option);
        if (this.local.get(option) === yes) return Buffer.alloc(0);
        this.local.set(option, yes);
        return Buffer.from([IAC, yes ? WILL : WONT, option]);
      }
      case 'dont':
        if (this.local.get(option) === false) return Buffer.alloc(0);
        this.local.set(option, false);
        return Buffer.from([IAC, WONT, option]);
      case 'will': {
        const yes = Negotiator.ACCEPT_REMOTE.has(option);
        if (this.remote.get(option) === yes) return Buffer.alloc(0);
        this.remote.set(option, yes);
        return Buffer.from([IAC, yes ? DO : DONT, option]);
      }
      case 'wont':
        if (this.remote.get(option) === false) return Buffer.alloc(0);
        this.remote.set(option, false);
        return Buffer.from([IAC, DONT, option]);
    }
  }
}

export interface Prompts {
  loginPrompt: boolean;
  passwordPrompt: boolean;
  shellPrompt: boolean;
}

const LOGIN_RE = /(?:login|user ?name|user(?: ?id)?|account)\s*[:>]\s*$/i;
const PASSWORD_RE = /(?:password|passwd|passcode|pass)\s*[:>]\s*$/i;
// A shell prompt: "~ # ", "root@box:~$ ", "[admin@OpenWrt]> ", "RouterOS> "; the line is short and ends with a
// prompt character, not a sentence ending with one.
const SHELL_RE = /^(?:\S.{0,60}?)?[#$%>]\s?$/;

/** What the last line of the text (where a prompt waits for input) asks for. */
export function detectPrompts(text: string): Prompts {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  let last = '';
  for (let k = lines.length - 1; k >= 0; k--) {
    if (lines[k]!.trim()) {
      last = lines[k]!;
      break;
    }
  }
  // Terminal escapes (colour, cursor moves) often precede a prompt; they are not part of it.
  const clean = last.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '');
  const passwordPrompt = PASSWORD_RE.test(clean);
  const loginPrompt = !passwordPrompt && LOGIN_RE.test(clean);
  const shellPrompt = !passwordPrompt && !loginPrompt && SHELL_RE.test(clean.trimStart());
  return { loginPrompt, passwordPrompt, shellPrompt };
}

/** Does a greeting open with telnet option negotiation, or show a login prompt? */
export function looksLikeTelnet(banner: Uint8Array): boolean {
  if (banner.length >= 2 && banner[0] === IAC && banner[1]! >= SB && banner[1]! <= DONT) return true;
  const head = Buffer.from(banner.subarray(0, 2048)).toString('latin1');
  const p = detectPrompts(head);
  return p.loginPrompt || p.passwordPrompt;
}

/** A first line that belongs to another protocol: the telnet probe hands such a service back at once. */
export function looksForeign(banner: Uint8Array): boolean {
  const head = Buffer.from(banner.subarray(0, 16)).toString('latin1');
  return /^(?:SSH-\d|HTTP\/\d|RTSP\/\d|\d{3}[ -]|<\?xml|<!DOCTYPE|<html|\{")/i.test(head);
}
