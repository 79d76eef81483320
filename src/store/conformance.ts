// Stage: storage. The one suite every Store implementation must pass (SQLite now, PostgreSQL next): each
// implementation's test file calls runStoreConformance with a factory for a fresh, empty store.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Observation } from '../core/observation.ts';
import type { Device } from '../fingerprint/types.ts';
import type { Store } from './store.ts';

export function obs(over: Partial<Observation> = {}): Observation {
  return {
    runId: 'run-1',
    source: 'probe:http',
    ip: '192.0.2.10',
    port: 80,
    transport: 'tcp',
    protocol: 'http',
    time: '2026-01-01T00:00:00.000Z',
    status: 'success',
    data: { server: 'lighttpd/1.4.69' },
    ...over,
  };
}

const scanRun = (id: string) => ({ id, kind: 'scan' as const, status: 'running' as const, startedAt: '2026-01-01T00:00:00.000Z', spec: { targets: ['192.0.2.0/24'] }, progress: { total: 10, watermark: 0, doneAbove: [], found: 0 } });

function device(over: Partial<Device> & { ip: string }): Device {
  return { software: [], cpe: [], confidence: 0.9, evidence: [], firstSeen: '2026-01-01T00:00:00.000Z', lastSeen: '2026-01-01T00:00:00.000Z', ...over };
}

