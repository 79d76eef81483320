// Stage: probes (banner). The generic banner grab against loopback services that greet, answer a blank line, stay
// silent or hang up, and against real testbed daemons.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import type { BannerData } from '../../core/fields.ts';
import { parseScopeYaml } from '../../core/scope.ts';
import { dialTcp } from '../../scan/conn.ts';
import type { ProbeResult } from '../../scan/probe.ts';
import { runProbe } from '../../scan/run-probe.ts';
import { LAB_SCOPE_YAML, ensureTestbed, require_ } from '../../../test/testbed.ts';
import { bannerData, bannerProbe } from './probe.ts';

const scope = parseScopeYaml(LAB_SCOPE_YAML, 'test', parseYaml);
const closers: (() => void)[] = [];
after(() => {
  for (const c of closers) c();
});

async function service(onConn: (s: net.Socket) => void) {
  const received: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    sockets.add(s);
    s.on('data', (d) => received.push(d));
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    onConn(s);
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  closers.push(() => {
    for (const s of sockets) s.destroy();
    srv.close();
  });
  return { port: (srv.address() as net.AddressInfo).port, received };
}

const grab = (port: number, timeoutMs = 600, ip = '127.0.0.1'): Promise<ProbeResult> =>
  runProbe(bannerProbe, { ip, port, transport: 'tcp' }, { scope, limits: { timeoutMs, connectTimeoutMs: 1000 } });

describe('banner probe', () => {
  it('records what a service sends first, as printable text and hex, and names no protocol', async () => {
    const srv = await service((s) => {
      s.write('220 printer ready\r\n');
      setTimeout(() => s.writable && s.write('second line\r\n'), 60);
    });
    const r = await grab(srv.port);
    assert.equal(r.status, 'success');
    assert.equal(r.protocol, 'unknown');
    const d = r.data as BannerData;
    assert.equal(d.banner, '220 printer ready\\r\\nsecond line\\r\\n');
    assert.equal(d.bannerHex, Buffer.from('220 printer ready\r\nsecond line\r\n').toString('hex'));
    assert.equal(Buffer.from(r.raw!).toString(), '220 printer ready\r\nsecond line\r\n');
    assert.equal(Buffer.concat(srv.received).length, 0, 'a greeting service gets no nudge');
  });

  it('sends a blank line to a silent service and records the answer', async () => {
    const srv = await service((s) => s.on('data', () => s.writable && s.write('ERR unknown command\n')));
    const r = await grab(srv.port);
    assert.equal(r.status, 'success');
    assert.equal((r.data as BannerData).banner, 'ERR unknown command\\n');
    assert.equal(Buffer.concat(srv.received).toString(), '\r\n\r\n');
  });

  it('uses the bytes the engine already read on the connection it hands over', async () => {
    const srv = await service((s) => s.write(Buffer.from([0x00, 0x01, 0x1b, 0x5b, 0x33, 0x31, 0x6d, 0x41])));
    const conn = await dialTcp('127.0.0.1', srv.port, { timeoutMs: 1000, maxBytes: 65536 });
    await conn.readUntil((b) => b.length >= 8, 1000);
    const r = await runProbe(bannerProbe, { ip: '127.0.0.1', port: srv.port, transport: 'tcp' }, { scope, preopened: conn, limits: { timeoutMs: 600 } });
    assert.equal(r.status, 'success');
    const d = r.data as BannerData;
    // terminal escapes and control bytes become visible escapes, never raw
    assert.equal(d.banner, '\\x00\\x01\\x1b[31mA');
    assert.equal(d.bannerHex, '00011b5b33316d41');
  });

  it('caps the hex at 256 bytes and the raw evidence at 2 KiB', async () => {
    const big = Buffer.alloc(10_000, 0x61);
    const srv = await service((s) => s.write(big));
    const r = await grab(srv.port);
    const d = r.data as BannerData;
    assert.equal(d.bannerHex!.length, 512);
    assert.equal(r.raw!.length, 2048);
    assert.ok(d.banner!.length <= 1025);
  });

  it('a service that stays silent even after the nudge ends as io-timeout within the time', async () => {
    const srv = await service(() => {});
    const t0 = Date.now();
    const r = await grab(srv.port, 400);
    assert.equal(r.status, 'io-timeout');
    assert.ok(Date.now() - t0 < 1100, `took ${Date.now() - t0} ms`);
    assert.equal(Buffer.concat(srv.received).toString(), '\r\n\r\n');
  });

  it('a service that hangs up without a word ends as connection-closed', async () => {
    const srv = await service((s) => s.end());
    const r = await grab(srv.port);
    assert.equal(r.status, 'connection-closed');
  });

  it('bannerData keeps valid UTF-8 and falls back to bytes for the rest', () => {
    assert.equal(bannerData(Buffer.from('Grüße\n')).banner, 'Grüße\\n');
    assert.equal(bannerData(Buffer.from([0xe9, 0x41])).banner, 'éA');
  });

  it('grabs the greeting of real daemons on the testbed', async (t) => {
    if (!require_(t, 'testbed')) return;
    ensureTestbed();
    const ftp = await grab(21, 2000, '10.213.0.20');
    assert.equal(ftp.status, 'success', ftp.error);
    assert.match((ftp.data as BannerData).banner!, /^220 \(vsFTPd 3\.0\.3\)\\r\\n/);
    const ssh = await grab(22, 2000, '10.213.0.20');
    assert.match((ssh.data as BannerData).banner!, /^SSH-2\.0-dropbear_2022\.83\\r\\n/);
    assert.match((ssh.data as BannerData).bannerHex!, /^5353482d322e302d/);
  });
});
