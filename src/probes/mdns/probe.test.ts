// Stage: probes, mDNS / DNS-SD. The probe against the testbed's Avahi 0.8 (checked against what dig reads from
// it) and against a loopback responder that announces more types than the probe follows, answers SRV/TXT only
// when asked, and breaks one answer with a compression loop; plus a silent port and one that answers otherwise.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import type { MdnsData } from '../../core/fields.ts';
import { parseScopeYaml } from '../../core/scope.ts';
import { runProbe } from '../../scan/run-probe.ts';
import { LAB_SCOPE_YAML, ensureTestbed, require_ } from '../../../test/testbed.ts';
import { type DnsMessage, type DnsRecord, TYPE, decodeMessage, encodeMessage, nameToString, parseName, sameName } from '../dns/codec.ts';
import { MAX_TYPES, SERVICES_NAME, mdnsProbe } from './probe.ts';

const scope = parseScopeYaml(LAB_SCOPE_YAML, 'test scope', parseYaml);
const limits = { timeoutMs: 1500, udpRetries: 1 };

describe('mdns probe against the testbed Avahi', () => {
  it('10.213.0.30: the four services of smarthub-4f2a.local, as dig reads them', async (t) => {
    if (!require_(t, 'testbed')) return;
    ensureTestbed();
    const r = await runProbe(mdnsProbe, { ip: '10.213.0.30', port: 5353, transport: 'udp' }, { scope, limits });
    assert.equal(r.status, 'success', r.error);
    assert.equal(r.protocol, 'mdns');
    const d = r.data as MdnsData;
    const dig = (await promisify(execFile)('dig', ['-p', '5353', '@10.213.0.30', '+short', '+time=2', '+tries=1', '_services._dns-sd._udp.local', 'ptr'])).stdout;
    const digTypes = dig.trim().split('\n').map((l) => l.replace(/\.local\.$/, '')).sort();
    assert.deepEqual(d.services!.map((s) => s.type).sort(), digTypes);
    assert.deepEqual(digTypes, ['_coap._udp', '_http._tcp', '_modbus._tcp', '_mqtt._tcp']);
    assert.equal(d.hostname, 'smarthub-4f2a.local');
    const byType = Object.fromEntries(d.services!.map((s) => [s.type, s]));
    assert.deepEqual(byType['_mqtt._tcp'], { type: '_mqtt._tcp', instance: 'Smart Hub smarthub-4f2a', host: 'smarthub-4f2a.local', port: 1883, txt: ['model=LabHub-1', 'fw=2.4.1'] });
    assert.deepEqual(byType['_http._tcp'], { type: '_http._tcp', instance: 'Smart Hub smarthub-4f2a', host: 'smarthub-4f2a.local', port: 8200, txt: ['path=/'] });
    assert.equal(byType['_coap._udp']!.port, 5683);
    assert.equal(byType['_modbus._tcp']!.port, 502);
    assert.equal(byType['_modbus._tcp']!.txt, undefined, 'an empty TXT record adds nothing');
  });

  it('a host without a responder is reported closed (ICMP port unreachable) well within the probe deadline', async (t) => {
    if (!require_(t, 'testbed')) return;
    ensureTestbed();
    const t0 = Date.now();
    const r = await runProbe(mdnsProbe, { ip: '10.213.0.20', port: 5353, transport: 'udp' }, { scope, limits: { timeoutMs: 600, udpRetries: 1 } });
    // the host answers the datagram with ICMP port unreachable: closed, without waiting out the retries
    assert.equal(r.status, 'connection-refused');
    assert.ok(Date.now() - t0 < 3 * 600 + 300, `${Date.now() - t0} ms`);
  });
});

