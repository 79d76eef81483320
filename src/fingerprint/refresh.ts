// Stage: fingerprint, its store side. After a scan or an import, the addresses it touched are re-identified: the
// latest observation of every service of the address is classified and merged into one device record, compared with
// the record the store held (first/last seen, firmware and identity changes), and saved.
import type { Observation } from '../core/observation.ts';
import type { Store } from '../store/store.ts';
import type { Classifier } from './classify.ts';
import { fingerprintHost } from './index.ts';
import { trackDevice } from './merge.ts';
import type { Device, DeviceEvent } from './types.ts';

export interface RefreshResult {
  devices: number;
  events: DeviceEvent[];
}

/** Latest observation per (port, transport, source): older answers of the same service do not vote again. */
export function latestPerService(observations: readonly Observation[]): Observation[] {
  const latest = new Map<string, Observation>();
  for (const o of observations) {
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
  for await (const host of store.observationsByHost({ ips, status: 'success' })) {
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
