// Stage: probes, Modbus/TCP. The probe against the testbed's pymodbus PLC and against loopback devices: one that
// only knows exceptions, a gateway that ignores unit 0, one paging its objects with "more follows", one whose
// "more follows" never advances, and an HTTP server on the port.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import type { ModbusData } from '../../core/fields.ts';
import { parseScopeYaml } from '../../core/scope.ts';
import { runProbe } from '../../scan/run-probe.ts';
import { LAB_SCOPE_YAML, ensureTestbed, require_ } from '../../../test/testbed.ts';
import { decodeFrame } from './codec.ts';
import { modbusProbe } from './probe.ts';

const scope = parseScopeYaml(LAB_SCOPE_YAML, 'test scope', parseYaml);
const limits = { timeoutMs: 1500, connectTimeoutMs: 1500 };

describe('modbus probe against the testbed pymodbus PLC', () => {
  it('10.213.0.30:502: device identification of vendor iotlab, basic and regular objects', async (t) => {
    if (!require_(t, 'testbed')) return;
    ensureTestbed();
    const r = await runProbe(modbusProbe, { ip: '10.213.0.30', port: 502, transport: 'tcp' }, { scope, limits });
    assert.equal(r.status, 'success', r.error);
    assert.deepEqual(r.data as ModbusData, {
      unitId: 0,
      vendorName: 'iotlab',
      productCode: 'PLC-LAB',
      revision: '3.0.0',
      vendorUrl: 'http://iotlab.invalid',
      productName: 'Lab PLC',
      modelName: 'LAB-1200',
    });
    const f = decodeFrame(r.raw!);
    assert.equal(f.kind, 'ok');
  });
});

type Pdu = { unit: number; readCode: number; objectId: number };

describe('modbus probe against loopback devices', () => {
  const servers: net.Server[] = [];
  const ports: Record<string, number> = {};
  const requests: Record<string, Pdu[]> = {};

  /** A Modbus/TCP device: `answer` gives the response PDU for a request, or null to stay silent. */
  const device = (name: string, answer: (r: Pdu) => Buffer | null) =>
    new Promise<void>((resolve) => {
      requests[name] = [];
      const srv = net.createServer((s) => {
        s.on('error', () => {});
        let buf = Buffer.alloc(0);
        s.on('data', (d) => {
          buf = Buffer.concat([buf, d]);
          for (;;) {
            const f = decodeFrame(buf);
            if (f.kind !== 'ok') return;
            buf = buf.subarray(f.consumed);
            const req = { unit: f.frame.unitId, readCode: f.frame.pdu[2]!, objectId: f.frame.pdu[3]! };
            requests[name]!.push(req);
            const pdu = answer(req);
            if (!pdu) continue;
            const h = Buffer.alloc(7);
            h.writeUInt16BE(f.frame.transactionId, 0);
            h.writeUInt16BE(pdu.length + 1, 4);
            h[6] = f.frame.unitId;
            s.write(Buffer.concat([h, pdu]));
          }
        });
      });
      srv.listen(0, '127.0.0.1', () => {
        ports[name] = (srv.address() as net.AddressInfo).port;
        resolve();
      });
      servers.push(srv);
    });

  const objects = (readCode: number, more: boolean, next: number, list: [number, string][]) =>
    Buffer.concat([Buffer.from([0x2b, 0x0e, readCode, 0x81, more ? 0xff : 0, next, list.length]), ...list.map(([id, v]) => Buffer.concat([Buffer.from([id, v.length]), Buffer.from(v)]))]);

  before(async () => {
    await device('exceptions', () => Buffer.from([0xab, 0x01]));
    await device('gateway', (r) => (r.unit === 0 ? null : r.readCode === 1 ? objects(1, false, 0, [[0, 'Moxa'], [1, 'MGate 5105'], [2, 'v4.2']]) : Buffer.from([0xab, 0x02])));
    const all: [number, string][] = [
      [0, 'Schneider Electric'],
      [1, 'BMX P34 2020'],
      [2, 'v3.10'],
      [3, 'http://www.schneider-electric.com'],
      [4, 'Modicon M340'],
      [5, 'BMX P34 2020'],
    ];
    await device('paging', (r) => {
      // two objects per answer, as small devices do
      const from = all.filter(([id]) => id >= r.objectId && (r.readCode === 2 || id <= 2)).slice(0, 2);
      const last = from[from.length - 1]![0];
      const more = r.readCode === 1 ? last < 2 : last < 5;
      return objects(r.readCode, more, more ? last + 1 : 0, from);
    });
    await device('stuck', (r) => objects(r.readCode, true, 0, [[0, 'loop']]));
    await new Promise<void>((resolve) => {
      const srv = net.createServer((s) => {
        s.on('error', () => {});
        s.once('data', () => s.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n'));
      });
      srv.listen(0, '127.0.0.1', () => {
        ports.http = (srv.address() as net.AddressInfo).port;
        resolve();
      });
      servers.push(srv);
    });
  });
  after(() => {
    for (const s of servers) s.close();
  });
  const target = (name: string) => ({ ip: '127.0.0.1', port: ports[name]!, transport: 'tcp' as const });

  it('a device that only answers exceptions: its code is recorded after every unit id was tried', async () => {
    const r = await runProbe(modbusProbe, target('exceptions'), { scope, limits });
    assert.equal(r.status, 'success', r.error);
    assert.deepEqual(r.data, { unitId: 0, exceptionCode: 1 });
    assert.deepEqual(
      requests.exceptions!.map((q) => q.unit),
      [0, 1, 255],
    );
  });

  it('a gateway silent on unit 0 answers on unit 1; its refusal of the regular category keeps the basic objects', async () => {
    const r = await runProbe(modbusProbe, target('gateway'), { scope, limits: { timeoutMs: 500, connectTimeoutMs: 500 } });
    assert.equal(r.status, 'success', r.error);
    assert.deepEqual(r.data, { unitId: 1, vendorName: 'Moxa', productCode: 'MGate 5105', revision: 'v4.2' });
  });

  it('"more follows" pages are followed to the end', async () => {
    const r = await runProbe(modbusProbe, target('paging'), { scope, limits });
    assert.equal(r.status, 'success', r.error);
    assert.deepEqual(r.data, {
      unitId: 0,
      vendorName: 'Schneider Electric',
      productCode: 'BMX P34 2020',
      revision: 'v3.10',
      vendorUrl: 'http://www.schneider-electric.com',
      productName: 'Modicon M340',
      modelName: 'BMX P34 2020',
    });
    assert.deepEqual(
      requests.paging!.map((q) => [q.readCode, q.objectId]),
      [
        [1, 0],
        [1, 2],
        [2, 0],
        [2, 2],
        [2, 4],
      ],
    );
  });

  it('"more follows" that never advances stops after one request per category', async () => {
    const r = await runProbe(modbusProbe, target('stuck'), { scope, limits });
    assert.equal(r.status, 'success', r.error);
    assert.equal((r.data as ModbusData).vendorName, 'loop');
    assert.equal(requests.stuck!.length, 2);
  });

  it('an HTTP answer is a protocol error with the raw bytes', async () => {
    const r = await runProbe(modbusProbe, target('http'), { scope, limits });
    assert.equal(r.status, 'protocol-error');
    assert.match(Buffer.from(r.raw!).toString(), /^HTTP\/1\.1 400/);
  });
});
