// Stage: probes, NAT-PMP / PCP. The probe against the testbed's MiniUPnPd 2.3.1 and against loopback gateways: a
// NAT-PMP one with a public address, a PCP-only one that ignores version 0, one that answers version 0 with
// "unsupported version", a silent port and one that answers something else. Every server records what it was
// sent, so the tests also prove that no mapping request ever goes out.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import type { NatPmpData } from '../../core/fields.ts';
import { parseScopeYaml } from '../../core/scope.ts';
import { runProbe } from '../../scan/run-probe.ts';
import { LAB_SCOPE_YAML, ensureTestbed, require_ } from '../../../test/testbed.ts';
import { natPmpProbe } from './probe.ts';

const scope = parseScopeYaml(LAB_SCOPE_YAML, 'test scope', parseYaml);
const limits = { timeoutMs: 1500, udpRetries: 1 };

describe('nat-pmp probe against the testbed MiniUPnPd', () => {
  it('10.213.0.20: NAT-PMP answers; its WAN address 10.213.1.20 is private, so NETWORK_FAILURE and no address', async (t) => {
    if (!require_(t, 'testbed')) return;
    ensureTestbed();
    const target = { ip: '10.213.0.20', port: 5351, transport: 'udp' as const };
    const r = await runProbe(natPmpProbe, target, { scope, limits });
    assert.equal(r.status, 'success', r.error);
    assert.equal(r.protocol, 'nat-pmp');
    const d = r.data as NatPmpData;
    assert.equal(d.version, 0);
    assert.equal(d.resultCode, 3);
    assert.equal(d.externalAddress, undefined);
    assert.ok(typeof d.epoch === 'number' && d.epoch > 0);
    // the epoch is the daemon's clock: a second later it has moved on by about a second
    await new Promise((res) => setTimeout(res, 1100));
    const again = (await runProbe(natPmpProbe, target, { scope, limits })).data as NatPmpData;
    assert.ok(again.epoch! - d.epoch! >= 1 && again.epoch! - d.epoch! <= 3, `${d.epoch} → ${again.epoch}`);
  });

  it('a host without a gateway is reported closed (ICMP port unreachable) well within the probe deadline', async (t) => {
    if (!require_(t, 'testbed')) return;
    ensureTestbed();
    const t0 = Date.now();
    const r = await runProbe(natPmpProbe, { ip: '10.213.0.30', port: 5351, transport: 'udp' }, { scope, limits: { timeoutMs: 600, udpRetries: 1 } });
    // the host answers the datagram with ICMP port unreachable: closed, without waiting out the retries
    assert.equal(r.status, 'connection-refused');
    assert.ok(Date.now() - t0 < 3 * 600 + 300, `${Date.now() - t0} ms`);
  });
});

