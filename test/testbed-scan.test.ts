// End to end over real daemons: `iotscope scan` against the testbed (../shared/testbed, Debian daemons in network
// namespaces) must find every service it lists, name its protocol from what it answers (also on unusual ports),
// and survive being killed part-way: `--resume` completes the run without losing or repeating anything.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SqliteStore } from '../src/store/sqlite/store.ts';
import { BIN, runCli } from './cli.ts';
import { type TestbedTarget, ensureTestbed, require_ } from './testbed.ts';

/** testbed service name → the protocol iotscope must call it */
const EXPECTED: Record<string, string> = {
  telnet: 'telnet',
  http: 'http',
  'upnp-http': 'http',
  rtsp: 'rtsp',
  ssdp: 'ssdp',
  ssh: 'ssh',
  ftp: 'ftp',
  snmp: 'snmp',
  mqtt: 'mqtt',
  mqtts: 'mqtts',
  coap: 'coap',
  'coap+tcp': 'coap-tcp',
  modbus: 'modbus',
};

const dir = mkdtempSync(join(tmpdir(), 'iotscope-testbed-'));
const scopeFile = join(dir, 'scope.yaml');
writeFileSync(scopeFile, 'allow: [10.213.0.0/24, 127.0.0.0/8]\noperator: iotscope test suite <tests@iotscope.invalid>\n');

// Unusual ports: real lab daemons re-exposed on loopback through a plain TCP relay, so recognition cannot lean on
// the port number.
const RELAYS: { port: number; to: [string, number]; protocol: string }[] = [
  { port: 2323, to: ['10.213.0.10', 23], protocol: 'telnet' },
  { port: 18080, to: ['10.213.0.20', 80], protocol: 'http' },
  { port: 10022, to: ['10.213.0.20', 22], protocol: 'ssh' },
  { port: 11884, to: ['10.213.0.30', 1883], protocol: 'mqtt' },
  { port: 15554, to: ['10.213.0.10', 8554], protocol: 'rtsp' },
];
const relays: net.Server[] = [];
const relaySockets = new Set<net.Socket>();

function relay(port: number, to: [string, number]): Promise<void> {
  return new Promise((resolve) => {
    const srv = net.createServer((c) => {
      const up = net.connect(to[1], to[0]);
      for (const s of [c, up]) {
        relaySockets.add(s);
        s.on('error', () => {});
        s.on('close', () => relaySockets.delete(s));
      }
      c.pipe(up).pipe(c);
      c.on('close', () => up.destroy());
      up.on('close', () => c.destroy());
    });
    srv.listen(port, '127.0.0.1', () => resolve());
    relays.push(srv);
  });
}

