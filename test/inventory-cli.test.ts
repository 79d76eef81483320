// Imported data flows through fingerprinting like scanned data: `iotscope import` of real-format files fills the
// device inventory, and `fingerprints import-recog` adds Rapid7 Recog's databases to every later identification.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Device } from '../src/fingerprint/types.ts';
import { runCli } from './cli.ts';
import { FIXTURES, require_ } from './testbed.ts';

const dir = mkdtempSync(join(tmpdir(), 'iotscope-inventory-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const sample = (f: string) => join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..', 'src', 'importers', 'testdata', f);

describe('inventory from imports', () => {
  it('identifies devices in imported Shodan banners and keeps them apart from noise', async () => {
    const db = join(dir, 'shodan.db');
    const r = await runCli(['import', sample('shodan-banners.json'), '--db', db, '--no-progress']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /fingerprinted \d+ device\(s\)/);
    const devices = JSON.parse((await runCli(['devices', '--db', db, '--json'])).stdout) as Device[];
    const mikrotik = devices.find((d) => d.vendor === 'MikroTik');
    assert.ok(mikrotik, `no MikroTik among ${devices.map((d) => d.vendor).join(', ')}`);
    assert.equal(mikrotik.deviceType, 'router');
    assert.ok(mikrotik.evidence.some((e) => e.accepted && e.observation.source.startsWith('import:shodan')));
  });

  it('a Recog import adds its fingerprints, reports what it skipped, and re-identifies the store', async (t) => {
    if (!require_(t, 'fixtures')) return;
    const db = join(dir, 'recog.db');
    const imp = await runCli(['import', sample('nmap-testbed-tcp.xml'), '--db', db, '--no-progress']);
    assert.equal(imp.code, 0, imp.stderr);
    const before = JSON.parse((await runCli(['devices', '--db', db, '--json'])).stdout) as Device[];
    const r = await runCli(['fingerprints', 'import-recog', join(FIXTURES, 'recog', 'xml'), '--db', db, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout.slice(0, r.stdout.lastIndexOf('}') + 1)) as { translated: number; total: number; skipped: { reason: string }[] };
    assert.ok(report.translated > 3000 && report.translated <= report.total, `${report.translated} of ${report.total}`);
    assert.equal(report.total - report.translated, report.skipped.length, 'every fingerprint not translated is reported with a reason');
    assert.ok(existsSync(join(dir, 'fingerprints', 'recog', 'ssh_banners.xml')));
    const afterImport = JSON.parse((await runCli(['devices', '--db', db, '--json'])).stdout) as Device[];
    assert.equal(afterImport.length, before.length);
    // Recog knows the embedded servers the lab runs: more evidence per device than our own rules alone.
    const evidence = (ds: Device[]) => ds.reduce((n, d) => n + d.evidence.length, 0);
    assert.ok(evidence(afterImport) > evidence(before), `${evidence(before)} → ${evidence(afterImport)}`);
    assert.ok(afterImport.some((d) => d.evidence.some((e) => e.origin.startsWith('recog'))));
  });

  it('refuses a folder without Recog databases and changes nothing', async () => {
    const r = await runCli(['fingerprints', 'import-recog', dir, '--db', join(dir, 'empty.db')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no Recog fingerprints found/);
  });
});
