// Scope safety, end to end: a scan whose targets reach outside the scope refuses those addresses before a packet
// leaves, proven by a packet capture inside a network namespace this test creates for itself.
// Needs root (ip netns, tcpdump); skips locally without it, fails under CI.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { require_ } from './testbed.ts';
import { runCli } from './cli.ts';

const NS = 'iotscope-scopetest';
const HOST_IF = 'iotsc-h';
const NS_IF = 'iotsc-n';
// Addresses live only on this test's veth pair: the root side .1, the namespace side .2 (in scope) and .3 (not).
const NET = '10.250.77';
const dir = mkdtempSync(join(tmpdir(), 'iotscope-scope-'));

function sh(cmd: string, args: string[]) {
  execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
}
function teardown() {
  spawnSync('ip', ['netns', 'del', NS]);
  spawnSync('ip', ['link', 'del', HOST_IF]);
}

describe('scope enforcement on the wire', () => {
  let ready = false;
  before(() => {
    if (process.getuid?.() !== 0) return;
    teardown();
    sh('ip', ['netns', 'add', NS]);
    sh('ip', ['link', 'add', HOST_IF, 'type', 'veth', 'peer', 'name', NS_IF]);
    sh('ip', ['link', 'set', NS_IF, 'netns', NS]);
    sh('ip', ['addr', 'add', `${NET}.1/29`, 'dev', HOST_IF]);
    sh('ip', ['link', 'set', HOST_IF, 'up']);
    sh('ip', ['-n', NS, 'addr', 'add', `${NET}.2/29`, 'dev', NS_IF]);
    sh('ip', ['-n', NS, 'addr', 'add', `${NET}.3/29`, 'dev', NS_IF]);
    sh('ip', ['-n', NS, 'link', 'set', NS_IF, 'up']);
    sh('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
    ready = true;
  });
  after(() => {
    if (ready) teardown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses the out-of-scope address and sends it nothing', async (t) => {
    if (!require_(t, 'root')) return;
    const pcapText = join(dir, 'capture.txt');
    // tcpdump inside the namespace sees every frame that reaches it; -l line-buffers the text output.
    const dump = spawn('ip', ['netns', 'exec', NS, 'tcpdump', '-i', NS_IF, '-n', '-l', '-U', 'ip'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let captured = '';
    dump.stdout.on('data', (d) => (captured += d));
    let dumpErr = '';
    dump.stderr.on('data', (d) => (dumpErr += d));
    // wait until tcpdump is listening
    for (let i = 0; i < 50 && !/listening on/.test(dumpErr); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(dumpErr, /listening on/, `tcpdump did not start: ${dumpErr}`);

    const scope = join(dir, 'scope.yaml');
    writeFileSync(scope, `allow: [${NET}.2]\noperator: scope test\n`);
    const r = await runCli(['scan', `${NET}.2`, `${NET}.3`, `${NET}.0/29`, '--scope', scope, '--ports', 'T:22,23,80,U:161', '--db', join(dir, 'a.db'), '--no-progress', '--timeout', '500', '--connect-timeout', '500']);
    await new Promise((r) => setTimeout(r, 500));
    dump.kill('SIGINT');
    await new Promise((r) => dump.once('exit', r));

    assert.equal(r.code, 0, r.stderr);
    // .3 is named alone or as the start of the refused remainder of the /29
    assert.match(r.stderr, new RegExp(`refused: ${NET.replace(/\./g, '\\.')}\\.3(-\\S+)? is outside the scope`));
    const lines = captured.split('\n').filter(Boolean);
    const toAllowed = lines.filter((l) => l.includes(`> ${NET}.2.`));
    const toRefused = lines.filter((l) => l.includes(`> ${NET}.3`) || l.includes(`> ${NET}.4`) || l.includes(`> ${NET}.0`));
    // The capture works (the allowed address got our SYNs and UDP request) …
    assert.ok(toAllowed.length >= 3, `capture saw only ${toAllowed.length} packets to the allowed host:\n${captured}`);
    // … and nothing at all went to the refused ones.
    assert.deepEqual(toRefused, []);
  });

  it('a scan with no target inside the scope fails with a clear message and sends nothing', async (t) => {
    if (!require_(t, 'root')) return;
    const scope = join(dir, 'scope2.yaml');
    writeFileSync(scope, `allow: [${NET}.2]\n`);
    const r = await runCli(['scan', `${NET}.3`, '--scope', scope, '--db', join(dir, 'b.db'), '--no-progress']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /nothing left to scan/);
  });
});
