// Stage: probes, CoAP. The UDP and TCP probes against the testbed's libcoap 4.3.1 coap-server (checked against what
// coap-client reads from it) and against loopback peers: Block2 paging, a separate response, a 4.04, a silent port,
// a non-CoAP answer, and TCP services that are not CoAP.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import type { CoapData } from '../../core/fields.ts';
import { parseScopeYaml } from '../../core/scope.ts';
import { runProbe } from '../../scan/run-probe.ts';
import { LAB_SCOPE_YAML, ensureTestbed, require_ } from '../../../test/testbed.ts';
import { CODE, type CoapMessage, OPTION, TYPE, blockOption, decodeBlock, decodeUdpMessage, encodeTcpMessage, encodeUdpMessage, parseLinkFormat } from './codec.ts';
import { coapProbe, coapTcpProbe } from './probe.ts';

const scope = parseScopeYaml(LAB_SCOPE_YAML, 'test scope', parseYaml);
const limits = { timeoutMs: 1500, connectTimeoutMs: 1500, udpRetries: 1 };
const HUB = '10.213.0.30';

describe('coap probes against the testbed libcoap server', () => {
  it('udp/5683 and tcp/5683: the resources coap-client reads, with their attributes', async (t) => {
    if (!require_(t, 'testbed')) return;
    ensureTestbed();
    const { stdout } = await promisify(execFile)('coap-client-notls', ['-m', 'get', '-B', '3', `coap://${HUB}/.well-known/core`]);
    const reference = parseLinkFormat(stdout.trim());
    assert.ok(reference.length >= 3);
    for (const [probe, transport] of [
      [coapProbe, 'udp'],
      [coapTcpProbe, 'tcp'],
    ] as const) {
      const r = await runProbe(probe, { ip: HUB, port: 5683, transport }, { scope, limits });
      assert.equal(r.status, 'success', `${transport}: ${r.error}`);
      assert.equal(r.protocol, probe.name);
      const d = r.data as CoapData;
      assert.equal(d.code, '2.05');
      assert.deepEqual(d.resources, reference);
      const time = d.resources!.find((x) => x.path === '/time');
      assert.equal(time?.attributes.rt, 'ticks');
      assert.equal(time?.attributes.title, 'Internal Clock');
      assert.ok(Object.hasOwn(time!.attributes, 'obs'));
    }
  });

  it('the TCP probe recognises libcoap’s CSM greeting', async (t) => {
    if (!require_(t, 'testbed')) return;
    ensureTestbed();
    const greeting = await new Promise<Buffer>((resolve, reject) => {
      const s = net.connect(5683, HUB);
      s.once('data', (d) => {
        s.destroy();
        resolve(d);
      });
      s.once('error', reject);
      setTimeout(() => {
        s.destroy();
        reject(new Error('no greeting'));
      }, 2000);
    });
    assert.equal(coapTcpProbe.recognizes!(greeting), true);
  });
});

