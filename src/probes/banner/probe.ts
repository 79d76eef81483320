// Stage: probes (banner). The generic fallback for a port no other probe recognised: record what the service says,
// first unprompted, then in answer to a blank line, as printable text and hex. It names no protocol ('unknown'):
// fingerprint rules read the banner.
import type { BannerData } from '../../core/fields.ts';
import { bytesToText, hex, printable } from '../../core/bytes.ts';
import type { Conn } from '../../scan/conn.ts';
import { type Probe, type ProbeContext, ProbeError, type ProbeResult } from '../../scan/probe.ts';

/** Evidence and field caps. */
const RAW_CAP = 2048;
const HEX_CAP = 256;
const TEXT_CAP = 1024;
/** Once the first bytes arrived, the rest of a greeting usually follows within this. */
const SETTLE_MS = 250;
/** A blank line makes many line-oriented services (and HTTP-ish ones) answer something. */
const NUDGE = '\r\n\r\n';

/** Wait up to `ms` for the first bytes, then give the rest of the greeting a moment. Empty when nothing came. */
async function listen(conn: Conn, ms: number): Promise<Buffer> {
  if (!conn.buffered.length) {
    try {
      await conn.readUntil((b) => b.length > 0, ms);
    } catch (e) {
      // silence or a hang-up with nothing said: the caller tells the two apart by conn.ended
      if (e instanceof ProbeError) return Buffer.alloc(0);
      throw e;
    }
  }
  if (!conn.ended) await conn.readFor(SETTLE_MS);
  return Buffer.from(conn.buffered);
}

export function bannerData(bytes: Uint8Array): BannerData {
  return { banner: printable(bytesToText(bytes.subarray(0, TEXT_CAP), TEXT_CAP), TEXT_CAP), bannerHex: hex(bytes.subarray(0, HEX_CAP)) };
}

async function scanBanner(ctx: ProbeContext): Promise<ProbeResult> {
  const conn = await ctx.connect();
  try {
    // Half the read timeout for each phase keeps the whole grab within one timeout.
    const phase = Math.max(200, Math.floor(ctx.timeoutMs / 2));
    let bytes = await listen(conn, phase);
    if (!bytes.length) {
      if (conn.ended) return { status: 'connection-closed', data: {}, error: 'the service closed the connection without sending anything' };
      try {
        await conn.write(NUDGE);
      } catch {
        return { status: 'connection-closed', data: {}, error: 'the service closed the connection before the nudge' };
      }
      bytes = await listen(conn, phase);
    }
    if (!bytes.length) {
      if (conn.ended) return { status: 'connection-closed', data: {}, error: 'the service closed the connection without sending anything' };
      return { status: 'io-timeout', data: {}, error: `nothing received within ${2 * phase} ms, even after a blank line` };
    }
    return { status: 'success', protocol: 'unknown', data: bannerData(bytes) as Record<string, unknown>, raw: Buffer.from(bytes.subarray(0, RAW_CAP)) };
  } finally {
    conn.close();
  }
}

export const bannerProbe: Probe = {
  name: 'banner',
  transport: 'tcp',
  defaultPorts: [],
  scan: (ctx) => scanBanner(ctx),
};
