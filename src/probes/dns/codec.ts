// Stage: probes (dns, mdns). The DNS message format (RFC 1035, with the mDNS class bits of RFC 6762) as pure
// functions: queries and answers encoded with optional name compression, and a bounded decoder for what a server
// returns — compression pointers may only point backwards and are followed a capped number of times, counts are
// checked against the bytes present — so a hostile datagram yields a typed error, never a crash or a hang.

export const TYPE = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, TXT: 16, AAAA: 28, SRV: 33, OPT: 41, ANY: 255 } as const;
export const CLASS = { IN: 1, CH: 3, ANY: 255 } as const;
export const RCODE_NAMES: readonly string[] = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE'];

export const DNS_LIMITS = {
  /** a name's wire length (RFC 1035 §2.3.4) */
  maxNameBytes: 255,
  /** compression pointers followed while reading one name */
  maxPointerHops: 32,
  /** records decoded from one message, all sections together */
  maxRecords: 512,
  /** strings kept from one TXT record */
  maxTxtStrings: 64,
} as const;

export const HEADER_BYTES = 12;

/** A domain name as its labels, each the raw label text (a DNS-SD instance label may hold dots and spaces). */
export type DnsName = string[];

export interface DnsHeader {
  id: number;
  /** a response (QR=1) */
  qr: boolean;
  opcode: number;
  /** authoritative answer */
  aa: boolean;
  /** truncated */
  tc: boolean;
  /** recursion desired */
  rd: boolean;
  /** recursion available */
  ra: boolean;
  ad: boolean;
  cd: boolean;
  rcode: number;
  qdcount: number;
  ancount: number;
  nscount: number;
  arcount: number;
}

export interface DnsQuestion {
  name: DnsName;
  type: number;
  class: number;
  /** mDNS: the top bit of the class asks for a unicast response (QU) */
  unicastResponse?: boolean;
}

export type DnsRecordData =
  | { kind: 'A'; address: string }
  | { kind: 'AAAA'; address: string }
  | { kind: 'PTR'; target: DnsName }
  | { kind: 'CNAME'; target: DnsName }
  | { kind: 'NS'; target: DnsName }
  | { kind: 'TXT'; strings: Buffer[] }
  | { kind: 'SRV'; priority: number; weight: number; port: number; target: DnsName }
  | { kind: 'other'; bytes: Buffer };

export interface DnsRecord {
  name: DnsName;
  type: number;
  class: number;
  /** mDNS: the top bit of the class marks a unique record (cache flush) */
  cacheFlush?: boolean;
  ttl: number;
  data: DnsRecordData;
}

export interface DnsMessage {
  header: DnsHeader;
  questions: DnsQuestion[];
  answers: DnsRecord[];
  authorities: DnsRecord[];
  additionals: DnsRecord[];
}

export type DecodeResult = { ok: true; message: DnsMessage } | { ok: false; error: string; header?: DnsHeader };

class DnsDecodeError extends Error {}

// ---------------------------------------------------------------------------------------------------------------
// Names

/** Split a dotted name into labels; "\." keeps a dot inside a label, "\\" a backslash. The root is "" or ".". */
export function parseName(text: string): DnsName {
  const labels: string[] = [];
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && i + 1 < text.length) cur += text[++i];
    else if (c === '.') {
      if (cur) labels.push(cur);
      cur = '';
    } else cur += c;
  }
  if (cur) labels.push(cur);
  return labels;
}

/** Dotted text of a name, escaping dots and backslashes inside labels so parseName gives the labels back. */
export function nameToString(name: DnsName): string {
  return name.map((l) => l.replace(/[\\.]/g, (c) => `\\${c}`)).join('.');
}

/** Case-insensitive name equality (RFC 4343: ASCII letters only). */
export function sameName(a: DnsName, b: DnsName): boolean {
  return a.length === b.length && a.every((l, i) => asciiLower(l) === asciiLower(b[i]!));
}

