// Stage: probes, DNS. Two questions on one channel: version.bind TXT in class CHAOS (the software and version a
// server discloses) and an A query with RD=1 for a name under .invalid, which exists nowhere, so the answer tells
// whether the server would recurse for us without ever resolving a real public name.
import { bytesToText } from '../../core/bytes.ts';
import type { DnsData } from '../../core/fields.ts';
import { type Probe, type ProbeContext, ProbeError, type ProbeResult } from '../../scan/probe.ts';
import { CLASS, type DnsMessage, TYPE, encodeQuery, rcodeName, sameName } from './codec.ts';
import { type DnsAnswer, exchange, freshIds } from './exchange.ts';

export const VERSION_BIND = ['version', 'bind'];
/** RFC 6761: .invalid is never delegated, so the query cannot leave for a real public zone. */
export const RECURSION_TEST_NAME = ['iotscope-probe', 'invalid'];

const RAW_CAP = 2048;
const VERSION_CAP = 256;
const RCODE_REFUSED = 5;
const RCODE_NOTIMP = 4;

export const dnsProbe: Probe = {
  name: 'dns',
  transport: 'udp',
  defaultPorts: [53],
  scan: scanDns,
};

function versionText(m: DnsMessage): string | undefined {
  if (m.header.rcode !== 0) return undefined;
  for (const r of m.answers) {
    if (r.data.kind !== 'TXT' || !sameName(r.name, VERSION_BIND)) continue;
    const text = bytesToText(Buffer.concat(r.data.strings), VERSION_CAP);
    if (text) return text;
  }
  return undefined;
}

async function scanDns(ctx: ProbeContext): Promise<ProbeResult> {
  const ch = await ctx.udp();
  try {
    const [versionId, recursionId] = freshIds(2) as [number, number];
    const queries = new Map([
      [versionId, encodeQuery(versionId, [{ name: VERSION_BIND, type: TYPE.TXT, class: CLASS.CH }])],
      [recursionId, encodeQuery(recursionId, [{ name: RECURSION_TEST_NAME, type: TYPE.A, class: CLASS.IN }], { rd: true })],
    ]);
    const tries = 1 + ctx.udpRetries;
    const { answers, foreign } = await exchange(ch, queries, { tries, perTryMs: Math.max(100, Math.floor(ctx.timeoutMs / tries)) });
    const version = answers.get(versionId);
    const recursion = answers.get(recursionId);
    const main: DnsAnswer | undefined = recursion ?? version;
    if (!main) {
      if (foreign) return { status: 'protocol-error', data: {}, raw: foreign.subarray(0, RAW_CAP), error: 'the answer is not a DNS response to our queries' };
      throw new ProbeError('io-timeout', 'no DNS answer to version.bind or the recursion test');
    }
    const h = main.header;
    const data: DnsData = { rcode: rcodeName(h.rcode), authoritativeAnswer: h.aa, raFlag: h.ra };
    // Only the recursion test can tell; a refusal (or "not implemented") means no recursion for us whatever RA says.
    if (recursion) data.recursionAvailable = recursion.header.ra && recursion.header.rcode !== RCODE_REFUSED && recursion.header.rcode !== RCODE_NOTIMP;
    const v = version?.message && versionText(version.message);
    if (v) data.versionBind = v;
    return { status: 'success', protocol: 'dns', data: data as Record<string, unknown>, raw: main.bytes.subarray(0, RAW_CAP) };
  } finally {
    ch.close();
  }
}
