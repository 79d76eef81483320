// Stage: CLI front-end. `iotscope import` against the real SQLite store: a good file is stored with its
// provenance, a truncated file stores nothing (the import is one transaction), --skip-bad keeps the good records.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { SqliteStore } from '../../store/sqlite/store.ts';
import { registerImportCommand } from './import.ts';

const DATA = new URL('../../importers/testdata/', import.meta.url).pathname;

async function runImport(db: string, args: string[]): Promise<{ code: number | undefined; stderr: string }> {
  const program = new Command().exitOverride();
  registerImportCommand(program, { openStore: async () => SqliteStore.open(db) });
  const chunks: string[] = [];
  const orig = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((s: string | Uint8Array) => {
    chunks.push(String(s));
    return true;
  }) as typeof process.stderr.write;
  process.exitCode = undefined;
  try {
    await program.parseAsync(['node', 'iotscope', 'import', '--no-progress', ...args]);
  } finally {
    process.stderr.write = orig;
  }
  const code = typeof process.exitCode === 'number' ? process.exitCode : undefined;
  process.exitCode = undefined;
  return { code, stderr: chunks.join('') };
}

test('import stores a file, refuses a truncated one entirely, and --skip-bad keeps the rest', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'iotscope-import-cli-'));
  try {
    const db = join(dir, 'store.db');
    const ok = await runImport(db, [join(DATA, 'zgrab2.jsonl')]);
    assert.equal(ok.code, undefined, ok.stderr);
    assert.match(ok.stderr, /zgrab2, 20 observation\(s\) stored/);
    let store = await SqliteStore.open(db);
    assert.equal(await store.countObservations({ status: 'any' }), 20);
    const http = (await store.observations({ ip: '10.213.0.20', port: 80 }))[0]!;
    assert.equal(http.source, 'import:zgrab2');
    assert.equal(http.data.title, 'OpenWrt - LuCI');
    await store.close();

    const text = readFileSync(join(DATA, 'masscan-oD.ndjson'), 'utf8');
    const broken = join(dir, 'broken.ndjson');
    writeFileSync(broken, text.replace('"port":21', '"port":"x"'));
    const bad = await runImport(db, [broken]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /broken\.ndjson \(line 3, byte \d+\): not a port number/);
    assert.match(bad.stderr, /nothing from this file was stored/);
    store = await SqliteStore.open(db);
    assert.equal(await store.countObservations({ status: 'any' }), 20);
    await store.close();

    const skipped = await runImport(db, ['--skip-bad', broken]);
    assert.equal(skipped.code, undefined, skipped.stderr);
    assert.match(skipped.stderr, /3 observation\(s\) stored, 1 bad record\(s\) skipped/);
    store = await SqliteStore.open(db);
    assert.equal(await store.countObservations({ status: 'any' }), 23);
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