function asciiLower(s: string): string {
  return s.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/** The reverse-lookup name of an address: 4.3.2.1.in-addr.arpa or the ip6.arpa nibbles. */
export function reverseName(ip: string): DnsName | null {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (v4) return [v4[4]!, v4[3]!, v4[2]!, v4[1]!, 'in-addr', 'arpa'];
  const bytes = ipv6Bytes(ip);
  if (!bytes) return null;
  const nibbles: string[] = [];
  for (let i = 15; i >= 0; i--) nibbles.push((bytes[i]! & 0xf).toString(16), (bytes[i]! >> 4).toString(16));
  return [...nibbles, 'ip6', 'arpa'];
}

function ipv6Bytes(ip: string): number[] | null {
  if (!ip.includes(':') || ip.includes('.')) return null;
  const halves = ip.split('::');
  if (halves.length > 2) return null;
  const part = (s: string) => (s ? s.split(':') : []);
  const head = part(halves[0]!);
  const tail = halves.length === 2 ? part(halves[1]!) : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  if (fill < 0 || (halves.length === 1 && head.length !== 8)) return null;
  const groups = [...head, ...Array<string>(fill).fill('0'), ...tail];
  if (groups.length !== 8 || !groups.every((g) => /^[0-9a-f]{1,4}$/i.test(g))) return null;
  return groups.flatMap((g) => {
    const n = parseInt(g, 16);
    return [n >> 8, n & 0xff];
  });
}

/** RFC 5952 text of 16 address bytes: lower case, the longest run of two or more zero groups as "::". */
export function formatIpv6(b: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((b[i]! << 8) | b[i + 1]!);
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hexes = groups.map((g) => g.toString(16));
  if (bestAt < 0) return hexes.join(':');
  return `${hexes.slice(0, bestAt).join(':')}::${hexes.slice(bestAt + bestLen).join(':')}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Encoding

export interface EncodeOptions {
  /** replace repeated name suffixes by pointers (RFC 1035 §4.1.4) */
  compress?: boolean;
}

class Writer {
  private chunks: Buffer[] = [];
  length = 0;
  private suffixes = new Map<string, number>();
  constructor(private compress: boolean) {}

  bytes(b: Uint8Array): void {
    const buf = Buffer.from(b);
    this.chunks.push(buf);
    this.length += buf.length;
  }
  u8(n: number): void {
    this.bytes(Buffer.of(n & 0xff));
  }
  u16(n: number): void {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(n & 0xffff);
    this.bytes(b);
  }
  u32(n: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n >>> 0);
    this.bytes(b);
  }
  name(name: DnsName): void {
    const encoded = name.map((l) => Buffer.from(l, 'utf8'));
    const wire = encoded.reduce((n, l) => n + 1 + l.length, 1);
    if (wire > DNS_LIMITS.maxNameBytes) throw new RangeError(`name longer than ${DNS_LIMITS.maxNameBytes} bytes`);
    for (let i = 0; i < encoded.length; i++) {
      const label = encoded[i]!;
      if (label.length === 0 || label.length > 63) throw new RangeError(`label of ${label.length} bytes`);
      // exact case: a decoded name reads back as written (DNS itself would allow a case-insensitive match)
      const key = JSON.stringify(name.slice(i));
      const at = this.suffixes.get(key);
      if (this.compress && at !== undefined) {
        this.u16(0xc000 | at);
        return;
      }
      if (this.length < 0x4000) this.suffixes.set(key, this.length);
      this.u8(label.length);
      this.bytes(label);
    }
    this.u8(0);
  }
  /** n zero bytes that the caller fills in later (a length known only after what follows is written) */
  slot(n: number): Buffer {
    const b = Buffer.alloc(n);
    this.chunks.push(b);
    this.length += n;
    return b;
  }
  done(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

export interface EncodableMessage {
  header: Partial<DnsHeader> & { id: number };
  questions?: DnsQuestion[];
  answers?: DnsRecord[];
  authorities?: DnsRecord[];
  additionals?: DnsRecord[];
}

export function encodeMessage(m: EncodableMessage, opts: EncodeOptions = {}): Buffer {
  const h = m.header;
  const questions = m.questions ?? [];
  const sections = [m.answers ?? [], m.authorities ?? [], m.additionals ?? []];
  const w = new Writer(opts.compress ?? false);
  w.u16(h.id);
  w.u16(
    (h.qr ? 0x8000 : 0) |
      ((h.opcode ?? 0) & 0xf) << 11 |
      (h.aa ? 0x400 : 0) |
      (h.tc ? 0x200 : 0) |
      (h.rd ? 0x100 : 0) |
      (h.ra ? 0x80 : 0) |
      (h.ad ? 0x20 : 0) |
      (h.cd ? 0x10 : 0) |
      ((h.rcode ?? 0) & 0xf),
  );
  w.u16(questions.length);
  for (const s of sections) w.u16(s.length);
  for (const q of questions) {
    w.name(q.name);
    w.u16(q.type);
    w.u16((q.class & 0x7fff) | (q.unicastResponse ? 0x8000 : 0));
  }
  for (const s of sections) for (const r of s) encodeRecord(w, r);
  return w.done();
}

function encodeRecord(w: Writer, r: DnsRecord): void {
  w.name(r.name);
  w.u16(r.type);
  w.u16((r.class & 0x7fff) | (r.cacheFlush ? 0x8000 : 0));
  w.u32(r.ttl);
  // rdata is written by the message's own writer, so names inside it share the compression table; its length is
  // filled in afterwards.
  const lengthSlot = w.slot(2);
  const before = w.length;
  const d = r.data;
  switch (d.kind) {
    case 'A': {
      const octets = d.address.split('.').map(Number);
      if (octets.length !== 4 || !octets.every((o) => Number.isInteger(o) && o >= 0 && o <= 255)) throw new RangeError(`not an IPv4 address: ${d.address}`);
      w.bytes(Buffer.from(octets));
      break;
    }
    case 'AAAA': {
      const bytes = ipv6Bytes(d.address);
      if (!bytes) throw new RangeError(`not an IPv6 address: ${d.address}`);
      w.bytes(Buffer.from(bytes));
      break;
    }
    case 'TXT':
      for (const s of d.strings) {
        const part = s.subarray(0, 255);
        w.u8(part.length);
        w.bytes(part);
      }
      break;
    case 'SRV':
      w.u16(d.priority);
      w.u16(d.weight);
      w.u16(d.port);
      w.name(d.target);
      break;
    case 'PTR':
    case 'CNAME':
    case 'NS':
      w.name(d.target);
      break;
    case 'other':
      w.bytes(d.bytes);
      break;
  }
  lengthSlot.writeUInt16BE(w.length - before);
}

/** A query with one or more questions; `rd` asks the server to recurse. */
export function encodeQuery(id: number, questions: DnsQuestion[], opts: { rd?: boolean } = {}): Buffer {
  return encodeMessage({ header: { id, rd: opts.rd ?? false }, questions });
}

// ---------------------------------------------------------------------------------------------------------------
// Decoding

export function decodeHeader(buf: Uint8Array): DnsHeader | null {
  if (buf.length < HEADER_BYTES) return null;
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const flags = b.readUInt16BE(2);
  return {
    id: b.readUInt16BE(0),
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0xf,
    aa: (flags & 0x400) !== 0,
    tc: (flags & 0x200) !== 0,
    rd: (flags & 0x100) !== 0,
    ra: (flags & 0x80) !== 0,
    ad: (flags & 0x20) !== 0,
    cd: (flags & 0x10) !== 0,
    rcode: flags & 0xf,
    qdcount: b.readUInt16BE(4),
    ancount: b.readUInt16BE(6),
    nscount: b.readUInt16BE(8),
    arcount: b.readUInt16BE(10),
  };
}

class Reader {
  constructor(
    readonly buf: Buffer,
    public pos = 0,
  ) {}
  need(n: number, what: string): void {
    if (this.pos + n > this.buf.length) throw new DnsDecodeError(`truncated ${what} at byte ${this.pos}`);
  }
  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.pos++]!;
  }
  u16(what: string): number {
    this.need(2, what);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  u32(what: string): number {
    this.need(4, what);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  take(n: number, what: string): Buffer {
    this.need(n, what);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  /**
   * A possibly compressed name. Every pointer must point before the place it was read from, so a chain of pointers
   * strictly decreases and cannot loop; the hop count and the name length are capped besides.
   */
  name(): DnsName {
    const labels: string[] = [];
    let p = this.pos;
    let resumeAt = -1;
    let hops = 0;
    let wire = 1;
    for (;;) {
      if (p >= this.buf.length) throw new DnsDecodeError(`name runs past the end at byte ${p}`);
      const len = this.buf[p]!;
      if (len === 0) {
        p += 1;
        break;
      }
      const kind = len & 0xc0;
      if (kind === 0xc0) {
        if (p + 1 >= this.buf.length) throw new DnsDecodeError(`truncated compression pointer at byte ${p}`);
        const target = ((len & 0x3f) << 8) | this.buf[p + 1]!;
        if (target >= p) throw new DnsDecodeError(`compression pointer at byte ${p} does not point backwards (to ${target})`);
        if (++hops > DNS_LIMITS.maxPointerHops) throw new DnsDecodeError(`more than ${DNS_LIMITS.maxPointerHops} compression pointers in one name`);
        if (resumeAt < 0) resumeAt = p + 2;
        p = target;
        continue;
      }
      if (kind !== 0) throw new DnsDecodeError(`reserved label type 0x${len.toString(16)} at byte ${p}`);
      wire += 1 + len;
      if (wire > DNS_LIMITS.maxNameBytes) throw new DnsDecodeError(`name longer than ${DNS_LIMITS.maxNameBytes} bytes`);
      if (p + 1 + len > this.buf.length) throw new DnsDecodeError(`label runs past the end at byte ${p}`);
      labels.push(labelText(this.buf.subarray(p + 1, p + 1 + len)));
      p += 1 + len;
    }
    this.pos = resumeAt >= 0 ? resumeAt : p;
    return labels;
  }
}

/** Label bytes as text: valid UTF-8 as such (DNS-SD instance names are UTF-8), anything else byte for byte. */
function labelText(b: Buffer): string {
  const utf8 = b.toString('utf8');
  return utf8.includes('\uFFFD') ? b.toString('latin1') : utf8;
}

function decodeQuestion(r: Reader): DnsQuestion {
  const name = r.name();
  const type = r.u16('question type');
  const cls = r.u16('question class');
  const q: DnsQuestion = { name, type, class: cls & 0x7fff };
  if (cls & 0x8000) q.unicastResponse = true;
  return q;
}

function decodeRecord(r: Reader): DnsRecord {
  const name = r.name();
  const type = r.u16('record type');
  const cls = r.u16('record class');
  const ttl = r.u32('record ttl');
  const rdlength = r.u16('record length');
  r.need(rdlength, 'record data');
  const end = r.pos + rdlength;
  // Names in rdata may point anywhere before them in the message, so rdata is read in place, then checked to end
  // exactly where its length says.
  let data: DnsRecordData;
  const mismatch = () => new DnsDecodeError(`record data of type ${type} does not fill its ${rdlength} bytes`);
  switch (type) {
    case TYPE.A:
      if (rdlength !== 4) throw mismatch();
      data = { kind: 'A', address: [...r.take(4, 'A')].join('.') };
      break;
    case TYPE.AAAA:
      if (rdlength !== 16) throw mismatch();
      data = { kind: 'AAAA', address: formatIpv6(r.take(16, 'AAAA')) };
      break;
    case TYPE.PTR:
    case TYPE.CNAME:
    case TYPE.NS: {
      const target = r.name();
      data = { kind: type === TYPE.PTR ? 'PTR' : type === TYPE.CNAME ? 'CNAME' : 'NS', target };
      break;
    }
    case TYPE.SRV: {
      const priority = r.u16('SRV priority');
      const weight = r.u16('SRV weight');
      const port = r.u16('SRV port');
      data = { kind: 'SRV', priority, weight, port, target: r.name() };
      break;
    }
    case TYPE.TXT: {
      const strings: Buffer[] = [];
      while (r.pos < end) {
        const len = r.u8('TXT length');
        if (r.pos + len > end) throw mismatch();
        const s = r.take(len, 'TXT string');
        if (strings.length < DNS_LIMITS.maxTxtStrings) strings.push(Buffer.from(s));
      }
      data = { kind: 'TXT', strings };
      break;
    }
    default:
      data = { kind: 'other', bytes: Buffer.from(r.take(rdlength, 'record data')) };
  }
  if (r.pos !== end) throw mismatch();
  const rec: DnsRecord = { name, type, class: cls & 0x7fff, ttl, data };
  // OPT records reuse the class as a UDP size: its top bit is no cache-flush flag.
  if (cls & 0x8000 && type !== TYPE.OPT) rec.cacheFlush = true;
  if (type === TYPE.OPT) rec.class = cls;
  return rec;
}

/** Decode a whole message. A message whose header could be read but not the rest still reports the header. */
export function decodeMessage(input: Uint8Array): DecodeResult {
  const buf = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  const header = decodeHeader(buf);
  if (!header) return { ok: false, error: `a DNS message has at least ${HEADER_BYTES} bytes, got ${buf.length}` };
  const total = header.qdcount + header.ancount + header.nscount + header.arcount;
  if (total > DNS_LIMITS.maxRecords) return { ok: false, error: `${total} entries announced, more than ${DNS_LIMITS.maxRecords}`, header };
  // Each question takes at least 5 bytes and each record 11: a count the datagram cannot hold is refused up front.
  const least = header.qdcount * 5 + (header.ancount + header.nscount + header.arcount) * 11;
  if (HEADER_BYTES + least > buf.length) return { ok: false, error: `counts announce at least ${HEADER_BYTES + least} bytes, got ${buf.length}`, header };
  const r = new Reader(buf, HEADER_BYTES);
  try {
    const questions: DnsQuestion[] = [];
    for (let i = 0; i < header.qdcount; i++) questions.push(decodeQuestion(r));
    const section = (n: number) => {
      const out: DnsRecord[] = [];
      for (let i = 0; i < n; i++) out.push(decodeRecord(r));
      return out;
    };
    const answers = section(header.ancount);
    const authorities = section(header.nscount);
    const additionals = section(header.arcount);
    return { ok: true, message: { header, questions, answers, authorities, additionals } };
  } catch (e) {
    if (e instanceof DnsDecodeError) return { ok: false, error: e.message, header };
    throw e;
  }
}

export function rcodeName(rcode: number): string {
  return RCODE_NAMES[rcode] ?? `RCODE${rcode}`;
}

/** Every record of the message, all sections (mDNS responders put SRV/TXT/A in answers or additionals alike). */
export function allRecords(m: DnsMessage): DnsRecord[] {
  return [...m.answers, ...m.authorities, ...m.additionals];
}
