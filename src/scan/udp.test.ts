// Stage: scan engine. The UDP channel: answers only from the peer, ICMP port-unreachable seen as "closed" at once,
// bounded retries.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { describe, it } from 'node:test';
import { UdpChannel } from './udp.ts';

const limits = { timeoutMs: 300, maxBytes: 64, retries: 2 };

function echoServer(onMessage: (msg: Buffer, reply: (b: Buffer) => void) => void): Promise<{ port: number; close: () => void }> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.on('message', (m, r) => onMessage(m, (b) => s.send(b, r.port, r.address)));
    s.bind(0, '127.0.0.1', () => resolve({ port: s.address().port, close: () => s.close() }));
  });
}

describe('UdpChannel', () => {
  it('learns at once that a port is closed (ICMP port unreachable)', async () => {
    // a port that was just free: bind, note, release
    const probe = await echoServer(() => {});
    const port = probe.port;
    probe.close();
    const ch = await UdpChannel.open('127.0.0.1', port, limits);
    const t0 = performance.now();
    await assert.rejects(ch.request(Buffer.from('x')), (e: Error & { status?: string }) => e.status === 'connection-refused');
    assert.ok(performance.now() - t0 < 3 * limits.timeoutMs, 'no full retry budget spent on a closed port');
    assert.equal(ch.refused, true);
    await assert.rejects(ch.receive(100), /unreachable/);
    ch.close();
  });

  it('resends a bounded number of times, then gives up', async () => {
    let seen = 0;
    const srv = await echoServer(() => void seen++);
    const ch = await UdpChannel.open('127.0.0.1', srv.port, limits);
    await assert.rejects(ch.request(Buffer.from('ping')), /after 3 tries/);
    assert.equal(seen, 3);
    ch.close();
    srv.close();
  });

  it('accepts only answers that the caller recognises, capped in size', async () => {
    const srv = await echoServer((m, reply) => {
      reply(Buffer.from('noise'));
      reply(Buffer.concat([Buffer.from('ANSWER:'), Buffer.alloc(200, 0x41)]));
    });
    const ch = await UdpChannel.open('127.0.0.1', srv.port, limits);
    const got = await ch.request(Buffer.from('q'), { accept: (b) => b.subarray(0, 7).toString() === 'ANSWER:' });
    assert.equal(got.length, limits.maxBytes);
    ch.close();
    srv.close();
  });
});
