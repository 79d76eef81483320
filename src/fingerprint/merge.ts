// Stage: fingerprint (merge). All observations of one address and their rule matches become one Device record:
// each attribute is decided by the certainty of the evidence for it, raised when independent sources agree; what
// lost is kept as evidence marked not accepted. Also the tracking of a device across scans. Pure functions.
import type { Observation } from '../core/observation.ts';
import type { Device, DeviceEvent, Evidence, Identity, Match, ObservationRef, SoftwareSeen } from './types.ts';
import { nameKey } from './vocabulary.ts';

/** Device types that only say "some embedded thing": any specific type wins over them. */
const FALLBACK_TYPES = new Set(['embedded-server', 'iot-device', 'server']);
/** Operating systems that every distribution builds on: a named distribution or firmware wins over them. */
const GENERIC_OS = new Set(['linux']);

interface Candidate {
  value: string;
  key: string;
  /** certainty per independent source (observation + field); agreement is counted once per source */
  bySource: Map<string, number>;
}

function sameValueKey(attr: string, v: string): string {
  return attr === 'vendor' ? nameKey(v) : v.trim().toLowerCase().replace(/[\s_-]+/g, '');
}

/** Combined belief of independent sources (noisy-OR): two 0.6 sources give 0.84. */
function score(c: Candidate): number {
  let miss = 1;
  for (const p of c.bySource.values()) miss *= 1 - p;
  return 1 - miss;
}

class Ballot {
  private readonly byKey = new Map<string, Candidate>();
  constructor(private readonly attr: string) {}
  add(value: string | undefined, source: string, certainty: number): void {
    if (!value) return;
    const key = sameValueKey(this.attr, value);
    if (!key) return;
    let c = this.byKey.get(key);
    if (!c) this.byKey.set(key, (c = { value, key, bySource: new Map() }));
    c.bySource.set(source, Math.max(c.bySource.get(source) ?? 0, certainty));
  }
  /** Winner and runner-up by score; ties go to the value seen first. */
  ranked(filter?: (c: Candidate) => boolean): { value: string; key: string; score: number }[] {
    return [...this.byKey.values()]
      .filter((c) => !filter || filter(c))
      .map((c) => ({ value: c.value, key: c.key, score: score(c) }))
      .sort((a, b) => b.score - a.score);
  }
}

function refOf(o: Observation): ObservationRef {
  return { port: o.port, transport: o.transport, protocol: o.protocol, source: o.source, runId: o.runId, time: o.time };
}

/**
 * Merge every observation of one address (`matches[i]` are the classifier's matches of `observations[i]`) into one
 * device record. Throws when the observations are of different addresses.
 */
