// Stage: probes, FTP. Reads the greeting, asks FEAT (features, AUTH TLS), says QUIT. No login is attempted, not
// even anonymous: whether anonymous access works is a credential question for the authorised audit.
import { bytesToText } from '../../core/bytes.ts';
import type { FtpData } from '../../core/fields.ts';
import type { Conn } from '../../scan/conn.ts';
import { type Probe, type ProbeResult } from '../../scan/probe.ts';
import { type FtpReply, isGreeting220, looksLikeFtp, looksLikeSmtp, offersAuthTls, parseFeatures, parseReply, replyText } from './codec.ts';

const RAW_CAP = 2048;
const BANNER_CAP = 2048;
/** Preliminary replies (120 "ready in n minutes") skipped before the real greeting. */
const MAX_PRELIMINARY = 3;

export const ftpProbe: Probe = {
  name: 'ftp',
  transport: 'tcp',
  defaultPorts: [21],
  recognizes: (banner) => isGreeting220(banner) && !looksLikeSmtp(bytesToText(banner, 512)),
  async scan(ctx) {
    const conn = await ctx.connect();
    try {
      let greeting: FtpReply | null = null;
      let seen: Buffer = Buffer.alloc(0);
      for (let i = 0; i <= MAX_PRELIMINARY; i++) {
        const r = await readReply(conn);
        if (r.kind !== 'ok') {
          const raw = Buffer.concat([seen, conn.buffered]).subarray(0, RAW_CAP);
          return { status: 'protocol-error', data: {}, raw, error: r.reason } satisfies ProbeResult;
        }
        seen = Buffer.concat([seen, r.bytes]).subarray(0, RAW_CAP);
        if (r.reply.code >= 200) {
          greeting = r.reply;
          break;
        }
      }
      if (!greeting) return { status: 'protocol-error', data: {}, raw: seen, error: 'only preliminary replies, no greeting' };
      const text = replyText(greeting);
      if (looksLikeSmtp(text)) return { status: 'protocol-error', data: {}, raw: seen, error: 'an SMTP greeting, not FTP' };
      const data: FtpData = { banner: bytesToText(Buffer.from(greeting.lines.join('\n'), 'latin1'), BANNER_CAP), code: greeting.code };
      if (greeting.code !== 220) {
        // 421 "too many users" and similar: an FTP server by its words, but closed to us now.
        if (!looksLikeFtp(text)) return { status: 'protocol-error', data: {}, raw: seen, error: `greeting ${greeting.code} is not an FTP welcome` };
        return { status: 'success', protocol: 'ftp', data: data as Record<string, unknown>, raw: seen };
      }

      let featReply: FtpReply | null = null;
      try {
        await conn.write('FEAT\r\n');
        const r = await readReply(conn);
        if (r.kind === 'ok') featReply = r.reply;
      } catch {
        // a server that drops the connection on FEAT still gave us its greeting
      }
      if (featReply) {
        const features = parseFeatures(featReply);
        if (featReply.code === 211) {
          data.features = features;
          data.authTls = offersAuthTls(features);
        }
      }
      const plausible = looksLikeFtp(text) || featReply?.code === 211 || (featReply !== null && [500, 501, 502].includes(featReply.code) && /command|not (understood|implemented|recogni[sz]ed)|unknown/i.test(replyText(featReply)));
      await conn.write('QUIT\r\n').catch(() => {});
      if (!plausible) return { status: 'protocol-error', data: {}, raw: seen, error: 'a 220 greeting, but nothing says FTP' };
      return { status: 'success', protocol: 'ftp', data: data as Record<string, unknown>, raw: seen };
    } finally {
      conn.close();
    }
  },
};

type ReadResult = { kind: 'ok'; reply: FtpReply; bytes: Buffer } | { kind: 'error'; reason: string };

async function readReply(conn: Conn): Promise<ReadResult> {
  await conn.readUntil((b) => parseReply(b).kind !== 'need-more');
  const r = parseReply(conn.buffered);
  if (r.kind === 'ok') return { kind: 'ok', reply: r.value, bytes: conn.take(r.consumed) };
  return { kind: 'error', reason: r.kind === 'error' ? r.reason : 'incomplete reply' };
}
