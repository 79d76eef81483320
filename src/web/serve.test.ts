// Test of `iotscope serve` as a process: the first start prints a one-time setup link, which creates the
// administrator; a restart with an administrator prints none, and the old link stays dead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../cli/main.ts', import.meta.url));

async function start(db: string): Promise<{ child: ChildProcess; lines: string[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'serve', '--db', db, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${lines.join('\n')}`)), 30_000);
    createInterface({ input: child.stdout! }).on('line', (l) => {
      lines.push(l);
      if (l.startsWith('iotscope dashboard on')) setTimeout(() => (clearTimeout(timer), resolve()), 300);
    });
    child.once('exit', (code) => (clearTimeout(timer), reject(new Error(`serve exited with ${code}`))));
  });
  return { child, lines };
}

async function stop(child: ChildProcess): Promise<void> {
  const done = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await done;
}

test('serve: the first start prints a one-time setup link; a restart with an admin prints none', { timeout: 90_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'iotscope-serve-'));
  const db = join(dir, 'store.db');
  try {
    const first = await start(db);
    const link = first.lines.map((l) => /(http:\/\/127\.0\.0\.1:\d+\/setup\?token=[A-Za-z0-9_-]+)/.exec(l)?.[1]).find(Boolean);
    assert.ok(link, `a setup link in: ${first.lines.join(' | ')}`);
    const base = new URL(link!).origin;
    assert.equal((await fetch(`${base}/api/overview`)).status, 401);
    assert.equal((await fetch(link!)).status, 200);
    const token = new URL(link!).searchParams.get('token')!;
    const body = new URLSearchParams({ token, name: 'admin', password: 'twelve chars or more', password2: 'twelve chars or more' });
    const made = await fetch(`${base}/setup`, { method: 'POST', body, redirect: 'manual' });
    assert.equal(made.status, 303);
    assert.equal((await fetch(`${base}/setup`, { method: 'POST', body, redirect: 'manual' })).status, 403, 'used once');
    await stop(first.child);

    const second = await start(db);
    assert.ok(!second.lines.some((l) => l.includes('/setup?token=')), 'no link once an admin exists');
    const base2 = /on (http:\/\/[^ ]+)/.exec(second.lines[0]!)![1]!;
    assert.equal((await fetch(`${base2}/setup?token=${token}`)).status, 403);
    await stop(second.child);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
