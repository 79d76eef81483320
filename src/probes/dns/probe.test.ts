// Stage: probes, DNS. The probe against the testbed's dnsmasq 2.90 (checked against what dig reads from it), and
// against loopback servers: an open resolver, one that answers only the recursion test, one whose answer does not
// decode past the header, a silent port and one that answers something else.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import type { DnsData } from '../../core/fields.ts';
import { parseScopeYaml } from '../../core/scope.ts';
import { runProbe } from '../../scan/run-probe.ts';
import { LAB_SCOPE_YAML, ensureTestbed, require_ } from '../../../test/testbed.ts';
import { CLASS, type DnsMessage, TYPE, decodeMessage, encodeMessage, nameToString } from './codec.ts';
import { dnsProbe } from './probe.ts';

const scope = parseScopeYaml(LAB_SCOPE_YAML, 'test scope', parseYaml);
const limits = { timeoutMs: 1500, udpRetries: 1 };

async function dig(...args: string[]): Promise<string> {
  return (await promisify(execFile)('dig', ['+time=2', '+tries=1', ...args])).stdout;
}

describe('dns probe against the testbed dnsmasq', () => {
  it('10.213.0.20: discloses dnsmasq-2.90 in version.bind and refuses to recurse, as dig sees it', async (t) => {
    if (!require_(t, 'testbed')) return;
    ensureTestbed();
    const r = await runProbe(dnsProbe, { ip: '10.213.0.20', port: 53, transport: 'udp' }, { scope, limits });
    assert.equal(r.status, 'success', r.error);
    assert.equal(r.protocol, 'dns');
    const d = r.data as DnsData;
    const version = (await dig('@10.213.0.20', '+short', 'version.bind', 'chaos', 'txt')).trim().replace(/^"|"$/g, '');
    assert.equal(d.versionBind, version);
    assert.equal(d.versionBind, 'dnsmasq-2.90');
    const recursion = await dig('@10.213.0.20', '+recurse', 'iotscope-probe.invalid', 'a');
    assert.match(recursion, new RegExp(`status: ${d.rcode},`));
    assert.equal(d.rcode, 'REFUSED', 'no upstream servers: dnsmasq refuses names outside .lan');
    assert.equal(d.raFlag, /flags:[^;]*\bra\b/.test(recursion));
    assert.equal(d.raFlag, true, 'dnsmasq sets RA even when it refuses');
    assert.equal(d.recursionAvailable, false);
    assert.equal(d.authoritativeAnswer, false);
  });

  it('a host without a DNS server is reported closed (ICMP port unreachable) well within the probe deadline', async (t) => {
    if (!require_(t, 'testbed')) return;
    ensureTestbed();
    const t0 = Date.now();
    const r = await runProbe(dnsProbe, { ip: '10.213.0.30', port: 53, transport: 'udp' }, { scope, limits: { timeoutMs: 600, udpRetries: 1 } });
    // the host answers the datagram with ICMP port unreachable: closed, without waiting out the retries
    assert.equal(r.status, 'connection-refused');
    assert.ok(Date.now() - t0 < 3 * 600 + 300, `${Date.now() - t0} ms`);
  });
});

