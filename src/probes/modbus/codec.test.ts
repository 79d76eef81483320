// Stage: probes, Modbus/TCP wire format. The request bytes, the answer pymodbus 3.0 sends (captured from the lab
// PLC), exceptions, and property tests over random, truncated and corrupted frames.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MAX_OBJECTS, READ_BASIC, READ_REGULAR, decodeFrame, encodeReadDeviceId, parseDeviceIdResponse } from './codec.ts';

/** pymodbus 3.0.0's answer to a regular-category read on unit 0, as captured on the wire */
const PYMODBUS_REGULAR = Buffer.concat([
  Buffer.from('0001000000' + '4a' + '00' + '2b0e028300000600', 'hex'),
  Buffer.from('\x06iotlab\x01\x07PLC-LAB\x02\x053.0.0\x03\x15http://iotlab.invalid\x04\x07Lab PLC\x05\x08LAB-1200', 'latin1'),
]);

describe('Modbus/TCP framing', () => {
  it('Read Device Identification request: MBAP header, unit, 0x2B 0x0E, read code, object id', () => {
    assert.equal(encodeReadDeviceId(0x1234, 0, READ_BASIC, 0).toString('hex'), '12340000000500' + '2b0e0100');
    assert.equal(encodeReadDeviceId(1, 255, READ_REGULAR, 3).toString('hex'), '000100000005ff' + '2b0e0203');
  });

  it('decodes the pymodbus answer into its seven-object list', () => {
    const f = decodeFrame(PYMODBUS_REGULAR);
    assert.equal(f.kind, 'ok');
    if (f.kind !== 'ok') return;
    assert.equal(f.consumed, PYMODBUS_REGULAR.length);
    assert.equal(f.frame.transactionId, 1);
    assert.equal(f.frame.unitId, 0);
    const a = parseDeviceIdResponse(f.frame.pdu);
    assert.equal(a.kind, 'ok');
    if (a.kind !== 'ok') return;
    assert.equal(a.readCode, 2);
    assert.equal(a.conformity, 0x83);
    assert.equal(a.moreFollows, false);
    assert.deepEqual(
      a.objects.map((o) => [o.id, o.value.toString()]),
      [
        [0, 'iotlab'],
        [1, 'PLC-LAB'],
        [2, '3.0.0'],
        [3, 'http://iotlab.invalid'],
        [4, 'Lab PLC'],
        [5, 'LAB-1200'],
      ],
    );
  });

  it('exceptions, more-follows pages, and answers that are not device identification', () => {
    assert.deepEqual(parseDeviceIdResponse(Buffer.from([0xab, 0x01])), { kind: 'exception', code: 1 });
    const more = parseDeviceIdResponse(Buffer.from('2b0e0101ff0201' + '0003616263', 'hex'));
    assert.equal(more.kind, 'ok');
    if (more.kind === 'ok') assert.deepEqual([more.moreFollows, more.nextObjectId, more.objects[0]!.value.toString()], [true, 2, 'abc']);
    assert.equal(parseDeviceIdResponse(Buffer.from('0302000a', 'hex')).kind, 'error');
    assert.equal(parseDeviceIdResponse(Buffer.from('2b0d0101000000', 'hex')).kind, 'error');
    assert.equal(parseDeviceIdResponse(Buffer.from('2b0e0101000001' + '0009616263', 'hex')).kind, 'error');
    assert.equal(parseDeviceIdResponse(Buffer.from('2b0e01017f0001', 'hex')).kind, 'error');
    assert.equal(parseDeviceIdResponse(Buffer.from([0x2b, 0x0e, 1, 1, 0, 0, MAX_OBJECTS + 1])).kind, 'error');
  });

  it('other protocols on port 502 are errors at once, not waits', () => {
    for (const s of ['HTTP/1.1 400 Bad Request\r\n', 'SSH-2.0-x\r\n', '\x00\x01\x00\x00\x01\x00\x00']) assert.equal(decodeFrame(Buffer.from(s, 'latin1')).kind, 'error', s);
    assert.equal(decodeFrame(Buffer.from('000100000006', 'hex')).kind, 'need-more');
  });

  it('never throws; a frame decoded from a prefix equals the one from the whole (property)', () => {
    const frameish = fc
      .tuple(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 60 }), fc.uint8Array({ maxLength: 8 }))
      .map(([tid, unit, pdu, tail]) => {
        const h = Buffer.alloc(7);
        h.writeUInt16BE(tid, 0);
        h.writeUInt16BE(pdu.length + 1, 4);
        h[6] = unit;
        return Buffer.concat([h, pdu, tail]);
      });
    fc.assert(
      fc.property(fc.oneof(frameish, fc.uint8Array({ maxLength: 80 }).map((u) => Buffer.from(u))), fc.nat(), (buf, at) => {
        const whole = decodeFrame(buf);
        if (whole.kind !== 'ok') return;
        parseDeviceIdResponse(whole.frame.pdu);
        const cut = at % (buf.length + 1);
        const part = decodeFrame(buf.subarray(0, cut));
        if (cut < whole.consumed) assert.notEqual(part.kind, 'ok');
        else assert.deepEqual(part, whole);
      }),
      { numRuns: 2000 },
    );
  });

  it('device-identification parsing holds on hostile PDUs: objects stay inside the PDU (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4 }), fc.uint8Array({ maxLength: 120 }), (head, rest) => {
        const pdu = Buffer.concat([Buffer.from([0x2b, 0x0e]), head, rest]);
        const a = parseDeviceIdResponse(pdu);
        if (a.kind === 'ok') assert.ok(a.objects.reduce((n, o) => n + 2 + o.value.length, 7) <= pdu.length);
      }),
      { numRuns: 2000 },
    );
  });
});
