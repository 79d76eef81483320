// Stage: probes (modbus). Modbus/TCP framing (MBAP header) and the Read Device Identification request and answer
// (function 0x2B, MEI type 0x0E), as pure functions with bounded parsing. No I/O here.

export const FUNCTION_MEI = 0x2b;
export const MEI_READ_DEVICE_ID = 0x0e;
/** read device id codes: basic (objects 0–2), regular (0–6 and beyond), extended, one specific object */
export const READ_BASIC = 1;
export const READ_REGULAR = 2;

/** MBAP length covers unit id + PDU; a PDU is at most 253 bytes */
const MAX_MBAP_LENGTH = 254;
export const MAX_OBJECTS = 64;

export const OBJECT_NAMES: Record<number, string> = {
  0: 'vendorName',
  1: 'productCode',
  2: 'revision',
  3: 'vendorUrl',
  4: 'productName',
  5: 'modelName',
  6: 'userApplicationName',
};

export function encodeReadDeviceId(transactionId: number, unitId: number, readCode: number, objectId: number): Buffer {
  const pdu = Buffer.from([FUNCTION_MEI, MEI_READ_DEVICE_ID, readCode & 0xff, objectId & 0xff]);
  const head = Buffer.alloc(7);
  head.writeUInt16BE(transactionId & 0xffff, 0);
  head.writeUInt16BE(0, 2);
  head.writeUInt16BE(pdu.length + 1, 4);
  head.writeUInt8(unitId & 0xff, 6);
  return Buffer.concat([head, pdu]);
}

export interface MbapFrame {
  transactionId: number;
  unitId: number;
  pdu: Buffer;
}

export type FrameResult = { kind: 'ok'; frame: MbapFrame; consumed: number } | { kind: 'need-more' } | { kind: 'error'; reason: string };

/** Split the next Modbus/TCP frame off the front of `buf`. */
export function decodeFrame(buf: Uint8Array): FrameResult {
  if (buf.length >= 4 && (buf[2] !== 0 || buf[3] !== 0)) return { kind: 'error', reason: 'MBAP protocol id is not 0' };
  if (buf.length < 6) return { kind: 'need-more' };
  const length = (buf[4]! << 8) | buf[5]!;
  if (length < 2 || length > MAX_MBAP_LENGTH) return { kind: 'error', reason: `MBAP length ${length} out of range` };
  if (buf.length < 6 + length) return { kind: 'need-more' };
  return {
    kind: 'ok',
    frame: { transactionId: (buf[0]! << 8) | buf[1]!, unitId: buf[6]!, pdu: Buffer.from(buf.subarray(7, 6 + length)) },
    consumed: 6 + length,
  };
}

export type DeviceIdAnswer =
  | { kind: 'exception'; code: number }
  | { kind: 'ok'; readCode: number; conformity: number; moreFollows: boolean; nextObjectId: number; objects: { id: number; value: Buffer }[] }
  | { kind: 'error'; reason: string };

export function parseDeviceIdResponse(pdu: Uint8Array): DeviceIdAnswer {
  if (pdu.length < 1) return { kind: 'error', reason: 'empty PDU' };
  if (pdu[0] === (FUNCTION_MEI | 0x80)) {
    if (pdu.length < 2) return { kind: 'error', reason: 'exception without a code' };
    return { kind: 'exception', code: pdu[1]! };
  }
  if (pdu[0] !== FUNCTION_MEI) return { kind: 'error', reason: `function 0x${pdu[0]!.toString(16)} is not the one asked` };
  if (pdu.length < 7) return { kind: 'error', reason: 'device identification answer too short' };
  if (pdu[1] !== MEI_READ_DEVICE_ID) return { kind: 'error', reason: `MEI type 0x${pdu[1]!.toString(16)}` };
  const readCode = pdu[2]!;
  const conformity = pdu[3]!;
  const more = pdu[4]!;
  if (more !== 0 && more !== 0xff) return { kind: 'error', reason: `"more follows" byte 0x${more.toString(16)}` };
  const nextObjectId = pdu[5]!;
  const count = pdu[6]!;
  if (count > MAX_OBJECTS) return { kind: 'error', reason: `${count} objects` };
  const objects: { id: number; value: Buffer }[] = [];
  let at = 7;
  for (let i = 0; i < count; i++) {
    if (at + 2 > pdu.length) return { kind: 'error', reason: 'object header runs past the PDU' };
    const id = pdu[at]!;
    const len = pdu[at + 1]!;
    if (at + 2 + len > pdu.length) return { kind: 'error', reason: 'object value runs past the PDU' };
    objects.push({ id, value: Buffer.from(pdu.subarray(at + 2, at + 2 + len)) });
    at += 2 + len;
  }
  return { kind: 'ok', readCode, conformity, moreFollows: more === 0xff, nextObjectId, objects };
}
