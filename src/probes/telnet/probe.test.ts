// Stage: probes, telnet. The probe against the testbed's BusyBox telnetd and against in-process loopback servers
// that show the awkward cases: a prompt only after Enter, an open shell, a foreign protocol, an endless negotiator.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import type { TelnetData } from '../../core/fields.ts';
import { parseScopeYaml } from '../../core/scope.ts';
import { dialTcp } from '../../scan/conn.ts';
import { runProbe } from '../../scan/run-probe.ts';
import { LAB_SCOPE_YAML, ensureTestbed, require_ } from '../../../test/testbed.ts';
import { DO, IAC, OPT_ECHO, OPT_NAWS, OPT_SGA, WILL, WONT } from './codec.ts';
import { telnetProbe } from './probe.ts';

const scope = parseScopeYaml(LAB_SCOPE_YAML, 'test scope', parseYaml);
const limits = { timeoutMs: 1500, connectTimeoutMs: 1500 };

describe('telnet probe against the testbed', () => {
  for (const [ip, name] of [
    ['10.213.0.10', 'ipcam'],
    ['10.213.0.20', 'OpenWrt'],
  ] as const) {
    it(`${ip}:23 BusyBox telnetd shows the "${name} login:" prompt`, async (t) => {
      if (!require_(t, 'testbed')) return;
      const targets = ensureTestbed();
      assert.ok(targets.some((x) => x.ip === ip && x.port === 23 && x.service === 'telnet'));
      const r = await runProbe(telnetProbe, { ip, port: 23, transport: 'tcp' }, { scope, limits });
      assert.equal(r.status, 'success', r.error);
      assert.equal(r.protocol, 'telnet');
      const d = r.data as TelnetData;
      assert.match(d.banner!, new RegExp(`${name} login: $`));
      assert.equal(d.loginPrompt, true);
      assert.equal(d.passwordPrompt, false);
      assert.equal(d.shellPrompt, false);
      // BusyBox asks DO ECHO, DO NAWS and offers WILL ECHO, WILL SGA
      assert.deepEqual(d.options!.do, [OPT_ECHO, OPT_NAWS]);
      assert.deepEqual(d.options!.will, [OPT_ECHO, OPT_SGA]);
      assert.equal(r.raw![0], IAC);
      assert.ok(telnetProbe.recognizes!(Buffer.from(r.raw!)));
    });
  }

  it('uses the bytes the engine already read on a pre-opened connection', async (t) => {
    if (!require_(t, 'testbed')) return;
    ensureTestbed();
    const conn = await dialTcp('10.213.0.20', 23, { timeoutMs: 1500, maxBytes: 65536 });
    await conn.readUntil((b) => b.length >= 12, 1500);
    const r = await runProbe(telnetProbe, { ip: '10.213.0.20', port: 23, transport: 'tcp' }, { scope, limits, preopened: conn });
    assert.equal(r.status, 'success', r.error);
    assert.equal((r.data as TelnetData).loginPrompt, true);
    assert.deepEqual((r.data as TelnetData).options!.do, [OPT_ECHO, OPT_NAWS]);
  });
});