describe('coap udp probe against loopback peers', () => {
  const sockets: dgram.Socket[] = [];
  const ports: Record<string, number> = {};
  const got: Record<string, CoapMessage[]> = {};

  const peer = (name: string, onMsg: (m: CoapMessage | null, raw: Buffer, reply: (b: Buffer) => void) => void) =>
    new Promise<void>((resolve) => {
      got[name] = [];
      const s = dgram.createSocket('udp4');
      s.on('message', (msg, rinfo) => {
        const d = decodeUdpMessage(msg);
        if (d.ok) got[name]!.push(d.message);
        onMsg(d.ok ? d.message : null, msg, (b) => s.send(b, rinfo.port, rinfo.address));
      });
      s.bind(0, '127.0.0.1', () => {
        ports[name] = s.address().port;
        resolve();
      });
      sockets.push(s);
    });
  const ack = (m: CoapMessage, code: number, options: CoapMessage['options'], payload: string) =>
    encodeUdpMessage({ type: TYPE.ACK, code, messageId: m.messageId, token: m.token, options, payload: Buffer.from(payload) });

  const bigDoc = Array.from({ length: 20 }, (_, i) => `</sensors/s${i}>;rt="urn:dev:sensor";if="sensor";ct=50`).join(',');

  before(async () => {
    await peer('blocks', (m, _raw, reply) => {
      if (!m) return;
      const b2 = m.options.find((o) => o.number === OPTION.BLOCK2);
      const want = b2 ? decodeBlock(b2.value)! : { num: 0, more: false, szx: 4 };
      const size = 2 ** (want.szx + 4);
      const chunk = bigDoc.slice(want.num * size, (want.num + 1) * size);
      const more = (want.num + 1) * size < bigDoc.length;
      reply(ack(m, CODE.CONTENT, [blockOption(OPTION.BLOCK2, { num: want.num, more, szx: want.szx })], chunk));
    });
    await peer('endless-blocks', (m, _raw, reply) => {
      if (m) reply(ack(m, CODE.CONTENT, [blockOption(OPTION.BLOCK2, { num: 0, more: true, szx: 0 })], '</x>;'.padEnd(16, ' ')));
    });
    await peer('separate', (m, _raw, reply) => {
      if (!m || m.type !== TYPE.CON || m.code !== CODE.GET) return;
      reply(encodeUdpMessage({ type: TYPE.ACK, code: CODE.EMPTY, messageId: m.messageId, token: Buffer.alloc(0), options: [], payload: Buffer.alloc(0) }));
      setTimeout(() => reply(encodeUdpMessage({ type: TYPE.CON, code: CODE.CONTENT, messageId: 0x7777, token: m.token, options: [], payload: Buffer.from('</late>;ct=0') })), 100);
    });
    await peer('not-found', (m, _raw, reply) => {
      if (m) reply(ack(m, 0x84, [], ''));
    });
    await peer('silent', () => {});
    await peer('ntp-like', (_m, _raw, reply) => reply(Buffer.from('1c0100e900000000', 'hex')));
  });
  after(() => {
    for (const s of sockets) s.close();
  });
  const target = (name: string) => ({ ip: '127.0.0.1', port: ports[name]!, transport: 'udp' as const });

  it('follows Block2 pages to the end of the document', async () => {
    const r = await runProbe(coapProbe, target('blocks'), { scope, limits });
    assert.equal(r.status, 'success', r.error);
    const d = r.data as CoapData;
    assert.equal(d.resources?.length, 20);
    assert.deepEqual(d.resources![19], { path: '/sensors/s19', attributes: { rt: 'urn:dev:sensor', if: 'sensor', ct: '50' } });
    assert.equal(got.blocks!.length, Math.ceil(bigDoc.length / 256));
  });

  it('stops following a document that never ends', async () => {
    const r = await runProbe(coapProbe, target('endless-blocks'), { scope, limits });
    assert.equal(r.status, 'success', r.error);
    assert.equal(got['endless-blocks']!.length, 16);
  });

  it('waits for a separate response and acknowledges it', async () => {
    const r = await runProbe(coapProbe, target('separate'), { scope, limits });
    assert.equal(r.status, 'success', r.error);
    assert.deepEqual((r.data as CoapData).resources, [{ path: '/late', attributes: { ct: '0' } }]);
    await new Promise((res) => setTimeout(res, 50));
    assert.ok(got.separate!.some((m) => m.type === TYPE.ACK && m.messageId === 0x7777));
  });

  it('records an error code without resources', async () => {
    const r = await runProbe(coapProbe, target('not-found'), { scope, limits });
    assert.equal(r.status, 'success', r.error);
    assert.deepEqual(r.data, { code: '4.04' });
  });

  it('a silent port is io-timeout within the deadline; a non-CoAP answer is a protocol error with raw', async () => {
    const t0 = Date.now();
    const silent = await runProbe(coapProbe, target('silent'), { scope, limits: { timeoutMs: 500, udpRetries: 1 } });
    assert.equal(silent.status, 'io-timeout');
    assert.ok(Date.now() - t0 < 1500);
    assert.equal(got.silent!.length, 2, 'one retransmission');
    assert.deepEqual(got.silent![0], got.silent![1], 'a retransmission repeats the message id and token');
    const ntp = await runProbe(coapProbe, target('ntp-like'), { scope, limits: { timeoutMs: 400, udpRetries: 0 } });
    assert.equal(ntp.status, 'protocol-error');
    assert.equal(Buffer.from(ntp.raw!).toString('hex'), '1c0100e900000000');
  });
});

describe('coap tcp probe against loopback services that are not CoAP', () => {
  const servers: net.Server[] = [];
  const ports: Record<string, number> = {};
  const serve = (name: string, onConn: (s: net.Socket) => void) =>
    new Promise<void>((resolve) => {
      const srv = net.createServer((s) => {
        s.on('error', () => {});
        onConn(s);
      });
      srv.listen(0, '127.0.0.1', () => {
        ports[name] = (srv.address() as net.AddressInfo).port;
        resolve();
      });
      servers.push(srv);
    });
  before(async () => {
    await serve('http', (s) => s.once('data', () => s.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n')));
    await serve('ssh', (s) => s.write('SSH-2.0-dropbear_2022.83\r\n'));
    // speaks CoAP framing but answers before any CSM: not a conforming peer
    await serve('no-csm', (s) => s.once('data', () => s.write(encodeTcpMessage({ code: CODE.CONTENT, token: Buffer.from([1]), options: [], payload: Buffer.from('</x>') }))));
  });
  after(() => {
    for (const s of servers) s.close();
  });
  const target = (name: string) => ({ ip: '127.0.0.1', port: ports[name]!, transport: 'tcp' as const });

  it('HTTP, an SSH greeting and a peer without CSM are protocol errors with raw, fast', async () => {
    for (const name of ['http', 'ssh', 'no-csm']) {
      const t0 = Date.now();
      const r = await runProbe(coapTcpProbe, target(name), { scope, limits });
      assert.equal(r.status, 'protocol-error', name);
      assert.ok(r.raw?.length, name);
      assert.ok(Date.now() - t0 < 1000, name);
    }
  });
});
