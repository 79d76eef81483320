// Stage: probes, mDNS / DNS-SD. Unicast queries sent straight to the target's port 5353 (RFC 6762 §5.5 and §6.7):
// first the service-type enumeration, then one PTR query per type found and, for instances whose SRV/TXT did not
// come along, one SRV+TXT query each — every step bounded in count and time. Records what a device announces on
// the local link to anyone who asks from outside it.
import { bytesToText } from '../../core/bytes.ts';
import type { MdnsData } from '../../core/fields.ts';
import { type Probe, type ProbeContext, ProbeError, type ProbeResult } from '../../scan/probe.ts';
import type { UdpChannel } from '../../scan/udp.ts';
import { CLASS, type DnsName, type DnsQuestion, type DnsRecord, TYPE, allRecords, encodeQuery, nameToString, parseName, reverseName, sameName } from '../dns/codec.ts';
import { type DnsAnswer, exchange, freshIds } from '../dns/exchange.ts';

export const SERVICES_NAME = parseName('_services._dns-sd._udp.local');
/** service types followed, instances described: a device announcing more is recorded only in part */
export const MAX_TYPES = 8;
export const MAX_INSTANCES = 16;
const MAX_TXT_STRINGS = 16;
const TXT_CAP = 255;
const RAW_CAP = 2048;
/** how long to wait for the answers to one batch of follow-up queries, ms */
const WINDOW_CAP_MS = 1500;

export const mdnsProbe: Probe = {
  name: 'mdns',
  transport: 'udp',
  defaultPorts: [5353],
  scan: scanMdns,
};

function question(name: DnsName, type: number): DnsQuestion {
  return { name, type, class: CLASS.IN, unicastResponse: true };
}

/** Send one query per entry, each once, and wait one short window for the answers. */
async function batch(ch: UdpChannel, questions: DnsQuestion[][], windowMs: number): Promise<DnsAnswer[]> {
  if (!questions.length) return [];
  const ids = freshIds(questions.length);
  const queries = new Map(ids.map((id, i) => [id, encodeQuery(id, questions[i]!)]));
  const { answers } = await exchange(ch, queries, { tries: 1, perTryMs: windowMs });
  return [...answers.values()];
}

/** "_http._tcp.local" → "_http._tcp": the domain is the link's, the type is what matters. */
function typeText(name: DnsName): string {
  const n = name.length > 2 && name[name.length - 1]!.toLowerCase() === 'local' ? name.slice(0, -1) : name;
  return nameToString(n);
}

function isUnder(name: DnsName, parent: DnsName): boolean {
  return name.length > parent.length && sameName(name.slice(name.length - parent.length), parent);
}

function txtStrings(r: DnsRecord): string[] {
  if (r.data.kind !== 'TXT') return [];
  return r.data.strings
    .filter((s) => s.length > 0)
    .slice(0, MAX_TXT_STRINGS)
    .map((s) => bytesToText(s, TXT_CAP));
}

/** Everything learnt, by owner name: PTR targets, SRV and TXT, from any answer in any section. */
class Pool {
  records: DnsRecord[] = [];
  add(answers: DnsAnswer[]): void {
    for (const a of answers) if (a.message) this.records.push(...allRecords(a.message));
  }
  ptrTargets(owner: DnsName): DnsName[] {
    const out: DnsName[] = [];
    for (const r of this.records) if (r.data.kind === 'PTR' && sameName(r.name, owner) && !out.some((n) => sameName(n, (r.data as { target: DnsName }).target))) out.push(r.data.target);
    return out;
  }
  first(owner: DnsName, kind: 'SRV' | 'TXT'): DnsRecord | undefined {
    return this.records.find((r) => r.data.kind === kind && sameName(r.name, owner));
  }
}

async function scanMdns(ctx: ProbeContext, target: { ip: string }): Promise<ProbeResult> {
  const ch = await ctx.udp();
  try {
    const tries = 1 + ctx.udpRetries;
    const [enumId] = freshIds(1) as [number];
    const first = await exchange(ch, new Map([[enumId, encodeQuery(enumId, [question(SERVICES_NAME, TYPE.PTR)])]]), {
      tries,
      perTryMs: Math.max(100, Math.floor(ctx.timeoutMs / tries)),
    });
    const enumAnswer = first.answers.get(enumId);
    if (!enumAnswer) {
      if (first.foreign) return { status: 'protocol-error', data: {}, raw: first.foreign.subarray(0, RAW_CAP), error: 'the answer is not a DNS response to our query' };
      throw new ProbeError('io-timeout', 'no answer to the DNS-SD service enumeration');
    }
    const pool = new Pool();
    pool.add([enumAnswer]);
    const types = pool.ptrTargets(SERVICES_NAME).slice(0, MAX_TYPES);
    // the enumeration takes one read timeout, the two follow-up rounds half of one each: within the deadline
    const windowMs = Math.min(Math.floor(ctx.timeoutMs / 2), WINDOW_CAP_MS);

    // Types whose instances did not come with the enumeration, and the host's own name for its address.
    const reverse = reverseName(target.ip);
    const round2 = types.filter((t) => pool.ptrTargets(t).length === 0).map((t) => [question(t, TYPE.PTR)]);
    if (reverse) round2.push([question(reverse, TYPE.PTR)]);
    pool.add(await batch(ch, round2, windowMs));

    const instances: { type: DnsName; name: DnsName }[] = [];
    for (const t of types) for (const name of pool.ptrTargets(t)) if (instances.length < MAX_INSTANCES) instances.push({ type: t, name });
    const round3 = instances.filter((i) => !pool.first(i.name, 'SRV')).map((i) => [question(i.name, TYPE.SRV), question(i.name, TYPE.TXT)]);
    pool.add(await batch(ch, round3.slice(0, MAX_TYPES), windowMs));

    const services: NonNullable<MdnsData['services']> = [];
    for (const t of types) {
      const mine = instances.filter((i) => i.type === t);
      if (!mine.length) services.push({ type: typeText(t) });
      for (const i of mine) {
        const s: (typeof services)[number] = { type: typeText(t) };
        // the instance label is the first one of its name, below the type (RFC 6763 §4.1)
        if (isUnder(i.name, t)) s.instance = i.name.slice(0, i.name.length - t.length).join('.');
        const srv = pool.first(i.name, 'SRV');
        if (srv?.data.kind === 'SRV') {
          if (srv.data.target.length) s.host = nameToString(srv.data.target);
          s.port = srv.data.port;
        }
        const txt = pool.first(i.name, 'TXT');
        const strings = txt ? txtStrings(txt) : [];
        if (strings.length) s.txt = strings;
        services.push(s);
      }
    }
    const data: MdnsData = { services };
    const own = reverse ? pool.ptrTargets(reverse)[0] : undefined;
    const hostname = own ? nameToString(own) : services.find((s) => s.host)?.host;
    if (hostname) data.hostname = hostname;
    return { status: 'success', protocol: 'mdns', data: data as Record<string, unknown>, raw: enumAnswer.bytes.subarray(0, RAW_CAP) };
  } finally {
    ch.close();
  }
}