describe('mdns probe against loopback responders', () => {
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

  // Ten service types; the printer has two instances; "_broken._tcp" answers with a name pointing at itself.
  const types = ['_ipp._tcp', '_http._tcp', '_broken._tcp', '_a1._tcp', '_a2._tcp', '_a3._tcp', '_a4._tcp', '_a5._tcp', '_a6._tcp', '_a7._tcp'].map((t) => parseName(`${t}.local`));
  const host = parseName('printer-1.local');
  const instancesOf = (t: string[]) => (t[0] === '_ipp' ? ['Office Printer', 'Office Printer (2)'] : [`Dev ${t[0]}`]).map((i) => [i, ...t]);
  const rr = (name: string[], data: DnsRecord['data'], type: number): DnsRecord => ({ name, type, class: 1, cacheFlush: true, ttl: 120, data });

  before(async () => {
    await udpServer('responder', (msg) => {
      const d = decodeMessage(msg);
      if (!d.ok) return null;
      const m = d.message;
      (received['responder'] ??= []).push(m);
      const answers: DnsRecord[] = [];
      for (const q of m.questions) {
        if (sameName(q.name, SERVICES_NAME)) for (const t of types) answers.push(rr(SERVICES_NAME, { kind: 'PTR', target: t }, TYPE.PTR));
        else if (q.name[0] === '_broken') {
          const header = encodeMessage({ header: { id: m.header.id, qr: true, aa: true } }).subarray(0, 4);
          return Buffer.concat([header, Buffer.from('0000000100000000c00c000c0001000000780002c00c', 'hex')]);
        } else if (types.some((t) => sameName(t, q.name))) for (const i of instancesOf(q.name)) answers.push(rr(q.name, { kind: 'PTR', target: i }, TYPE.PTR));
        else if (q.type === TYPE.SRV) answers.push(rr(q.name, { kind: 'SRV', priority: 0, weight: 0, port: q.name[1] === '_ipp' ? 631 : 80, target: host }, TYPE.SRV));
        else if (q.type === TYPE.TXT) answers.push(rr(q.name, { kind: 'TXT', strings: [Buffer.from('ty=LabJet 9000'), Buffer.from('\x1b[31mred'), ...Array.from({ length: 30 }, (_, k) => Buffer.from(`k${k}=v`))] }, TYPE.TXT));
        else if (q.type === TYPE.PTR && q.name.at(-1) === 'arpa') answers.push(rr(q.name, { kind: 'PTR', target: host }, TYPE.PTR));
      }
      return encodeMessage({ header: { id: m.header.id, qr: true, aa: true }, questions: m.questions, answers }, { compress: true });
    });
    await udpServer('silent', () => null);
    await udpServer('ssdp-like', () => Buffer.from('HTTP/1.1 200 OK\r\nST: upnp:rootdevice\r\n\r\n'));
  });
  after(() => {
    for (const s of sockets) s.close();
  });
  const target = (name: string) => ({ ip: '127.0.0.1', port: ports[name]!, transport: 'udp' as const });

  it('follows at most the first types, asks SRV/TXT when they did not come along, caps TXT, survives a broken answer', async () => {
    const r = await runProbe(mdnsProbe, target('responder'), { scope, limits: { timeoutMs: 800, udpRetries: 1 } });
    assert.equal(r.status, 'success', r.error);
    const d = r.data as MdnsData;
    assert.equal(d.hostname, 'printer-1.local');
    const followed = types.slice(0, MAX_TYPES).map((t) => nameToString(t.slice(0, -1)));
    assert.deepEqual([...new Set(d.services!.map((s) => s.type))], followed);
    const ipp = d.services!.filter((s) => s.type === '_ipp._tcp');
    assert.deepEqual(ipp.map((s) => [s.instance, s.host, s.port]), [
      ['Office Printer', 'printer-1.local', 631],
      ['Office Printer (2)', 'printer-1.local', 631],
    ]);
    assert.equal(ipp[0]!.txt!.length, 16, 'TXT strings capped');
    assert.equal(ipp[0]!.txt![0], 'ty=LabJet 9000');
    assert.equal(ipp[0]!.txt![1], '\x1b[31mred', 'kept as data; printing makes it safe');
    assert.deepEqual(d.services!.find((s) => s.type === '_broken._tcp'), { type: '_broken._tcp' });

    const msgs = received['responder']!;
    assert.ok(msgs.every((m) => m.questions.every((q) => q.unicastResponse)), 'every question carries the QU bit');
    const asked = msgs.flatMap((m) => m.questions.map((q) => nameToString(q.name)));
    for (const t of types.slice(MAX_TYPES)) assert.ok(!asked.includes(nameToString(t)), `${nameToString(t)} is beyond the cap`);
    assert.ok(asked.includes('1.0.0.127.in-addr.arpa'));
    assert.ok(asked.includes('_broken._tcp.local'), 'the broken answer was asked for');
    assert.ok(msgs.length <= 1 + MAX_TYPES + 1 + MAX_TYPES, `${msgs.length} datagrams`);
  });

  it('silence is io-timeout within the deadline; another protocol is a protocol error with its bytes', async () => {
    const t0 = Date.now();
    const silent = await runProbe(mdnsProbe, target('silent'), { scope, limits: { timeoutMs: 500, udpRetries: 2 } });
    assert.equal(silent.status, 'io-timeout');
    assert.ok(Date.now() - t0 < 500 + 300, `${Date.now() - t0} ms`);
    const ssdp = await runProbe(mdnsProbe, target('ssdp-like'), { scope, limits: { timeoutMs: 400, udpRetries: 0 } });
    assert.equal(ssdp.status, 'protocol-error');
    assert.match(Buffer.from(ssdp.raw!).toString(), /^HTTP\/1\.1 200 OK/);
  });
});
