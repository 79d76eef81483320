// Stage: fingerprint, store side. Re-identification across scans: a device keeps its first-seen time, a new
// firmware version is recorded as an event, and what the newer scan says wins.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Observation } from '../core/observation.ts';
import { SqliteStore } from '../store/sqlite/store.ts';
import { loadClassifier } from './index.ts';
import { latestPerService, refreshDevices } from './refresh.ts';

const dir = mkdtempSync(join(tmpdir(), 'iotscope-refresh-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const ftp = (runId: string, time: string, banner: string): Observation => ({
  runId,
  source: 'probe:ftp',
  ip: '198.51.100.7',
  port: 21,
  transport: 'tcp',
  protocol: 'ftp',
  time,
  status: 'success',
  data: { banner, code: 220 },
});

describe('refreshDevices', () => {
  it('tracks a device across scans: first seen kept, firmware change recorded', async () => {
    const store = SqliteStore.open(join(dir, 'a.db'));
    const classifier = loadClassifier();
    const scan = async (runId: string, time: string, banner: string) => {
      await store.createRun({ id: runId, kind: 'scan', status: 'running', startedAt: time, spec: {}, progress: null });
      await store.commitScanBatch(runId, [ftp(runId, time, banner)], { total: 1, watermark: 1, doneAbove: [], found: 1 });
      return refreshDevices(store, classifier, ['198.51.100.7']);
    };
    const first = await scan('s1', '2026-01-01T00:00:00.000Z', '220 AXIS M1011 Network Camera 5.20 (Sep 04 2009) ready.');
    assert.deepEqual(first.events.map((e) => e.kind), ['new-device']);
    const d1 = await store.getDevice('198.51.100.7');
    assert.equal(d1?.vendor, 'Axis');
    assert.equal(d1?.firmware, '5.20');

    const second = await scan('s2', '2026-03-01T00:00:00.000Z', '220 AXIS M1011 Network Camera 5.40 (Jan 10 2012) ready.');
    assert.deepEqual(second.events.map((e) => e.kind), ['firmware-changed']);
    const d2 = await store.getDevice('198.51.100.7');
    assert.equal(d2?.firmware, '5.40', 'the newer scan wins');
    assert.equal(d2?.firstSeen, '2026-01-01T00:00:00.000Z');
    assert.equal(d2?.lastSeen, '2026-03-01T00:00:00.000Z');
    const history = await store.deviceEvents('198.51.100.7');
    assert.deepEqual(history.map((e) => e.kind), ['new-device', 'firmware-changed']);
    assert.deepEqual(history[1], { kind: 'firmware-changed', ip: '198.51.100.7', time: '2026-03-01T00:00:00.000Z', from: '5.20', to: '5.40' });
    await store.close();
  });

  it('lets only the latest answer of each service vote', () => {
    const a = ftp('s1', '2026-01-01T00:00:00.000Z', 'old');
    const b = ftp('s2', '2026-02-01T00:00:00.000Z', 'new');
    const web = { ...a, port: 80, protocol: 'http', source: 'probe:http' };
    assert.deepEqual(latestPerService([b, a, web]).map((o) => o.data.banner ?? o.protocol), ['new', 'old']);
  });
});