describe('scanning the real-daemon testbed', () => {
  let targets: TestbedTarget[] = [];
  before(async () => {
    if (process.getuid?.() !== 0) return;
    targets = ensureTestbed().filter((t) => EXPECTED[t.service]);
    for (const r of RELAYS) await relay(r.port, r.to);
  });
  after(() => {
    for (const s of relaySockets) s.destroy();
    for (const r of relays) r.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds every listed service and names its protocol, on usual and unusual ports', async (t) => {
    if (!require_(t, 'testbed')) return;
    const tcp = [...new Set([...targets.filter((x) => x.proto === 'tcp').map((x) => x.port), 9, 7777])].sort((a, b) => a - b);
    const udp = [...new Set([...targets.filter((x) => x.proto === 'udp').map((x) => x.port), 9])];
    const db = join(dir, 'full.db');
    const r = await runCli(['scan', '10.213.0.10', '10.213.0.20', '10.213.0.30', '--scope', scopeFile, '--ports', `T:${tcp.join(',')},U:${udp.join(',')}`, '--db', db, '--json', '--no-progress']);
    assert.equal(r.code, 0, r.stderr);
    const r2 = await runCli(['scan', '127.0.0.1', '--scope', scopeFile, '--ports', `T:${RELAYS.map((x) => x.port).join(',')}`, '--db', db, '--no-progress']);
    assert.equal(r2.code, 0, r2.stderr);

    const store = SqliteStore.open(db);
    try {
      const services = await store.services();
      const missing: string[] = [];
      for (const target of targets) {
        // minidlna answers SSDP only to multicast M-SEARCH, which a unicast scan does not send.
        if (target.service === 'ssdp' && target.auth.includes('multicast M-SEARCH only')) continue;
        const s = services.find((x) => x.ip === target.ip && x.port === target.port && x.transport === target.proto);
        if (!s || s.protocol !== EXPECTED[target.service]) missing.push(`${target.ip} ${target.proto}/${target.port} ${target.service}: got ${s ? s.protocol : 'nothing'}`);
      }
      for (const rl of RELAYS) {
        const s = services.find((x) => x.ip === '127.0.0.1' && x.port === rl.port);
        if (s?.protocol !== rl.protocol) missing.push(`127.0.0.1:${rl.port} (${rl.protocol} on an unusual port): got ${s?.protocol ?? 'nothing'}`);
      }
      assert.deepEqual(missing, []);

      // Facts recorded, checked against what targets.tsv says the daemons are.
      const at = (ip: string, port: number, transport = 'tcp') => services.find((x) => x.ip === ip && x.port === port && x.transport === transport)!.data as Record<string, any>;
      assert.equal(at('10.213.0.10', 80).realm, 'Network Camera');
      assert.match(at('10.213.0.20', 22).ident, /^SSH-2\.0-dropbear_2022\.83/);
      assert.match(at('10.213.0.20', 22).hostKey.sha256, /^SHA256:[A-Za-z0-9+/]{43}$/);
      assert.match(at('10.213.0.20', 21).banner, /vsFTPd 3\.0\.3/);
      assert.equal(at('10.213.0.10', 554).authRequired, true);
      assert.equal(at('10.213.0.10', 8554).authRequired, false);
      assert.equal(at('10.213.0.30', 1883).anonymous, true);
      assert.equal(at('10.213.0.30', 1884).anonymous, false);
      assert.equal(at('10.213.0.30', 8883).tls.certificate.subject.CN, 'hub.lan');
      assert.equal(at('10.213.0.30', 8883).tls.certificate.selfSigned, true);
      assert.equal(at('10.213.0.20', 161, 'udp').community, 'public');
      assert.match(at('10.213.0.20', 161, 'udp').sysDescr, /\S/);
      assert.match(at('10.213.0.10', 1900, 'udp').server, /IPCAM\/1\.0/);
      assert.ok((at('10.213.0.30', 5683, 'udp').resources as unknown[]).length > 0);
      assert.match(String(at('10.213.0.30', 502).vendorName), /iotlab/);

      // Closed ports leave no observation; every JSON line printed is a stored observation.
      assert.equal(services.filter((s) => s.port === 9 || s.port === 7777).length, 0);
      const printed = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { ip: string; port: number });
      assert.equal(printed.length, await store.countObservations({ network: '10.213.0.0/24', status: 'any' }));
    } finally {
      await store.close();
    }
  });

  it('a scan killed part-way keeps what it found and --resume completes it', async (t) => {
    if (!require_(t, 'testbed')) return;
    const db = join(dir, 'killed.db');
    const ports = 'T:21,22,23,80,502,554,1883,1884,5000,8200,8554,8883,49152,1-20,U:161,1900,5683';
    const argsFor = (file: string) => ['scan', '10.213.0.10', '10.213.0.20', '10.213.0.30', '--scope', scopeFile, '--ports', ports, '--db', file, '--no-progress', '--seed', '7'];
    const args = argsFor(db);
    // A reference run, uninterrupted.
    const refDb = join(dir, 'reference.db');
    const ref = await runCli(argsFor(refDb));
    assert.equal(ref.code, 0, ref.stderr);

    // The same scan, slowed down and killed with SIGKILL once something is stored.
    const child = spawn(process.execPath, [BIN, ...args, '--rate', '4', '--concurrency', '2'], { stdio: 'ignore' });
    let storedBeforeKill = 0;
    for (let i = 0; i < 300 && storedBeforeKill < 3; i++) {
      await new Promise((r) => setTimeout(r, 200));
      try {
        const s = SqliteStore.open(db);
        storedBeforeKill = await s.countObservations({ status: 'any' });
        await s.close();
      } catch {
        /* not created yet */
      }
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    assert.ok(storedBeforeKill >= 3, 'the slowed scan stored something before it was killed');

    const s1 = SqliteStore.open(db);
    const [run] = await s1.listRuns({ kind: 'scan' });
    assert.equal(run?.status, 'running', 'a killed run is left unfinished');
    const kept = await s1.countObservations({ status: 'any' });
    assert.ok(kept >= storedBeforeKill, 'nothing stored before the kill was lost');
    assert.ok(run!.progress!.watermark < run!.progress!.total);
    await s1.close();

    const resumed = await runCli(['scan', '--resume', '--db', db, '--no-progress']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, /resuming scan/);

    const key = (o: { ip: string; port: number; transport: string }) => `${o.ip} ${o.transport}/${o.port}`;
    const s2 = SqliteStore.open(db);
    const sr = SqliteStore.open(refDb);
    try {
      const after = await s2.observations({ status: 'any' });
      const reference = await sr.observations({ status: 'any' });
      assert.deepEqual(after.map(key).sort(), reference.map(key).sort(), 'killed + resumed finds what one uninterrupted run finds');
      assert.equal(new Set(after.map(key)).size, after.length, 'no service recorded twice');
      assert.equal((await s2.getRun(run!.id))?.status, 'done');
    } finally {
      await s2.close();
      await sr.close();
    }
  });
});
