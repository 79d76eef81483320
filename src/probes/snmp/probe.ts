// Stage: probes, SNMP. One v2c GetRequest for the system group with community "public"; when no v2c answer comes,
// the same in v1 (whose agents refuse a whole request for one unknown object, so that object is dropped and the
// request repeated, a bounded number of times). Read-only: nothing is ever set.
import { randomInt } from 'node:crypto';
import { bytesToText } from '../../core/bytes.ts';
import type { SnmpData } from '../../core/fields.ts';
import { type Probe, type ProbeContext, ProbeError, type ProbeResult } from '../../scan/probe.ts';
import type { UdpChannel } from '../../scan/udp.ts';
import { SNMP_V1, SNMP_V2C, SYSTEM_OIDS, type SnmpMessage, TAG, decodeMessage, encodeGetRequest } from './codec.ts';

const COMMUNITY = 'public';
const RAW_CAP = 2048;
const TEXT_CAP = 1024;
/** SNMPv1 error-status noSuchName */
const NO_SUCH_NAME = 2;

export const snmpProbe: Probe = {
  name: 'snmp',
  transport: 'udp',
  defaultPorts: [161],
  scan: scanSnmp,
};

type Ask = { kind: 'answer'; message: SnmpMessage; bytes: Buffer } | { kind: 'silent'; foreign: Buffer | null };

async function ask(ch: UdpChannel, ctx: ProbeContext, version: typeof SNMP_V1 | typeof SNMP_V2C, oids: readonly string[]): Promise<Ask> {
  const requestId = randomInt(1, 0x7fffffff);
  let foreign: Buffer | null = null;
  const tries = 1 + ctx.udpRetries;
  // Both versions together must fit in the probe's deadline: one read timeout per version, split over its tries.
  const perTry = Math.max(300, Math.floor(ctx.timeoutMs / tries));
  try {
    const bytes = await ch.request(encodeGetRequest({ version, community: COMMUNITY, requestId, oids }), {
      retries: ctx.udpRetries,
      timeoutMs: perTry,
      accept: (b) => {
        const d = decodeMessage(b);
        if (d.ok && d.message.requestId === requestId && d.message.pduType === TAG.GET_RESPONSE) return true;
        foreign ??= Buffer.from(b.subarray(0, RAW_CAP));
        return false;
      },
    });
    const d = decodeMessage(bytes);
    if (!d.ok) throw new ProbeError('unknown-error', 'accepted answer failed to decode');
    return { kind: 'answer', message: d.message, bytes };
  } catch (e) {
    if (e instanceof ProbeError && e.status === 'io-timeout') return { kind: 'silent', foreign };
    throw e;
  }
}

function text(b: Buffer): string {
  return bytesToText(b, TEXT_CAP).replace(/\0+$/, '');
}

function record(data: SnmpData, m: SnmpMessage): void {
  for (const vb of m.varbinds) {
    const v = vb.value;
    switch (vb.oid) {
      case SYSTEM_OIDS.sysDescr:
        if (v.type === 'string') data.sysDescr = text(v.value);
        break;
      case SYSTEM_OIDS.sysObjectID:
        if (v.type === 'oid') data.sysObjectID = v.value;
        break;
      case SYSTEM_OIDS.sysUpTime:
        if (v.type === 'timeticks' && typeof v.value === 'number') data.sysUpTime = v.value;
        break;
      case SYSTEM_OIDS.sysContact:
        if (v.type === 'string') data.sysContact = text(v.value);
        break;
      case SYSTEM_OIDS.sysName:
        if (v.type === 'string') data.sysName = text(v.value);
        break;
      case SYSTEM_OIDS.sysLocation:
        if (v.type === 'string') data.sysLocation = text(v.value);
        break;
    }
  }
}

async function scanSnmp(ctx: ProbeContext): Promise<ProbeResult> {
  const ch = await ctx.udp();
  try {
    const all = Object.values(SYSTEM_OIDS);
    const v2 = await ask(ch, ctx, SNMP_V2C, all);
    if (v2.kind === 'answer') {
      const data: SnmpData = { version: 'v2c', community: COMMUNITY };
      record(data, v2.message);
      return { status: 'success', protocol: 'snmp', data: data as Record<string, unknown>, raw: v2.bytes.subarray(0, RAW_CAP) };
    }
    let oids = [...all];
    let first: Buffer | null = null;
    let foreign = v2.foreign;
    // v1: each noSuchName answer drops the object it names; at most one round per object.
    for (let round = 0; round <= all.length && oids.length; round++) {
      const v1 = await ask(ch, ctx, SNMP_V1, oids);
      if (v1.kind === 'silent') {
        foreign ??= v1.foreign;
        break;
      }
      first ??= v1.bytes;
      const m = v1.message;
      if (m.errorStatus === NO_SUCH_NAME && m.errorIndex >= 1 && m.errorIndex <= oids.length) {
        oids = oids.filter((_, i) => i !== m.errorIndex - 1);
        continue;
      }
      const data: SnmpData = { version: 'v1', community: COMMUNITY };
      if (m.errorStatus === 0) record(data, m);
      return { status: 'success', protocol: 'snmp', data: data as Record<string, unknown>, raw: v1.bytes.subarray(0, RAW_CAP) };
    }
    if (first) return { status: 'success', protocol: 'snmp', data: { version: 'v1', community: COMMUNITY }, raw: first.subarray(0, RAW_CAP) };
    if (foreign) return { status: 'protocol-error', data: {}, raw: foreign, error: 'the answer is not an SNMP response to our request' };
    throw new ProbeError('io-timeout', `no SNMP answer with community "${COMMUNITY}" (v2c or v1)`);
  } finally {
    ch.close();
  }
}
