// The exposure assessment's life cycle over the store: a finding opens when a service shows up, stays open while it
// answers, and is fixed once a later run finds its port closed or silent.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Observation } from '../core/observation.ts';
import { SqliteStore } from '../store/sqlite/store.ts';
import { assessExposure } from './exposure.ts';

const IP = '192.0.2.5';
const telnet = (runId: string, time: string, over: Partial<Observation> = {}): Observation => ({
  ip: IP,
  port: 23,
  transport: 'tcp',
  source: 'probe:telnet',
  protocol: 'telnet',
  runId,
  time,
  status: 'success',
  data: { banner: 'BusyBox v1.19.4\r\n(none) login: ', loginPrompt: true },
  ...over,
});
const web = (runId: string, time: string): Observation => ({ ip: IP, port: 80, transport: 'tcp', source: 'probe:http', protocol: 'http', runId, time, status: 'success', data: { statusCode: 200, server: 'lighttpd' } });
const closed = (runId: string, time: string, status: Observation['status'] = 'connection-refused'): Observation => telnet(runId, time, { status, protocol: 'unknown', data: {} });

async function scan(store: SqliteStore, runId: string, time: string, observations: Observation[]) {
  await store.createRun({ id: runId, kind: 'scan', status: 'running', startedAt: time, spec: {}, progress: null });
  await store.commitScanBatch(runId, observations, { total: 1, watermark: 1, doneAbove: [], found: observations.length });
  return assessExposure(store, [IP], { time });
}

const telnetState = async (store: SqliteStore) => (await store.findings({ id: 'telnet-exposed', state: 'any' })).map((f) => f.state);

it('a telnet finding opens, survives a failed probe in the same run, is fixed when the port closes, and opens again', async () => {
  const store = SqliteStore.open(':memory:');
  const first = await scan(store, 'r1', '2026-01-01T00:00:00.000Z', [telnet('r1', '2026-01-01T00:00:00.000Z'), web('r1', '2026-01-01T00:00:00.000Z')]);
  assert.ok(first.opened >= 1);
  assert.deepEqual(await telnetState(store), ['open']);

  // another probe tried the port first and was refused in the same run as the telnet answer: still open
  await scan(store, 'r2', '2026-02-01T00:00:00.000Z', [closed('r2', '2026-02-01T00:00:00.000Z'), telnet('r2', '2026-02-01T00:00:01.000Z'), web('r2', '2026-02-01T00:00:00.000Z')]);
  assert.deepEqual(await telnetState(store), ['open']);

  // a protocol error means something still listens there: still open
  await scan(store, 'r3', '2026-03-01T00:00:00.000Z', [closed('r3', '2026-03-01T00:00:00.000Z', 'protocol-error'), web('r3', '2026-03-01T00:00:00.000Z')]);
  assert.deepEqual(await telnetState(store), ['open']);

  // the next scan finds the port closed: fixed, while the web server (not a finding source here) answers on
  const gone = await scan(store, 'r4', '2026-04-01T00:00:00.000Z', [closed('r4', '2026-04-01T00:00:00.000Z'), web('r4', '2026-04-01T00:00:00.000Z')]);
  const onPort23 = (await store.findings({ state: 'any' })).filter((f) => f.port === 23);
  assert.ok(onPort23.length >= 1);
  assert.equal(gone.fixed, onPort23.length, 'every finding of the closed port is fixed');
  assert.ok(onPort23.every((f) => f.state === 'fixed'));
  assert.deepEqual(await telnetState(store), ['fixed']);

  // silent (filtered) in a later scan: stays fixed
  await scan(store, 'r5', '2026-05-01T00:00:00.000Z', [closed('r5', '2026-05-01T00:00:00.000Z', 'connection-timeout')]);
  assert.deepEqual(await telnetState(store), ['fixed']);

  // telnet comes back: open again
  const back = await scan(store, 'r6', '2026-06-01T00:00:00.000Z', [telnet('r6', '2026-06-01T00:00:00.000Z')]);
  assert.equal(back.opened, onPort23.length);
  assert.deepEqual(await telnetState(store), ['open']);
  await store.close();
});
