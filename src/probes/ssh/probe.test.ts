// Stage: probes, SSH. The probe against the testbed's dropbear (fingerprints compared with what OpenSSH's own
// ssh-keyscan and ssh-keygen report), against the ssh2 library's server on loopback, and against loopback servers
// that are not SSH or misbehave.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import type { SshData } from '../../core/fields.ts';
import { parseScopeYaml } from '../../core/scope.ts';
import { dialTcp } from '../../scan/conn.ts';
import { runProbe } from '../../scan/run-probe.ts';
import { LAB_SCOPE_YAML, ensureTestbed, require_ } from '../../../test/testbed.ts';
import { createSshProbe, sshProbe } from './probe.ts';

const scope = parseScopeYaml(LAB_SCOPE_YAML, 'test scope', parseYaml);
const limits = { timeoutMs: 2000, connectTimeoutMs: 2000 };
const ROUTER = { ip: '10.213.0.20', port: 22, transport: 'tcp' as const };

/** OpenSSH's view of the testbed host keys: type → fingerprint and bits, or null when ssh-keyscan is missing. */
function keyscan(ip: string, port: number): Map<string, { sha256: string; bits: number }> | null {
  const scan = spawnSync('ssh-keyscan', ['-p', String(port), '-t', 'rsa,ed25519,ecdsa', ip], { encoding: 'utf8', timeout: 10_000 });
  if (scan.error || !scan.stdout) return null;
  const lines = spawnSync('ssh-keygen', ['-lf', '-'], { input: scan.stdout, encoding: 'utf8' }).stdout.trim().split('\n');
  const out = new Map<string, { sha256: string; bits: number }>();
  for (const l of lines) {
    const m = /^(\d+) (SHA256:\S+) .*\((\w+)\)$/.exec(l);
    if (m) out.set(m[3]!, { sha256: m[2]!, bits: Number(m[1]) });
  }
  return out;
}

describe('ssh probe against the testbed dropbear', () => {
  let truth: ReturnType<typeof keyscan> = null;
  before(() => {
    if (process.getuid?.() === 0) {
      ensureTestbed();
      truth = keyscan(ROUTER.ip, ROUTER.port);
    }
  });

  it('records ident, algorithm lists and the ed25519 host key as ssh-keygen shows it', async (t) => {
    if (!require_(t, 'testbed')) return;
    if (!truth) throw new Error('ssh-keyscan (openssh-client) is needed to know the true fingerprint');
    const r = await runProbe(sshProbe, ROUTER, { scope, limits });
    assert.equal(r.status, 'success', r.error);
    assert.equal(r.error, undefined);
    const d = r.data as SshData;
    assert.equal(d.ident, 'SSH-2.0-dropbear_2022.83');
    assert.equal(d.protoVersion, '2.0');
    assert.equal(d.software, 'dropbear_2022.83');
    assert.equal(d.comment, undefined);
    assert.ok(d.kex!.kexAlgorithms.includes('curve25519-sha256'));
    assert.ok(d.kex!.kexAlgorithms.includes('kex-strict-s-v00@openssh.com'));
    assert.deepEqual(d.kex!.hostKeyAlgorithms, ['ssh-ed25519', 'rsa-sha2-256', 'ssh-rsa']);
    assert.ok(d.kex!.ciphersClientToServer.includes('aes128-ctr'));
    assert.ok(d.kex!.macsServerToClient.includes('hmac-sha2-256'));
    assert.ok(d.kex!.compression.includes('none'));
    assert.deepEqual(d.hostKey, { type: 'ssh-ed25519', sha256: truth.get('ED25519')!.sha256, bits: 256 });
    assert.equal(Buffer.from(r.raw!).toString(), 'SSH-2.0-dropbear_2022.83\r\n');
  });

  it('gets the same key through every key-exchange family dropbear offers', async (t) => {
    if (!require_(t, 'testbed')) return;
    if (!truth) throw new Error('ssh-keyscan (openssh-client) is needed');
    for (const kex of ['curve25519-sha256@libssh.org', 'ecdh-sha2-nistp256', 'ecdh-sha2-nistp384', 'ecdh-sha2-nistp521', 'diffie-hellman-group14-sha256', 'diffie-hellman-group14-sha1']) {
      const r = await runProbe(createSshProbe({ kexAlgorithms: [kex] }), ROUTER, { scope, limits });
      assert.equal(r.status, 'success', `${kex}: ${r.error}`);
      assert.equal(r.error, undefined, kex);
      assert.equal((r.data as SshData).hostKey?.sha256, truth.get('ED25519')!.sha256, kex);
    }
  });

  it('gets the RSA key with its size when only RSA is offered', async (t) => {
    if (!require_(t, 'testbed')) return;
    if (!truth) throw new Error('ssh-keyscan (openssh-client) is needed');
    const r = await runProbe(createSshProbe({ hostKeyAlgorithms: ['rsa-sha2-256'] }), ROUTER, { scope, limits });
    assert.equal(r.status, 'success', r.error);
    assert.deepEqual((r.data as SshData).hostKey, { type: 'ssh-rsa', sha256: truth.get('RSA')!.sha256, bits: truth.get('RSA')!.bits });
  });

  it('reads the ident and KEXINIT the engine had already buffered', async (t) => {
    if (!require_(t, 'testbed')) return;
    const conn = await dialTcp(ROUTER.ip, ROUTER.port, { timeoutMs: 2000, maxBytes: 65536 });
    await conn.readUntil((b) => b.length > 100, 2000);
    const r = await runProbe(sshProbe, ROUTER, { scope, limits, preopened: conn });
    assert.equal(r.status, 'success', r.error);
    assert.equal((r.data as SshData).hostKey?.type, 'ssh-ed25519');
    assert.ok(sshProbe.recognizes!(Buffer.from(r.raw!)));
  });
});

