// Stage: storage. The SQLite store against the shared conformance suite, plus what is SQLite's own: the file,
// WAL and migrations.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runStoreConformance } from '../conformance.ts';
import { MIGRATIONS } from './migrations.ts';
import { SqliteStore } from './store.ts';

const dir = mkdtempSync(join(tmpdir(), 'iotscope-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

runStoreConformance('sqlite', async () => SqliteStore.open(join(dir, `t${n++}.db`)));

describe('SqliteStore', () => {
  it('reopens a file with its data, in WAL mode, without re-running migrations', async () => {
    const file = join(dir, 'reopen.db');
    const a = SqliteStore.open(file);
    await a.createRun({ id: 'x', kind: 'scan', status: 'running', startedAt: 'now', spec: {}, progress: null });
    assert.equal(a.handle.pragma('journal_mode', { simple: true }), 'wal');
    await a.close();
    const b = SqliteStore.open(file);
    assert.equal((await b.getRun('x'))?.id, 'x');
    assert.equal((b.handle.prepare('SELECT count(*) n FROM schema_migrations').get() as { n: number }).n, MIGRATIONS.length);
    await b.close();
  });

  it('refuses a file from a newer schema', async () => {
    const file = join(dir, 'newer.db');
    const a = SqliteStore.open(file);
    a.handle.prepare('INSERT INTO schema_migrations VALUES (99, ?)').run('later');
    await a.close();
    assert.throws(() => SqliteStore.open(file), /newer iotscope/);
  });
});