export function runStoreConformance(name: string, fresh: () => Promise<Store>): void {
  describe(`Store conformance: ${name}`, () => {
    it('creates, reads and finishes runs', async () => {
      const s = await fresh();
      await s.createRun(scanRun('r1'));
      const r = await s.getRun('r1');
      assert.equal(r?.status, 'running');
      assert.deepEqual(r?.spec, { targets: ['192.0.2.0/24'] });
      await s.finishRun('r1', 'done', { found: 3 });
      const done = await s.getRun('r1');
      assert.equal(done?.status, 'done');
      assert.deepEqual(done?.summary, { found: 3 });
      assert.ok(done?.finishedAt);
      assert.equal(await s.getRun('nope'), null);
      await assert.rejects(s.finishRun('nope', 'done'));
      await s.close();
    });

    it('stores a scan batch and its progress atomically, keeping data, raw bytes and extra fields', async () => {
      const s = await fresh();
      await s.createRun(scanRun('r1'));
      const raw = new Uint8Array([0xff, 0xfd, 0x01, 0x00, 0x41]);
      await s.commitScanBatch('r1', [obs({ runId: 'r1', raw, extra: { vendorField: [1, 2] } })], { total: 10, watermark: 4, doneAbove: [6], found: 1 });
      const [o] = await s.observations({ runId: 'r1' });
      assert.deepEqual(o?.data, { server: 'lighttpd/1.4.69' });
      assert.deepEqual([...(o?.raw ?? [])], [...raw]);
      assert.deepEqual(o?.extra, { vendorField: [1, 2] });
      assert.deepEqual((await s.getRun('r1'))?.progress, { total: 10, watermark: 4, doneAbove: [6], found: 1 });
      // a batch for a run that does not exist stores nothing
      await assert.rejects(s.commitScanBatch('ghost', [obs({ runId: 'ghost' })], { total: 1, watermark: 1, doneAbove: [], found: 1 }));
      assert.equal(await s.countObservations(), 1);
      await s.close();
    });

    it('rolls a failed import back completely', async () => {
      const s = await fresh();
      async function* good() {
        yield obs({ runId: 'imp-ok', source: 'import:nmap' });
        yield obs({ runId: 'imp-ok', source: 'import:nmap', port: 443, protocol: 'https' });
      }
      assert.deepEqual(await s.importObservations({ id: 'imp-ok', kind: 'import', startedAt: '2026-01-02T00:00:00.000Z', spec: { file: 'a.xml' } }, good(), { batchSize: 1, summary: () => ({ bad: 1 }) }), { stored: 2 });
      assert.deepEqual((await s.getRun('imp-ok'))?.summary, { bad: 1, stored: 2 });
      // importers hand over batches; a batch larger than the store's own batch size is split, not truncated
      async function* batches() {
        yield [obs({ runId: 'imp-batch', port: 21 }), obs({ runId: 'imp-batch', port: 22 }), obs({ runId: 'imp-batch', port: 23 })];
        yield [];
        yield [obs({ runId: 'imp-batch', port: 24 })];
      }
      assert.deepEqual(await s.importObservations({ id: 'imp-batch', kind: 'import', startedAt: '2026-01-02T00:00:00.000Z', spec: {} }, batches(), { batchSize: 2 }), { stored: 4 });
      assert.deepEqual((await s.observations({ runId: 'imp-batch' })).map((o) => o.port).sort(), [21, 22, 23, 24]);
      async function* bad() {
        yield [obs({ runId: 'imp-bad', port: 999 })];
        for (let i = 0; i < 5; i++) yield obs({ runId: 'imp-bad', port: 1000 + i });
        throw new Error('a.xml: line 7: unexpected end of file');
      }
      await assert.rejects(s.importObservations({ id: 'imp-bad', kind: 'import', startedAt: '2026-01-02T00:00:00.000Z', spec: {} }, bad(), { batchSize: 2 }), /line 7/);
      assert.equal(await s.countObservations(), 6);
      assert.equal(await s.getRun('imp-bad'), null);
      assert.equal((await s.getRun('imp-ok'))?.status, 'done');
      await s.close();
    });

    it('hands out the observations of each address, of given addresses or of all, across many addresses', async () => {
      const s = await fresh();
      await s.createRun(scanRun('many'));
      // 1,200 addresses (more than one internal chunk), IPv6 among them, two services each and a failed probe
      const batch: Observation[] = [];
      for (let i = 0; i < 1200; i++) {
        const ip = i === 7 ? '2001:db8::7' : `10.0.${i >> 8}.${i & 255}`;
        batch.push(obs({ runId: 'many', ip, port: 80 }), obs({ runId: 'many', ip, port: 22, protocol: 'ssh', data: { n: i } }));
        if (i % 100 === 0) batch.push(obs({ runId: 'many', ip, port: 23, status: 'connection-timeout', protocol: 'unknown' }));
      }
      await s.commitScanBatch('many', batch, { total: 1, watermark: 1, doneAbove: [], found: batch.length });
      const all: { ip: string; ports: number[] }[] = [];
      for await (const h of s.observationsByHost()) all.push({ ip: h.ip, ports: h.observations.map((o) => o.port) });
      assert.equal(all.length, 1200);
      assert.equal(new Set(all.map((h) => h.ip)).size, 1200, 'each address once');
      assert.ok(all.every((h) => h.ports.join() === '80,22'), 'successes only by default, in the order stored');
      assert.ok(all.findIndex((h) => h.ip === '10.0.0.2') < all.findIndex((h) => h.ip === '10.0.0.10'), 'numeric address order');
      const some: { ip: string; ports: number[] }[] = [];
      for await (const h of s.observationsByHost({ ips: ['10.0.0.100', '2001:db8::7', '10.0.0.100', '192.0.2.99'], status: 'any' })) some.push({ ip: h.ip, ports: h.observations.map((o) => o.port) });
      assert.deepEqual(some.sort((a, b) => a.ip.localeCompare(b.ip)), [{ ip: '10.0.0.100', ports: [80, 22, 23] }, { ip: '2001:db8::7', ports: [80, 22] }]);
      const none: unknown[] = [];
      for await (const h of s.observationsByHost({ ips: [] })) none.push(h);
      assert.deepEqual(none, []);
      await s.close();
    });

    it('filters observations and lists services and hosts', async () => {
      const s = await fresh();
      await s.createRun(scanRun('a'));
      await s.createRun(scanRun('b'));
      await s.commitScanBatch('a', [
        obs({ runId: 'a', ip: '192.0.2.10', port: 80, time: '2026-01-01T00:00:00.000Z' }),
        obs({ runId: 'a', ip: '192.0.2.10', port: 23, protocol: 'telnet', data: { banner: 'login:' } }),
        obs({ runId: 'a', ip: '192.0.2.9', port: 1883, protocol: 'mqtt' }),
        obs({ runId: 'a', ip: '2001:db8::1', port: 22, protocol: 'ssh' }),
        obs({ runId: 'a', ip: '198.51.100.1', port: 81, protocol: 'unknown', status: 'protocol-error' }),
      ], { total: 5, watermark: 5, doneAbove: [], found: 4 });
      await s.commitScanBatch('b', [obs({ runId: 'b', ip: '192.0.2.10', port: 80, time: '2026-02-01T00:00:00.000Z', data: { server: 'lighttpd/1.4.70' } })], { total: 1, watermark: 1, doneAbove: [], found: 1 });

      assert.equal(await s.countObservations({ network: '192.0.2.0/24' }), 4);
      assert.equal(await s.countObservations({ network: '2001:db8::/32' }), 1);
      assert.equal(await s.countObservations({ port: 80 }), 2);
      assert.equal(await s.countObservations({ protocol: 'telnet' }), 1);
      assert.equal(await s.countObservations({ status: 'any' }), 6);

      const svc = await s.services({ ip: '192.0.2.10' });
      assert.deepEqual(svc.map((x) => `${x.port}/${x.transport}`), ['23/tcp', '80/tcp']);
      const http = svc.find((x) => x.port === 80)!;
      assert.equal(http.firstSeen, '2026-01-01T00:00:00.000Z');
      assert.equal(http.lastSeen, '2026-02-01T00:00:00.000Z');
      assert.deepEqual(http.data, { server: 'lighttpd/1.4.70' }, 'the latest observation wins');

      const hosts = await s.hosts();
      // sorted by address, IPv4 before IPv6; the protocol-error-only host is not a host with services
      assert.deepEqual(hosts.map((h) => h.ip), ['192.0.2.9', '192.0.2.10', '2001:db8::1']);
      assert.deepEqual(hosts[1]!.ports, ['23/tcp', '80/tcp']);
      assert.deepEqual(hosts[1]!.protocols, ['http', 'telnet']);
      assert.deepEqual((await s.hosts({ limit: 1, offset: 1 })).map((h) => h.ip), ['192.0.2.10']);

      const streamed: number[] = [];
      for await (const o of s.iterateObservations({ runId: 'a' })) streamed.push(o.port);
      assert.equal(streamed.length, 5);
      await assert.rejects(s.services({ network: 'not-a-net' }));
      await s.close();
    });

    it('saves devices with their events, filters them and counts the inventory', async () => {
      const s = await fresh();
      await s.createRun(scanRun('a'));
      await s.commitScanBatch('a', [
        obs({ runId: 'a', ip: '192.0.2.1', port: 80 }),
        obs({ runId: 'a', ip: '192.0.2.1', port: 23, protocol: 'telnet' }),
        obs({ runId: 'a', ip: '192.0.2.2', port: 80 }),
        obs({ runId: 'a', ip: '192.0.2.3', port: 554, protocol: 'rtsp' }),
        obs({ runId: 'a', ip: '192.0.2.9', port: 80 }),
      ], { total: 5, watermark: 5, doneAbove: [], found: 5 });
      await s.saveDevices(
        [
          device({ ip: '192.0.2.1', vendor: 'Hikvision', model: 'DS-2CD2032-I', firmware: 'V5.4.5', deviceType: 'ip-camera', cpe: ['cpe:2.3:h:hikvision:ds-2cd2032-i:-:*:*:*:*:*:*:*'] }),
          device({ ip: '192.0.2.2', vendor: 'Hikvision', model: 'DS-7608NI', firmware: 'V4.1.0', deviceType: 'nvr' }),
          device({ ip: '192.0.2.3', vendor: 'D-Link', model: 'DCS-930L', firmware: '1.0_100', deviceType: 'ip-camera' }),
          device({ ip: '192.0.2.9', deviceType: 'ip-camera', noise: { kind: 'honeypot', reasons: ['many vendors'] } }),
        ],
        [{ kind: 'new-device', ip: '192.0.2.1', time: '2026-01-01T00:00:00.000Z' }],
      );
      assert.deepEqual((await s.devices()).find((d) => d.ip === '192.0.2.1')?.cpe, ['cpe:2.3:h:hikvision:ds-2cd2032-i:-:*:*:*:*:*:*:*']);
      // a later scan: the camera's firmware changed; the new record replaces the old one whole
      await s.saveDevices([device({ ip: '192.0.2.1', vendor: 'Hikvision', model: 'DS-2CD2032-I', firmware: 'V5.5.0', deviceType: 'ip-camera', lastSeen: '2026-02-01T00:00:00.000Z' })], [
        { kind: 'firmware-changed', ip: '192.0.2.1', time: '2026-02-01T00:00:00.000Z', from: 'V5.4.5', to: 'V5.5.0' },
      ]);
      assert.equal((await s.getDevice('192.0.2.1'))?.firmware, 'V5.5.0');
      assert.equal(await s.getDevice('192.0.2.77'), null);
      assert.deepEqual((await s.deviceEvents('192.0.2.1')).map((e) => e.kind), ['new-device', 'firmware-changed']);

      assert.deepEqual((await s.devices()).map((d) => d.ip), ['192.0.2.1', '192.0.2.2', '192.0.2.3'], 'noise left out by default');
      assert.equal((await s.devices({ noise: 'include' })).length, 4);
      assert.deepEqual((await s.devices({ noise: 'only' })).map((d) => d.ip), ['192.0.2.9']);
      assert.deepEqual((await s.devices({ vendor: 'hikvision' })).map((d) => d.ip), ['192.0.2.1', '192.0.2.2']);
      assert.deepEqual((await s.devices({ type: 'ip-camera' })).map((d) => d.ip), ['192.0.2.1', '192.0.2.3']);
      assert.deepEqual((await s.devices({ model: '2032' })).map((d) => d.ip), ['192.0.2.1']);
      assert.deepEqual((await s.devices({ firmware: 'V4' })).map((d) => d.ip), ['192.0.2.2']);
      assert.deepEqual((await s.devices({ model: '%' })).map((d) => d.ip), [], 'LIKE wildcards in filters are literal');
      assert.deepEqual((await s.devices({ network: '192.0.2.2/31' })).map((d) => d.ip), ['192.0.2.2', '192.0.2.3']);

      const st = await s.inventoryStats();
      assert.equal(st.devices, 3);
      assert.equal(st.noiseExcluded, 1);
      assert.deepEqual(st.byType, [{ key: 'ip-camera', count: 2 }, { key: 'nvr', count: 1 }]);
      assert.deepEqual(st.byVendor, [{ key: 'Hikvision', count: 2 }, { key: 'D-Link', count: 1 }]);
      assert.deepEqual(st.byPort, [{ key: '80/tcp', count: 2 }, { key: '23/tcp', count: 1 }, { key: '554/tcp', count: 1 }]);
      assert.deepEqual(st.byProtocol, [{ key: 'http', count: 2 }, { key: 'rtsp', count: 1 }, { key: 'telnet', count: 1 }]);
      assert.equal((await s.inventoryStats({ vendor: 'D-Link' })).byPort[0]?.key, '554/tcp');
      await s.close();
    });

    it('tracks findings across assessments: opened, seen again, fixed, re-opened, accepted', async () => {
      const s = await fresh();
      const telnet = { ip: '192.0.2.1', port: 23, transport: 'tcp' as const, kind: 'exposure' as const, id: 'telnet-exposed', title: 'Telnet exposed', severity: 'high' as const, evidence: { banner: 'login:' }, remediation: 'Disable Telnet.' };
      const cve = { ip: '192.0.2.1', kind: 'vulnerability' as const, id: 'CVE-2021-36260', title: 'Hikvision command injection', severity: 'critical' as const, evidence: {}, remediation: 'Update firmware.', details: { kev: true } };
      const mqtt = { ip: '192.0.2.2', port: 1883, transport: 'tcp' as const, kind: 'no-auth' as const, id: 'mqtt-anonymous', title: 'Anonymous MQTT', severity: 'high' as const, evidence: {}, remediation: 'Require authentication.' };
      const both = { ips: ['192.0.2.1', '192.0.2.2'], kinds: ['exposure', 'no-auth'] as ('exposure' | 'no-auth')[] };

      assert.deepEqual(await s.recordFindings({ ...both, time: 't1' }, [telnet, mqtt]), { opened: 2, stillOpen: 0, fixed: 0 });
      assert.deepEqual(await s.recordFindings({ ips: ['192.0.2.1'], kinds: ['vulnerability'], time: 't1' }, [cve]), { opened: 1, stillOpen: 0, fixed: 0 });
      // second assessment: telnet still there, MQTT gone; the CVE was not part of this assessment and stays open
      assert.deepEqual(await s.recordFindings({ ...both, time: 't2' }, [telnet]), { opened: 0, stillOpen: 1, fixed: 1 });
      const open = await s.findings();
      assert.deepEqual(open.map((f) => f.id), ['CVE-2021-36260', 'telnet-exposed'], 'worst first');
      const t = open.find((f) => f.id === 'telnet-exposed')!;
      assert.equal(t.firstSeen, 't1');
      assert.equal(t.lastSeen, 't2');
      const fixed = await s.findings({ state: 'fixed' });
      assert.deepEqual(fixed.map((f) => [f.id, f.state, f.fixedAt]), [['mqtt-anonymous', 'fixed', 't2']]);
      // it comes back: re-opened with a new first-seen
      assert.deepEqual(await s.recordFindings({ ...both, time: 't3' }, [telnet, mqtt]), { opened: 1, stillOpen: 1, fixed: 0 });
      assert.equal((await s.findings({ id: 'mqtt-anonymous' }))[0]?.firstSeen, 't3');
      // accepted risk survives later assessments
      await s.setFindingState('192.0.2.1|23|tcp|exposure|telnet-exposed', 'accepted');
      await s.recordFindings({ ...both, time: 't4' }, [telnet, mqtt]);
      assert.equal((await s.findings({ state: 'accepted' }))[0]?.id, 'telnet-exposed');
      // filters
      assert.deepEqual((await s.findings({ minSeverity: 'critical' })).map((f) => f.id), ['CVE-2021-36260']);
      assert.deepEqual((await s.findings({ kind: 'no-auth', network: '192.0.2.0/30' })).map((f) => f.ip), ['192.0.2.2']);
      assert.equal((await s.findings({ state: 'any' })).length, 3);
      // a finding outside its assessment is refused and changes nothing
      await assert.rejects(s.recordFindings({ ips: ['192.0.2.9'], kinds: ['exposure'], time: 't5' }, [telnet]), /outside the assessment/);
      assert.equal((await s.findings({ state: 'any' })).length, 3);
      await assert.rejects(s.setFindingState('nope', 'accepted'));
      await s.close();
    });
  });
}
