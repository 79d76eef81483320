// Stage: fingerprint, its store side. After a scan or an import, the addresses it touched are re-identified: the
// latest observation of every service of the address is classified and merged into one device record, compared with
// the record the store held (first/last seen, firmware and identity changes), and saved.
import type { Observation, ProbeStatus } from '../core/observation.ts';
import type { Store } from '../store/store.ts';
import type { Classifier } from './classify.ts';
import { fingerprintHost } from './index.ts';
import { trackDevice } from './merge.ts';
import type { Device, DeviceEvent } from './types.ts';

export interface RefreshResult {
  devices: number;
  events: DeviceEvent[];
}

/** Port-level outcomes: nothing listens there. A probe that reached a listener and then failed (protocol error,
 *  read time-out, handshake error) says the service is still there, just not what it expected. */
const NOTHING_LISTENS: ReadonlySet<ProbeStatus> = new Set(['connection-refused', 'connection-timeout']);

/**
 * The services an address has now, from all its observations (any status): the latest successful answer per
 * (port, transport, source, protocol), so older answers of the same service do not vote again; and none for a
 * port that a later run found closed or silent, so a service that went away stops counting (its findings become
 * fixed). A failure in the same run as a success on that port (another probe tried first) closes nothing.
 */
export function latestPerService(observations: readonly Observation[]): Observation[] {
  const succeededIn = new Set<string>();
  for (const o of observations) if (o.status === 'success') succeededIn.add(`${o.port}/${o.transport} ${o.runId}`);
  const goneAt = new Map<string, string>();
  for (const o of observations) {
    if (!NOTHING_LISTENS.has(o.status)) continue;
    const port = `${o.port}/${o.transport}`;
    if (succeededIn.has(`${port} ${o.runId}`)) continue;
    const prev = goneAt.get(port);
    if (prev === undefined || prev < o.time) goneAt.set(port, o.time);
  }
  const latest = new Map<string, Observation>();
  for (const o of observations) {
    if (o.status !== 'success') continue;
    const gone = goneAt.get(`${o.port}/${o.transport}`);
    if (gone !== undefined && gone > o.time) continue;
    const key = `${o.port}/${o.transport}/${o.source.split(':')[0]}:${o.protocol}`;
    const prev = latest.get(key);
    if (!prev || prev.time <= o.time) latest.set(key, o);
  }
  return [...latest.values()];
}

/** Re-identify the given addresses (every address with observations, without a list). */
export async function refreshDevices(store: Store, classifier: Classifier, ips?: Iterable<string>): Promise<RefreshResult> {
  let devices: Device[] = [];
  let events: DeviceEvent[] = [];
  const allEvents: DeviceEvent[] = [];
  const flush = async () => {
    await store.saveDevices(devices, events);
    devices = [];
    events = [];
  };
  let count = 0;
  for await (const host of store.observationsByHost({ ips, status: 'any' })) {
    const ip = host.ip;
    const observations = latestPerService(host.observations);
    // Events (Cowrie, IntelMQ) describe what a device did, not what it is.
    const services = observations.filter((o) => o.protocol !== 'event');
    if (!services.length) continue;
    const previous = await store.getDevice(ip);
    const tracked = trackDevice(previous ?? undefined, fingerprintHost(classifier, services));
    devices.push(tracked.device);
    events.push(...tracked.events);
    allEvents.push(...tracked.events);
    count++;
    if (devices.length >= 500) await flush();
  }
  await flush();
  return { devices: count, events: allEvents };
}