export function mergeHost(observations: readonly Observation[], matches: readonly (readonly Match[])[]): Device {
  if (!observations.length) throw new Error('mergeHost needs at least one observation');
  if (matches.length !== observations.length) throw new Error('mergeHost: one match list per observation');
  const ip = observations[0]!.ip;
  for (const o of observations) if (o.ip !== ip) throw new Error(`mergeHost: observations of ${ip} and ${o.ip} mixed`);

  const vendor = new Ballot('vendor');
  const type = new Ballot('type');
  const all: { m: Match; o: Observation; source: string }[] = [];
  observations.forEach((o, i) => {
    for (const m of matches[i]!) {
      const source = `${o.transport}/${o.port}/${o.source}/${m.field}`;
      all.push({ m, o, source });
      if (m.certainty <= 0) continue;
      vendor.add(m.device?.vendor, source, m.certainty);
      type.add(m.device?.type, source, m.certainty);
    }
  });

  const vendors = vendor.ranked();
  const winVendor = vendors[0];
  const vendorAgrees = (idn: Identity | undefined) => !idn?.vendor || !winVendor || sameValueKey('vendor', idn.vendor) === winVendor.key;

  // Model, product and firmware only from evidence that does not name another vendor.
  const model = new Ballot('model');
  const product = new Ballot('product');
  const firmware = new Ballot('firmware');
  const os = new Ballot('os');
  const osParts = new Map<string, Identity>();
  for (const { m, source } of all) {
    if (m.certainty <= 0) continue;
    if (m.device && vendorAgrees(m.device)) {
      model.add(m.device.model, source, m.certainty);
      product.add(m.device.product, source, m.certainty);
      firmware.add(m.device.version, source, m.certainty);
    }
    if (m.os && (m.os.product || m.os.vendor)) {
      const key = `${m.os.vendor ?? ''}|${m.os.product ?? ''}|${m.os.version ?? ''}`;
      os.add(key, source, m.certainty * (m.os.version ? 1 : 0.9));
      if (!osParts.has(sameValueKey('os', key))) osParts.set(sameValueKey('os', key), m.os);
      // An OS made by the device's own vendor is its firmware (RouterOS on a MikroTik, FortiOS on a FortiGate).
      if (m.os.version && m.os.vendor && winVendor && sameValueKey('vendor', m.os.vendor) === winVendor.key) {
        firmware.add(m.os.version, source, m.certainty * 0.9);
      }
    }
  }

  const types = type.ranked();
  const specific = types.filter((t) => !FALLBACK_TYPES.has(t.value));
  const winType = specific[0] ?? types[0];
  const winModel = model.ranked()[0];
  const winProduct = product.ranked()[0];
  const winFirmware = firmware.ranked()[0];
  const oses = os.ranked();
  const winOs = oses.find((o) => !GENERIC_OS.has(nameKey(osParts.get(o.key)?.product ?? ''))) ?? oses[0];

  // Server programs: the most certain software identity per port.
  const bestSoftware = new Map<string, { s: SoftwareSeen; c: number }>();
  for (const { m, o } of all) {
    if (!m.software?.product || m.certainty <= 0) continue;
    const k = `${o.transport}/${o.port}`;
    const prev = bestSoftware.get(k);
    const c = m.certainty + (m.software.version ? 0.01 : 0);
    if (!prev || c > prev.c) {
      const s: SoftwareSeen = { port: o.port, transport: o.transport };
      if (m.software.vendor) s.vendor = m.software.vendor;
      s.product = m.software.product;
      if (m.software.version) s.version = m.software.version;
      bestSoftware.set(k, { s, c });
    }
  }

  const evidence: Evidence[] = [];
  const cpe = new Set<string>();
  for (const { m, o } of all) {
    const vendorOk = vendorAgrees(m.device);
    const modelOk = !m.device?.model || !winModel || sameValueKey('model', m.device.model) === winModel.key;
    const typeOk = !m.device?.type || !winType || FALLBACK_TYPES.has(m.device.type) || sameValueKey('type', m.device.type) === winType.key;
    const accepted = m.certainty > 0 && vendorOk && modelOk && typeOk;
    if (accepted) for (const c of m.cpe) cpe.add(c);
    const gave: Evidence['gave'] = {};
    if (m.device) gave.device = m.device;
    if (m.os) gave.os = m.os;
    if (m.software) gave.software = m.software;
    if (m.cpe.length) gave.cpe = m.cpe;
    evidence.push({ observation: refOf(o), ruleId: m.ruleId, origin: m.origin, field: m.field, value: m.value, certainty: m.certainty, gave, accepted });
  }
  evidence.sort((a, b) => b.certainty - a.certainty || a.observation.port - b.observation.port);

  // Confidence: the belief in the identity that won, lowered by the belief in the best competing one.
  const head = winVendor ?? winType;
  const rival = winVendor ? vendors[1] : specific[1];
  const confidence = head ? Math.max(0, Math.min(1, head.score - (rival ? rival.score / 2 : 0))) : 0;

  const times = observations.map((o) => o.time).sort();
  const device: Device = {
    ip,
    software: [...bestSoftware.values()].map((b) => b.s).sort((a, b) => a.port - b.port),
    cpe: [...cpe].sort(),
    confidence: Math.round(confidence * 1000) / 1000,
    evidence,
    firstSeen: times[0]!,
    lastSeen: times[times.length - 1]!,
  };
  if (winVendor) device.vendor = winVendor.value;
  if (winProduct) device.product = winProduct.value;
  if (winModel) device.model = winModel.value;
  if (winFirmware) device.firmware = winFirmware.value;
  if (winType) device.deviceType = winType.value;
  if (winOs) {
    const parts = osParts.get(winOs.key);
    if (parts) {
      device.os = {};
      if (parts.vendor) device.os.vendor = parts.vendor;
      if (parts.product) device.os.product = parts.product;
      if (parts.version) device.os.version = parts.version;
    }
  }
  return device;
}

/**
 * A device seen again. The new record keeps the first-seen time of the previous one, and what the new scan did not
 * see (a firmware version, a model) is carried over unless the identity itself changed. Events say what changed.
 */
export function trackDevice(previous: Device | undefined, next: Device): { device: Device; events: DeviceEvent[] } {
  if (!previous) return { device: next, events: [{ kind: 'new-device', ip: next.ip, time: next.firstSeen }] };
  const events: DeviceEvent[] = [];
  const time = next.lastSeen;
  const device: Device = { ...next, firstSeen: previous.firstSeen < next.firstSeen ? previous.firstSeen : next.firstSeen };
  if (previous.lastSeen > device.lastSeen) device.lastSeen = previous.lastSeen;
  for (const field of ['vendor', 'model', 'deviceType'] as const) {
    const a = previous[field];
    const b = next[field];
    if (a && b && sameValueKey(field === 'vendor' ? 'vendor' : field, a) !== sameValueKey(field === 'vendor' ? 'vendor' : field, b)) {
      events.push({ kind: 'identity-changed', ip: next.ip, time, field, from: a, to: b });
    }
  }
  const identityChanged = events.length > 0;
  if (previous.firmware && next.firmware && previous.firmware !== next.firmware && !identityChanged) {
    events.push({ kind: 'firmware-changed', ip: next.ip, time, from: previous.firmware, to: next.firmware });
  }
  if (!identityChanged) {
    for (const field of ['vendor', 'product', 'model', 'firmware', 'deviceType'] as const) {
      if (!device[field] && previous[field]) device[field] = previous[field];
    }
  }
  return { device, events };
}
