// Stage: probes, Modbus/TCP. Read Device Identification (0x2B/0x0E): the basic category (vendor, product code,
// revision), then the regular one (URL, product and model name), following "more follows" a bounded number of
// times. Unit id 0 first, then 1 and 255, which gateways and some PLCs insist on. Nothing is ever written.
import { randomInt } from 'node:crypto';
import { bytesToText } from '../../core/bytes.ts';
import type { ModbusData } from '../../core/fields.ts';
import type { Conn } from '../../scan/conn.ts';
import { type Probe, type ProbeContext, ProbeError, type ProbeResult } from '../../scan/probe.ts';
import { READ_BASIC, READ_REGULAR, decodeFrame, encodeReadDeviceId, parseDeviceIdResponse } from './codec.ts';

const RAW_CAP = 2048;
const TEXT_CAP = 256;
const UNIT_IDS = [0, 1, 255];
/** requests per category: "more follows" is honoured this many times at most */
const MAX_PAGES = 8;
/** answers with another transaction id skipped before giving up on one request */
const MAX_STRAY_FRAMES = 4;

const FIELD_OF: Record<number, keyof ModbusData> = {
  0: 'vendorName',
  1: 'productCode',
  2: 'revision',
  3: 'vendorUrl',
  4: 'productName',
  5: 'modelName',
};

export const modbusProbe: Probe = {
  name: 'modbus',
  transport: 'tcp',
  defaultPorts: [502],
  scan: scanModbus,
};

type Category =
  | { kind: 'objects'; objects: Map<number, Buffer> }
  | { kind: 'exception'; code: number }
  | { kind: 'silent'; error: unknown }
  | { kind: 'foreign'; raw: Buffer; reason: string };

class Session {
  private tid = randomInt(1, 0x8000);
  firstAnswer: Buffer | null = null;

  constructor(
    private conn: Conn,
    private readonly ctx: ProbeContext,
  ) {}

  close(): void {
    this.conn.close();
  }

  /** A device that hung up after an exception gets a fresh connection. */
  private async live(): Promise<Conn> {
    if (this.conn.ended) {
      this.conn.close();
      this.conn = await this.ctx.connect();
    }
    return this.conn;
  }

  async readCategory(unitId: number, readCode: number, timeoutMs: number): Promise<Category> {
    const objects = new Map<number, Buffer>();
    let objectId = 0;
    for (let page = 0; page < MAX_PAGES; page++) {
      const tid = this.tid++ & 0xffff;
      let conn: Conn;
      try {
        conn = await this.live();
        await conn.write(encodeReadDeviceId(tid, unitId, readCode, objectId));
      } catch (error) {
        return { kind: 'silent', error };
      }
      let pdu: Buffer | null = null;
      for (let stray = 0; stray <= MAX_STRAY_FRAMES && !pdu; stray++) {
        try {
          await conn.readUntil((b) => decodeFrame(b).kind !== 'need-more', timeoutMs);
        } catch (error) {
          return { kind: 'silent', error };
        }
        const f = decodeFrame(conn.buffered);
        if (f.kind === 'error') return { kind: 'foreign', raw: Buffer.from(conn.buffered.subarray(0, RAW_CAP)), reason: f.reason };
        if (f.kind === 'need-more') return { kind: 'silent', error: new ProbeError('io-timeout', 'incomplete Modbus frame') };
        const bytes = conn.take(f.consumed);
        this.firstAnswer ??= bytes;
        if (f.frame.transactionId === tid) pdu = f.frame.pdu;
      }
      if (!pdu) return { kind: 'silent', error: new ProbeError('io-timeout', 'no answer with our transaction id') };
      const a = parseDeviceIdResponse(pdu);
      if (a.kind === 'error') return { kind: 'foreign', raw: Buffer.from(this.firstAnswer ?? pdu), reason: a.reason };
      if (a.kind === 'exception') return objects.size ? { kind: 'objects', objects } : { kind: 'exception', code: a.code };
      for (const o of a.objects) if (!objects.has(o.id)) objects.set(o.id, o.value);
      // "more follows" must move forward, or a broken device would have us ask for the same page forever.
      if (!a.moreFollows || a.nextObjectId <= objectId) break;
      objectId = a.nextObjectId;
    }
    return { kind: 'objects', objects };
  }
}

async function scanModbus(ctx: ProbeContext): Promise<ProbeResult> {
  const conn = await ctx.connect();
  // Modbus servers never speak first.
  if (conn.buffered.length) return { status: 'protocol-error', data: {}, raw: Buffer.from(conn.buffered.subarray(0, RAW_CAP)), error: 'the service spoke first; a Modbus server waits for requests' };
  const session = new Session(conn, ctx);
  try {
    let exception: { unitId: number; code: number } | null = null;
    let lastError: unknown = null;
    for (const [i, unitId] of UNIT_IDS.entries()) {
      // Unit 0 gets the full read timeout; the retries with other unit ids share a shorter one.
      const timeoutMs = i === 0 ? ctx.timeoutMs : Math.max(300, Math.floor(ctx.timeoutMs / 2));
      const basic = await session.readCategory(unitId, READ_BASIC, timeoutMs);
      if (basic.kind === 'foreign') return { status: 'protocol-error', data: {}, raw: basic.raw, error: `not a Modbus/TCP answer: ${basic.reason}` };
      if (basic.kind === 'silent') {
        lastError = basic.error;
        if (session.firstAnswer) continue;
        // Nothing at all came back: one more unit id may help (a gateway ignoring unit 0), then give up.
        if (i >= 1) break;
        continue;
      }
      if (basic.kind === 'exception') {
        exception ??= { unitId, code: basic.code };
        continue;
      }
      const objects = basic.objects;
      const regular = await session.readCategory(unitId, READ_REGULAR, timeoutMs);
      if (regular.kind === 'objects') for (const [id, v] of regular.objects) if (!objects.has(id)) objects.set(id, v);
      const data: ModbusData = { unitId };
      for (const [id, field] of Object.entries(FIELD_OF)) {
        const v = objects.get(Number(id));
        if (v) (data as Record<string, unknown>)[field] = bytesToText(v, TEXT_CAP);
      }
      return { status: 'success', protocol: 'modbus', data: data as Record<string, unknown>, raw: session.firstAnswer?.subarray(0, RAW_CAP) };
    }
    if (exception) return { status: 'success', protocol: 'modbus', data: { unitId: exception.unitId, exceptionCode: exception.code }, raw: session.firstAnswer?.subarray(0, RAW_CAP) };
    throw lastError ?? new ProbeError('io-timeout', 'no Modbus answer');
  } finally {
    session.close();
  }
}
