// The README's main job, end to end: `iotscope demo` starts the emulated lab, scans it into a fresh store,
// fingerprints what it found; `devices` and `stats` then show the inventory. Works as root (real ports) and as a
// normal user (ports moved up by 10000), so it never skips.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Device } from '../src/fingerprint/types.ts';
import { loadProfiles } from '../src/lab/profile.ts';
import type { InventoryStats } from '../src/store/store.ts';
import { runCli } from './cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'iotscope-demo-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('iotscope demo', () => {
  it('scans the emulated devices, identifies them, and the inventory commands show them', async () => {
    const db = join(dir, 'demo.db');
    // a base of its own, so it cannot collide with the lab's own tests running in parallel
    const r = await runCli(['demo', '--db', db, '--base', '127.0.0.60'], { timeoutMs: 180_000 });
    assert.equal(r.code, 0, r.stderr);
    const profiles = loadProfiles();
    assert.match(r.stdout, new RegExp(`scan scan-\\S+: \\d+ services found`));
    assert.match(r.stderr, new RegExp(`fingerprinted ${profiles.length} device\\(s\\)`));

    const devices = JSON.parse((await runCli(['devices', '--db', db, '--json'])).stdout) as Device[];
    assert.equal(devices.length, profiles.length);
    const problems: string[] = [];
    profiles.forEach((p, i) => {
      const d = devices.find((x) => x.ip === `127.0.0.${60 + i}`);
      if (!d) return problems.push(`${p.name}: no device`);
      // The smart-home hub's services name no maker anywhere (generic lighttpd page, Mosquitto, dropbear): claiming
      // one would be a false identification.
      if (p.name === 'smarthome-hub') {
        if (d.vendor) problems.push(`${p.name}: vendor "${d.vendor}" claimed without evidence`);
        return;
      }
      if (d.vendor?.toLowerCase() !== p.device.vendor.toLowerCase()) problems.push(`${p.name}: vendor ${d.vendor} ≠ ${p.device.vendor}`);
      if (d.model && !p.device.model.toLowerCase().includes(d.model.toLowerCase()) && !d.model.toLowerCase().includes(p.device.model.toLowerCase()))
        problems.push(`${p.name}: model ${d.model} ≠ ${p.device.model}`);
      if (!d.evidence.length) problems.push(`${p.name}: no evidence`);
    });
    assert.deepEqual(problems, []);

    const stats = JSON.parse((await runCli(['stats', '--db', db, '--json'])).stdout) as InventoryStats;
    assert.equal(stats.devices, profiles.length);
    assert.equal(stats.byType.reduce((n, r) => n + r.count, 0), profiles.length);
    const cams = JSON.parse((await runCli(['devices', '--db', db, '--json', '--type', 'ip-camera'])).stdout) as Device[];
    assert.deepEqual(cams.map((c) => c.vendor), ['Hikvision']);
    const table = await runCli(['services', '--db', db, '--protocol', 'telnet']);
    assert.match(table.stdout, /login: \(login prompt\)/);
  });

  it('explains a store path it cannot use, without a stack trace', async () => {
    const r = await runCli(['hosts', '--db', '/dev/null/iotscope.db']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^iotscope: cannot open the SQLite store \/dev\/null\/iotscope\.db: /);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });
});