describe('telnet probe against loopback fixtures', () => {
  const received = new Map<number, Buffer>();
  const servers: net.Server[] = [];
  const ports: Record<string, number> = {};

  const serve = (name: string, onConn: (s: net.Socket, got: () => Buffer) => void) =>
    new Promise<void>((resolve) => {
      const srv = net.createServer((s) => {
        const port = (srv.address() as net.AddressInfo).port;
        received.set(port, Buffer.alloc(0));
        s.on('data', (d) => received.set(port, Buffer.concat([received.get(port)!, d])));
        s.on('error', () => {});
        onConn(s, () => received.get(port)!);
      });
      srv.listen(0, '127.0.0.1', () => {
        ports[name] = (srv.address() as net.AddressInfo).port;
        resolve();
      });
      servers.push(srv);
    });

  before(async () => {
    // A router that says nothing until the user presses Enter.
    await serve('enter', (s) => {
      s.write(Buffer.from([IAC, WILL, OPT_ECHO]));
      s.on('data', (d) => {
        if (d.includes('\r\n')) s.write('\r\nUser Access Verification\r\n\r\nUsername: ');
      });
    });
    // A device with a root shell and no authentication at all.
    await serve('shell', (s) => s.write(Buffer.concat([Buffer.from([IAC, WILL, OPT_SGA]), Buffer.from('\r\n\r\nBusyBox v1.19.4 built-in shell (ash)\r\n\r\n# ')])));
    // An SSH server on a telnet port.
    await serve('ssh', (s) => s.write('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n'));
    // A line service that says hello and nothing more.
    await serve('chatter', (s) => s.write('Hello there\r\n'));
    // A broken device that keeps flipping options forever.
    await serve('flood', (s) => {
      let n = 0;
      const timer = setInterval(() => {
        if (s.destroyed) return clearInterval(timer);
        s.write(Buffer.from([IAC, n % 2 ? DO : WONT, n % 256, IAC, WILL, (n + 7) % 256]));
        n++;
      }, 5);
      s.on('close', () => clearInterval(timer));
    });
  });
  after(() => {
    for (const s of servers) s.close();
  });

  const target = (name: string) => ({ ip: '127.0.0.1', port: ports[name]!, transport: 'tcp' as const });

  it('presses Enter once when no prompt comes, and sends nothing else but option answers', async () => {
    const r = await runProbe(telnetProbe, target('enter'), { scope, limits });
    assert.equal(r.status, 'success', r.error);
    const d = r.data as TelnetData;
    assert.equal(d.loginPrompt, true);
    assert.match(d.banner!, /Username: $/);
    const sent = received.get(ports.enter!)!;
    assert.deepEqual([...sent], [IAC, DO, OPT_ECHO, 0x0d, 0x0a]);
  });

  it('reports a shell prompt that needs no login', async () => {
    const r = await runProbe(telnetProbe, target('shell'), { scope, limits });
    assert.equal(r.status, 'success', r.error);
    const d = r.data as TelnetData;
    assert.equal(d.shellPrompt, true);
    assert.equal(d.loginPrompt, false);
    assert.deepEqual(d.options!.will, [OPT_SGA]);
  });

  it('returns protocol-error with the raw bytes for a foreign greeting', async () => {
    const started = Date.now();
    const r = await runProbe(telnetProbe, target('ssh'), { scope, limits });
    assert.equal(r.status, 'protocol-error');
    assert.equal(Buffer.from(r.raw!).toString(), 'SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n');
    assert.deepEqual(r.data, {});
    assert.ok(Date.now() - started < 500, 'a foreign greeting is handed back at once');
    assert.deepEqual([...received.get(ports.ssh!)!], [], 'nothing is typed at a foreign service');
  });

  it('waits only briefly on plain text that never reaches a prompt, and types nothing', async () => {
    const started = Date.now();
    const r = await runProbe(telnetProbe, target('chatter'), { scope, limits });
    assert.equal(r.status, 'protocol-error');
    assert.equal(Buffer.from(r.raw!).toString(), 'Hello there\r\n');
    assert.ok(Date.now() - started < limits.timeoutMs);
    assert.deepEqual([...received.get(ports.chatter!)!], []);
  });

  it('stops within its time budget against an endless negotiator', async () => {
    const started = Date.now();
    const r = await runProbe(telnetProbe, target('flood'), { scope, limits });
    const took = Date.now() - started;
    assert.ok(took < 3 * limits.timeoutMs + 200, `took ${took} ms`);
    assert.equal(r.status, 'success', r.error);
    // each option is answered at most once per state change, so the answers stay few
    const sent = received.get(ports.flood!)!;
    assert.ok(sent.length <= 2 * 256 * 3 + 2, `sent ${sent.length} bytes`);
  });
});