describe('nat-pmp probe against loopback gateways', () => {
  const sockets: dgram.Socket[] = [];
  const ports: Record<string, number> = {};
  const received: Record<string, Buffer[]> = {};

  const gateway = (name: string, respond: (msg: Buffer) => Buffer | null) =>
    new Promise<void>((resolve) => {
      const s = dgram.createSocket('udp4');
      s.on('message', (msg, rinfo) => {
        (received[name] ??= []).push(msg);
        const reply = respond(msg);
        if (reply) s.send(reply, rinfo.port, rinfo.address);
      });
      s.bind(0, '127.0.0.1', () => {
        ports[name] = s.address().port;
        resolve();
      });
      sockets.push(s);
    });
  const pcpAnnounceReply = (resultCode: number) => Buffer.from(`0280${'00'}${resultCode.toString(16).padStart(2, '0')}00000000000004d2${'00'.repeat(12)}`, 'hex');

  before(async () => {
    await gateway('public', (m) => (m[0] === 0 && m[1] === 0 ? Buffer.from('008000000000abcdcb007107', 'hex') : null));
    await gateway('pcp-only', (m) => (m[0] === 2 ? pcpAnnounceReply(0) : null));
    await gateway('pcp-unsupp', (m) => (m[0] === 0 ? Buffer.from('0080000100000063', 'hex') : pcpAnnounceReply(12)));
    await gateway('natpmp-only-refusing', (m) => (m[0] === 0 ? Buffer.from('0080000200000007', 'hex') : Buffer.from('0080000100000007', 'hex')));
    await gateway('silent', () => null);
    await gateway('dns-like', () => Buffer.from('8180000100000000000000', 'hex'));
  });
  after(() => {
    for (const s of sockets) s.close();
  });
  const target = (name: string) => ({ ip: '127.0.0.1', port: ports[name]!, transport: 'udp' as const });
  /** only the external-address request and ANNOUNCE ever go out: never MAP/PEER, never a NAT-PMP mapping opcode */
  const onlyReadRequests = (name: string) => {
    for (const m of received[name] ?? []) {
      const ok = (m.length === 2 && m[0] === 0 && m[1] === 0) || (m.length === 24 && m[0] === 2 && m[1] === 0 && m.readUInt32BE(4) === 0);
      assert.ok(ok, `${name} was sent ${m.toString('hex')}`);
    }
  };

  it('a NAT-PMP gateway with a public address: the address and epoch; PCP never tried', async () => {
    const r = await runProbe(natPmpProbe, target('public'), { scope, limits });
    assert.equal(r.status, 'success', r.error);
    assert.equal(r.protocol, 'nat-pmp');
    assert.deepEqual(r.data as NatPmpData, { version: 0, resultCode: 0, epoch: 0xabcd, externalAddress: '203.0.113.7' });
    assert.equal(received['public']!.length, 1);
    onlyReadRequests('public');
  });

  it('a PCP-only gateway that ignores version 0: the ANNOUNCE answer is recorded', async () => {
    const r = await runProbe(natPmpProbe, target('pcp-only'), { scope, limits: { timeoutMs: 600, udpRetries: 1 } });
    assert.equal(r.status, 'success', r.error);
    assert.equal(r.protocol, 'pcp');
    assert.deepEqual(r.data as NatPmpData, { version: 2, resultCode: 0, epoch: 1234 });
    assert.deepEqual(received['pcp-only']!.map((m) => m[0]), [0, 0, 2], 'NAT-PMP sent and resent, then ANNOUNCE once');
    onlyReadRequests('pcp-only');
  });

  it('a gateway that says "unsupported version" to NAT-PMP is asked in PCP at once', async () => {
    const r = await runProbe(natPmpProbe, target('pcp-unsupp'), { scope, limits });
    assert.equal(r.status, 'success', r.error);
    assert.deepEqual(r.data as NatPmpData, { version: 2, resultCode: 12, epoch: 1234 });
    assert.deepEqual(received['pcp-unsupp']!.map((m) => m[0]), [0, 2]);
    onlyReadRequests('pcp-unsupp');
  });

  it('a refusing NAT-PMP gateway keeps its own answer (NOT_AUTHORIZED), without an address', async () => {
    const r = await runProbe(natPmpProbe, target('natpmp-only-refusing'), { scope, limits });
    assert.equal(r.status, 'success', r.error);
    assert.deepEqual(r.data as NatPmpData, { version: 0, resultCode: 2, epoch: 7 });
    onlyReadRequests('natpmp-only-refusing');
  });

  it('silence is io-timeout within the deadline; another protocol is a protocol error with its bytes', async () => {
    const t0 = Date.now();
    const silent = await runProbe(natPmpProbe, target('silent'), { scope, limits: { timeoutMs: 500, udpRetries: 2 } });
    assert.equal(silent.status, 'io-timeout');
    assert.ok(Date.now() - t0 < 2 * 500 + 300, `${Date.now() - t0} ms`);
    onlyReadRequests('silent');
    const dns = await runProbe(natPmpProbe, target('dns-like'), { scope, limits: { timeoutMs: 400, udpRetries: 0 } });
    assert.equal(dns.status, 'protocol-error');
    assert.equal(Buffer.from(dns.raw!).toString('hex'), '8180000100000000000000');
  });
});