interface Ssh2Module {
  Server: new (cfg: { hostKeys: string[]; ident?: string; banner?: string }, onClient: (c: { on(ev: string, f: (...a: unknown[]) => void): void }) => void) => net.Server;
  utils: { generateKeyPairSync(type: string, opts?: { bits?: number }): { private: string; public: string } };
}
const ssh2 = createRequire(import.meta.url)('ssh2') as Ssh2Module;

describe('ssh probe against loopback servers', () => {
  const servers: net.Server[] = [];
  const ports: Record<string, number> = {};
  const listen = (name: string, srv: net.Server) =>
    new Promise<void>((resolve) => {
      srv.listen(0, '127.0.0.1', () => {
        ports[name] = (srv.address() as net.AddressInfo).port;
        resolve();
      });
      servers.push(srv);
    });
  const raw = (name: string, onConn: (s: net.Socket) => void) =>
    listen(
      name,
      net.createServer((s) => {
        s.on('error', () => {});
        onConn(s);
      }),
    );
  const ecdsa = ssh2.utils.generateKeyPairSync('ecdsa', { bits: 384 });

  before(async () => {
    await listen('ssh2', new ssh2.Server({ hostKeys: [ecdsa.private], ident: 'TestSSHd_1.0' }, (c) => c.on('error', () => {})));
    await raw('http', (s) => s.once('data', () => s.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n')));
    await raw('http-first', (s) => s.end('HTTP/1.0 200 OK\r\nServer: x\r\n\r\n<html>'));
    await raw('ssh1', (s) => s.write('SSH-1.5-Cisco-1.25\n'));
    await raw('hangup', (s) => s.end('SSH-2.0-OpenSSH_7.4\r\n'));
    await raw('tarpit', (s) => {
      const timer = setInterval(() => (s.destroyed ? clearInterval(timer) : s.write(`${Math.random().toString(36)}\r\n`)), 20);
      s.on('close', () => clearInterval(timer));
    });
    await raw('garbage-packet', (s) => s.write(Buffer.concat([Buffer.from('SSH-2.0-Broken\r\n'), Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 1, 2])])));
  });
  after(() => {
    for (const s of servers) s.close();
  });
  const target = (name: string) => ({ ip: '127.0.0.1', port: ports[name]!, transport: 'tcp' as const });

  it('reads the ECDSA key of the ssh2 server, through curve25519 and through DH group 16', async () => {
    const blob = Buffer.from(ecdsa.public.split(' ')[1]!, 'base64');
    const want = `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
    for (const probe of [sshProbe, createSshProbe({ kexAlgorithms: ['diffie-hellman-group16-sha512'] })]) {
      const r = await runProbe(probe, target('ssh2'), { scope, limits });
      assert.equal(r.status, 'success', r.error);
      assert.equal(r.error, undefined);
      const d = r.data as SshData;
      assert.equal(d.software, 'TestSSHd_1.0');
      assert.deepEqual(d.hostKey, { type: 'ecdsa-sha2-nistp384', sha256: want, bits: 384 });
    }
  });

  it('returns protocol-error quickly with the raw bytes when the service is HTTP', async () => {
    for (const name of ['http-first', 'http']) {
      const started = Date.now();
      const r = await runProbe(sshProbe, target(name), { scope, limits });
      if (name === 'http') {
        // a client-first service says nothing: the probe times out waiting for an identification
        assert.equal(r.status, 'io-timeout');
        continue;
      }
      assert.equal(r.status, 'protocol-error', r.error);
      assert.match(Buffer.from(r.raw!).toString(), /^HTTP\/1\.0 200 OK/);
      assert.ok(Date.now() - started < 1000);
    }
  });

  it('records an SSH-1 server by its identification alone', async () => {
    const r = await runProbe(sshProbe, target('ssh1'), { scope, limits });
    assert.equal(r.status, 'success');
    assert.deepEqual(r.data, { ident: 'SSH-1.5-Cisco-1.25', protoVersion: '1.5', software: 'Cisco-1.25' });
  });

  it('keeps the identification when the server hangs up or sends a broken packet', async () => {
    for (const name of ['hangup', 'garbage-packet']) {
      const r = await runProbe(sshProbe, target(name), { scope, limits });
      assert.equal(r.status, 'success', name);
      const d = r.data as SshData;
      assert.ok(d.ident?.startsWith('SSH-2.0-'));
      assert.equal(d.hostKey, undefined);
      assert.ok(r.error, `${name} should explain the missing key`);
    }
  });

  it('gives up on an endless pre-identification tarpit within the deadline', async () => {
    const started = Date.now();
    const r = await runProbe(sshProbe, target('tarpit'), { scope, limits });
    assert.equal(r.status, 'protocol-error');
    assert.ok(Date.now() - started < 3 * limits.timeoutMs);
  });
});
