// Stage: lab. The Modbus/TCP responder: function 0x2B/0x0E Read Device Identification (basic, regular, extended
// and single-object access, split over several answers with "more follows" when long), the MBAP transaction id
// echoed; every other function gets exception 01 (illegal function), as a PLC without that function answers.
import net from 'node:net';
import type { ServiceOf } from '../profile.ts';
import { IDLE_MS, type RunningService, type ServiceContext, listenTcp } from './common.ts';

/** The PDU may be at most 253 bytes; objects that do not fit go in the next answer */
const MAX_PDU = 253;

export function deviceObjects(spec: ServiceOf<'modbus'>): Map<number, Buffer> {
  const id = spec.identification;
  const objects = new Map<number, Buffer>();
  const put = (n: number, v: string | undefined) => v !== undefined && objects.set(n, Buffer.from(v, 'latin1'));
  put(0, id.vendorName);
  put(1, id.productCode);
  put(2, id.revision);
  put(3, id.vendorUrl);
  put(4, id.productName);
  put(5, id.modelName);
  put(6, id.userApplicationName);
  for (const e of spec.extended) put(e.id, e.value);
  return objects;
}

function exception(fn: number, code: number): Buffer {
  return Buffer.from([fn | 0x80, code]);
}

/** Answer one request PDU (function code first). */
export function answerPdu(objects: Map<number, Buffer>, pdu: Buffer): Buffer {
  const fn = pdu[0]!;
  if (fn !== 0x2b) return exception(fn, 0x01);
  if (pdu.length < 4 || pdu[1] !== 0x0e) return exception(fn, pdu.length < 2 ? 0x03 : 0x01);
  const code = pdu[2]!;
  let start = pdu[3]!;
  if (code < 1 || code > 4) return exception(fn, 0x03);
  const hasExtended = [...objects.keys()].some((k) => k >= 0x80);
  const regular = [...objects.keys()].some((k) => k >= 3 && k < 0x80);
  const conformity = (hasExtended ? 0x03 : regular ? 0x02 : 0x01) | 0x80;
  const range = code === 1 ? [0, 2] : code === 2 ? [0, 0x7f] : [0, 0xff];
  const ids = [...objects.keys()].filter((k) => k >= range[0]! && k <= range[1]!).sort((a, b) => a - b);
  if (code === 4) {
    const v = objects.get(start);
    if (!v) return exception(fn, 0x02);
    return Buffer.concat([Buffer.from([0x2b, 0x0e, code, conformity, 0x00, 0x00, 1, start, v.length]), v]);
  }
  // an object id outside the category restarts at the category's first object (Modbus spec §6.21)
  if (!ids.includes(start)) start = ids[0] ?? 0;
  const parts: Buffer[] = [];
  let size = 7;
  let more = 0x00;
  let next = 0x00;
  let count = 0;
  for (const id of ids.filter((k) => k >= start)) {
    const v = objects.get(id)!;
    if (size + 2 + v.length > MAX_PDU) {
      more = 0xff;
      next = id;
      break;
    }
    parts.push(Buffer.from([id, v.length]), v);
    size += 2 + v.length;
    count++;
  }
  return Buffer.concat([Buffer.from([0x2b, 0x0e, code, conformity, more, next, count]), ...parts]);
}

export async function startModbus(spec: ServiceOf<'modbus'>, ctx: ServiceContext): Promise<RunningService> {
  const objects = deviceObjects(spec);
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    socket.setTimeout(IDLE_MS, () => socket.destroy());
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 7) {
        const protocolId = pending.readUInt16BE(2);
        const length = pending.readUInt16BE(4);
        // not Modbus/TCP: a real device drops such a connection
        if (protocolId !== 0 || length < 2 || length > 254) {
          socket.destroy();
          return;
        }
        if (pending.length < 6 + length) break;
        const tid = pending.readUInt16BE(0);
        const unit = pending[6]!;
        const pdu = pending.subarray(7, 6 + length);
        pending = pending.subarray(6 + length);
        // a unit that does not exist stays silent (a gateway would answer exception 0x0B)
        if (spec.unitIds && !spec.unitIds.includes(unit)) continue;
        const answer = answerPdu(objects, pdu);
        const head = Buffer.alloc(7);
        head.writeUInt16BE(tid, 0);
        head.writeUInt16BE(0, 2);
        head.writeUInt16BE(answer.length + 1, 4);
        head[6] = unit;
        socket.write(Buffer.concat([head, answer]));
      }
    });
  });
  return listenTcp(server, ctx);
}
