// Stage: probes, NAT-PMP / PCP. Asks a gateway for its external address (NAT-PMP, RFC 6886); when that goes
// unanswered or the server speaks only a newer version, sends a PCP ANNOUNCE (RFC 6887). Neither request creates,
// changes or deletes a port mapping: the probe never sends a MAP or PEER request.
import type { NatPmpData } from '../../core/fields.ts';
import { type Probe, type ProbeContext, ProbeError, type ProbeResult } from '../../scan/probe.ts';
import type { UdpChannel } from '../../scan/udp.ts';
import { type GatewayReply, NATPMP_OP_EXTERNAL_ADDRESS, PCP_OP_ANNOUNCE, RESULT_UNSUPPORTED_VERSION, decodeReply, encodeAnnounceRequest, encodeExternalAddressRequest } from './codec.ts';

const RAW_CAP = 1100;

export const natPmpProbe: Probe = {
  name: 'natpmp',
  transport: 'udp',
  defaultPorts: [5351],
  scan: scanNatPmp,
};

type Asked = { reply: GatewayReply; bytes: Buffer } | { reply: null; foreign: Buffer | null };

async function ask(ch: UdpChannel, ctx: ProbeContext, request: Buffer, isOurs: (r: GatewayReply) => boolean): Promise<Asked> {
  let foreign: Buffer | null = null;
  const tries = 1 + ctx.udpRetries;
  try {
    const bytes = await ch.request(request, {
      retries: ctx.udpRetries,
      // each of the two requests gets one read timeout over all its tries, so both fit in the probe deadline
      timeoutMs: Math.max(100, Math.floor(ctx.timeoutMs / tries)),
      accept: (b) => {
        const d = decodeReply(b);
        if (d.ok && isOurs(d.reply)) return true;
        foreign ??= Buffer.from(b.subarray(0, RAW_CAP));
        return false;
      },
    });
    const d = decodeReply(bytes);
    if (!d.ok) throw new ProbeError('unknown-error', 'accepted answer failed to decode');
    return { reply: d.reply, bytes };
  } catch (e) {
    if (e instanceof ProbeError && e.status === 'io-timeout') return { reply: null, foreign };
    throw e;
  }
}

function dataOf(r: GatewayReply): NatPmpData {
  const data: NatPmpData = { version: r.version, resultCode: r.resultCode, epoch: r.epoch };
  // RFC 6886 §3.2: the address field is only meaningful in a successful reply.
  if (r.protocol === 'nat-pmp' && r.resultCode === 0 && r.externalAddress) data.externalAddress = r.externalAddress;
  return data;
}

async function scanNatPmp(ctx: ProbeContext): Promise<ProbeResult> {
  const ch = await ctx.udp();
  try {
    // A PCP-only server answers a version-0 request with UNSUPP_VERSION in either format: both are taken.
    const natpmp = await ask(ch, ctx, encodeExternalAddressRequest(), (r) => r.opcode === NATPMP_OP_EXTERNAL_ADDRESS);
    if (natpmp.reply && !(natpmp.reply.resultCode === RESULT_UNSUPPORTED_VERSION)) {
      return { status: 'success', protocol: natpmp.reply.protocol, data: dataOf(natpmp.reply) as Record<string, unknown>, raw: natpmp.bytes.subarray(0, RAW_CAP) };
    }
    const pcp = await ask(ch, ctx, encodeAnnounceRequest(), (r) => r.opcode === PCP_OP_ANNOUNCE);
    // Prefer a PCP answer; a NAT-PMP-only server answers the ANNOUNCE with its own "unsupported version".
    const best = pcp.reply?.protocol === 'pcp' ? pcp : natpmp.reply ? natpmp : pcp;
    if (best.reply) return { status: 'success', protocol: best.reply.protocol, data: dataOf(best.reply) as Record<string, unknown>, raw: best.bytes.subarray(0, RAW_CAP) };
    const foreign = (natpmp.reply === null && natpmp.foreign) || (pcp.reply === null && pcp.foreign) || null;
    if (foreign) return { status: 'protocol-error', data: {}, raw: foreign, error: 'the answer is not a NAT-PMP or PCP reply' };
    throw new ProbeError('io-timeout', 'no NAT-PMP or PCP answer');
  } finally {
    ch.close();
  }
}
