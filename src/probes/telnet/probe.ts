// Stage: probes, telnet. Answers the server's option negotiation politely, collects the text it shows and tells
// whether it stops at a login, password or shell prompt. It never types a user name or password: credential
// audits are a separate, separately authorised feature.
import { bytesToText } from '../../core/bytes.ts';
import type { TelnetData } from '../../core/fields.ts';
import type { Conn } from '../../scan/conn.ts';
import { type Probe, ProbeError, type ProbeResult } from '../../scan/probe.ts';
import { Negotiator, detectPrompts, looksForeign, looksLikeTelnet, parseTelnet } from './codec.ts';

/** Reads of the server's output at most; each is bounded by the connection's timeout. */
const MAX_ROUNDS = 16;
/** How long to keep listening after a prompt appeared, in case more text follows. */
const SETTLE_MS = 300;
/** How long plain text without any negotiation may take to reach a prompt before we call it not telnet. */
const PLAIN_TEXT_WAIT_MS = 1000;
const MAX_TEXT = 8192;
const RAW_CAP = 2048;
const BANNER_CAP = 4096;

export const telnetProbe: Probe = {
  name: 'telnet',
  transport: 'tcp',
  defaultPorts: [23, 2323],
  recognizes: (banner) => looksLikeTelnet(banner),
  async scan(ctx) {
    const conn = await ctx.connect();
    const budgetEnd = Date.now() + 2 * ctx.timeoutMs;
    const neg = new Negotiator();
    const raw: Buffer[] = [];
    let rawLen = 0;
    let text: Buffer = Buffer.alloc(0);
    let pending: Buffer = Buffer.alloc(0);
    let sawTelnet = false;
    let nudged = false;

    const ingest = async (bytes: Buffer): Promise<void> => {
      if (rawLen < RAW_CAP) {
        raw.push(bytes.subarray(0, RAW_CAP - rawLen));
        rawLen += Math.min(bytes.length, RAW_CAP - rawLen);
      }
      const parsed = parseTelnet(Buffer.concat([pending, bytes]));
      pending = parsed.rest;
      if (text.length < MAX_TEXT) text = Buffer.concat([text, parsed.text]).subarray(0, MAX_TEXT);
      const replies: Buffer[] = [];
      for (const ev of parsed.events) {
        sawTelnet = true;
        if (ev.kind === 'option') replies.push(neg.answer(ev.verb, ev.option));
      }
      const out = Buffer.concat(replies);
      if (out.length) await writeQuietly(conn, out);
    };

    for (let round = 0; round < MAX_ROUNDS && Date.now() < budgetEnd; round++) {
      const prompted = hasPrompt(text);
      const plainText = rawLen > 0 && !sawTelnet;
      const wait = Math.max(1, Math.min(prompted ? SETTLE_MS : plainText ? PLAIN_TEXT_WAIT_MS : ctx.timeoutMs, budgetEnd - Date.now()));
      const got = await readSome(conn, wait);
      if (got === 'failed') {
        if (rawLen === 0) throw new ProbeError('connection-closed', 'telnet server closed without sending anything');
        break;
      }
      if (got === 'quiet') {
        if (prompted || conn.ended) break;
        // Some devices print their prompt only after the user presses Enter. One empty line, never a name.
        // Plain text with no negotiation and no prompt is some other line protocol: no keystrokes for it.
        if (nudged || plainText) break;
        nudged = true;
        if (!(await writeQuietly(conn, '\r\n'))) break;
        continue;
      }
      if (rawLen === 0 && looksForeign(got)) {
        conn.close();
        return { status: 'protocol-error', data: {}, raw: got.subarray(0, RAW_CAP), error: 'another protocol\'s greeting' };
      }
      await ingest(got);
      if (conn.ended && !conn.buffered.length) break;
    }
    conn.close();

    const rawBytes = Buffer.concat(raw);
    const shown = bytesToText(text, BANNER_CAP);
    const prompts = detectPrompts(shown);
    if (!rawBytes.length) throw new ProbeError('io-timeout', 'telnet server sent nothing');
    if (!sawTelnet && !prompts.loginPrompt && !prompts.passwordPrompt) {
      return { status: 'protocol-error', data: {}, raw: rawBytes, error: 'no telnet negotiation and no login prompt' } satisfies ProbeResult;
    }
    const data: TelnetData = {
      banner: shown,
      options: neg.seen,
      loginPrompt: prompts.loginPrompt,
      passwordPrompt: prompts.passwordPrompt,
      shellPrompt: prompts.shellPrompt,
    };
    return { status: 'success', protocol: 'telnet', data: data as Record<string, unknown>, raw: rawBytes };
  },
};

function hasPrompt(text: Buffer): boolean {
  const p = detectPrompts(bytesToText(text, BANNER_CAP));
  return p.loginPrompt || p.passwordPrompt || p.shellPrompt;
}

/** Next bytes from the server: the bytes, 'quiet' when none came in time, 'failed' when the connection is gone. */
async function readSome(conn: Conn, ms: number): Promise<Buffer | 'quiet' | 'failed'> {
  if (conn.buffered.length) return conn.take();
  try {
    await conn.readUntil((b) => b.length > 0, ms);
    return conn.take();
  } catch (e) {
    if (e instanceof ProbeError && e.status === 'io-timeout') return 'quiet';
    return 'failed';
  }
}

async function writeQuietly(conn: Conn, data: Uint8Array | string): Promise<boolean> {
  try {
    await conn.write(data);
    return true;
  } catch {
    return false;
  }
}