describe('dns probe against loopback servers', () => {
  const sockets: dgram.Socket[] = [];
  const ports: Record<string, number> = {};
  const received: Record<string, DnsMessage[]> = {};

  const udpServer = (name: string, respond: (msg: Buffer) => Buffer | null) =>
    new Promise<void>((resolve) => {
      const s = dgram.createSocket('udp4');
      s.on('message', (msg, rinfo) => {
        const reply = respond(msg);
        if (reply) s.send(reply, rinfo.port, rinfo.address);
      });
      s.bind(0, '127.0.0.1', () => {
        ports[name] = s.address().port;
        resolve();
      });
      sockets.push(s);
    });
  const server = (name: string, respond: (m: DnsMessage) => Buffer | null) =>
    udpServer(name, (msg) => {
      const d = decodeMessage(msg);
      if (!d.ok) return null;
      (received[name] ??= []).push(d.message);
      return respond(d.message);
    });

  before(async () => {
    // An open resolver: it recurses, gets NXDOMAIN for .invalid from the root, and hides its version.
    await server('open-resolver', (m) =>
      encodeMessage({ header: { id: m.header.id, qr: true, rd: m.header.rd, ra: true, rcode: m.questions[0]!.class === CLASS.CH ? 5 : 3 }, questions: m.questions }),
    );
    // An authoritative-only server that does not answer CHAOS at all, and refuses recursion without RA.
    await server('authoritative', (m) => (m.questions[0]!.class === CLASS.CH ? null : encodeMessage({ header: { id: m.header.id, qr: true, rd: m.header.rd, rcode: 5 }, questions: m.questions })));
    // BIND-like: version in CHAOS, answers split over two TXT strings; compressed
    await server('bind-like', (m) => {
      const q = m.questions[0]!;
      if (q.class !== CLASS.CH) return encodeMessage({ header: { id: m.header.id, qr: true, rd: true, ra: true, rcode: 2 }, questions: m.questions });
      return encodeMessage(
        { header: { id: m.header.id, qr: true, aa: true }, questions: m.questions, answers: [{ name: q.name, type: TYPE.TXT, class: CLASS.CH, ttl: 0, data: { kind: 'TXT', strings: [Buffer.from('9.18.'), Buffer.from('28-1~deb12u2-Debian')] } }] },
        { compress: true },
      );
    });
    // Our id and flags, then garbage: only the header can be read.
    await server('broken-body', (m) => Buffer.concat([encodeMessage({ header: { id: m.header.id, qr: true, ra: true, rcode: 0 } }).subarray(0, 4), Buffer.from('00050005ffff0000c00c', 'hex')]));
    await server('wrong-id', (m) => encodeMessage({ header: { id: (m.header.id + 1) & 0xffff, qr: true } }));
    await udpServer('silent', () => null);
    await udpServer('snmp-like', () => Buffer.from('302902010104067075626c6963a21c', 'hex'));
  });
  after(() => {
    for (const s of sockets) s.close();
  });
  const target = (name: string) => ({ ip: '127.0.0.1', port: ports[name]!, transport: 'udp' as const });

  it('an open resolver: recursion available, NXDOMAIN for the .invalid name; only the two test names asked', async () => {
    const r = await runProbe(dnsProbe, target('open-resolver'), { scope, limits });
    assert.equal(r.status, 'success', r.error);
    assert.deepEqual(r.data as DnsData, { rcode: 'NXDOMAIN', recursionAvailable: true, raFlag: true, authoritativeAnswer: false });
    const asked = received['open-resolver']!.map((m) => [nameToString(m.questions[0]!.name), m.questions[0]!.type, m.questions[0]!.class, m.header.rd]);
    assert.deepEqual(asked.sort(), [
      ['iotscope-probe.invalid', TYPE.A, CLASS.IN, true],
      ['version.bind', TYPE.TXT, CLASS.CH, false],
    ]);
  });

  it('a server silent to CHAOS: the recursion test alone decides, and REFUSED means no recursion', async () => {
    const r = await runProbe(dnsProbe, target('authoritative'), { scope, limits: { timeoutMs: 600, udpRetries: 1 } });
    assert.equal(r.status, 'success', r.error);
    assert.deepEqual(r.data as DnsData, { rcode: 'REFUSED', recursionAvailable: false, raFlag: false, authoritativeAnswer: false });
    assert.equal(received['authoritative']!.filter((m) => m.questions[0]!.class === CLASS.CH).length, 2, 'the unanswered query is resent once');
  });

  it('a version split over TXT strings is joined; SERVFAIL with RA counts as recursion offered', async () => {
    const r = await runProbe(dnsProbe, target('bind-like'), { scope, limits });
    assert.equal(r.status, 'success', r.error);
    assert.deepEqual(r.data as DnsData, { rcode: 'SERVFAIL', recursionAvailable: true, raFlag: true, authoritativeAnswer: false, versionBind: '9.18.28-1~deb12u2-Debian' });
  });

  it('an answer that decodes only as far as its header still tells rcode and flags', async () => {
    const r = await runProbe(dnsProbe, target('broken-body'), { scope, limits });
    assert.equal(r.status, 'success', r.error);
    assert.equal((r.data as DnsData).rcode, 'NOERROR');
    assert.equal((r.data as DnsData).versionBind, undefined);
  });

  it('answers with another id are not taken; non-DNS answers are a protocol error; silence is io-timeout in time', async () => {
    const wrong = await runProbe(dnsProbe, target('wrong-id'), { scope, limits: { timeoutMs: 400, udpRetries: 0 } });
    assert.equal(wrong.status, 'protocol-error');
    const snmp = await runProbe(dnsProbe, target('snmp-like'), { scope, limits: { timeoutMs: 400, udpRetries: 0 } });
    assert.equal(snmp.status, 'protocol-error');
    assert.equal(Buffer.from(snmp.raw!).toString('hex'), '302902010104067075626c6963a21c');
    const t0 = Date.now();
    const silent = await runProbe(dnsProbe, target('silent'), { scope, limits: { timeoutMs: 500, udpRetries: 2 } });
    assert.equal(silent.status, 'io-timeout');
    assert.ok(Date.now() - t0 < 1000, `${Date.now() - t0} ms: both queries share one read timeout`);
  });
});
