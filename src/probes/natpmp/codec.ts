// Stage: probes (natpmp). NAT-PMP (RFC 6886) and PCP (RFC 6887) as pure functions: the two requests we send — the
// NAT-PMP external-address request and the PCP ANNOUNCE, neither of which changes the gateway's state — and a
// decoder for any reply either protocol gives, including the "unsupported version" answers each gives the other.

export const NATPMP_VERSION = 0;
export const PCP_VERSION = 2;
/** NAT-PMP opcode 0: external address; replies set the top bit (128) */
export const NATPMP_OP_EXTERNAL_ADDRESS = 0;
/** PCP opcode 0: ANNOUNCE */
export const PCP_OP_ANNOUNCE = 0;
/** result code 1 in both protocols: unsupported version */
export const RESULT_UNSUPPORTED_VERSION = 1;

export const NATPMP_RESULTS: readonly string[] = ['SUCCESS', 'UNSUPPORTED_VERSION', 'NOT_AUTHORIZED', 'NETWORK_FAILURE', 'OUT_OF_RESOURCES', 'UNSUPPORTED_OPCODE'];
export const PCP_RESULTS: readonly string[] = [
  'SUCCESS',
  'UNSUPP_VERSION',
  'NOT_AUTHORIZED',
  'MALFORMED_REQUEST',
  'UNSUPP_OPCODE',
  'UNSUPP_OPTION',
  'MALFORMED_OPTION',
  'NETWORK_FAILURE',
  'NO_RESOURCES',
  'UNSUPP_PROTOCOL',
  'USER_EX_QUOTA',
  'CANNOT_PROVIDE_EXTERNAL',
  'ADDRESS_MISMATCH',
  'EXCESSIVE_REMOTE_PEERS',
];

export type GatewayReply =
  | {
      protocol: 'nat-pmp';
      version: 0;
      /** the request's opcode (the reply's minus 128) */
      opcode: number;
      resultCode: number;
      epoch: number;
      /** only in an external-address reply of 12 bytes or more */
      externalAddress?: string;
    }
  | { protocol: 'pcp'; version: number; opcode: number; resultCode: number; lifetime: number; epoch: number };

export type DecodeResult = { ok: true; reply: GatewayReply } | { ok: false; error: string };

/** The two-byte NAT-PMP request for the gateway's external address. */
export function encodeExternalAddressRequest(): Buffer {
  return Buffer.of(NATPMP_VERSION, NATPMP_OP_EXTERNAL_ADDRESS);
}

/**
 * A PCP ANNOUNCE request (24 bytes, lifetime 0). `clientIp` is the 16-byte form of the address we send from; when
 * it is not known, the IPv4-mapped unspecified address — a server that checks it answers ADDRESS_MISMATCH, which
 * still tells that PCP is spoken.
 */
export function encodeAnnounceRequest(clientIp: Uint8Array = Buffer.from('00000000000000000000ffff00000000', 'hex')): Buffer {
  if (clientIp.length !== 16) throw new RangeError('the PCP client address has 16 bytes');
  const b = Buffer.alloc(24);
  b[0] = PCP_VERSION;
  b[1] = PCP_OP_ANNOUNCE;
  Buffer.from(clientIp).copy(b, 8);
  return b;
}

/** Decode a reply to either request. Requests (top bit clear) and unknown versions are errors, not replies. */
export function decodeReply(input: Uint8Array): DecodeResult {
  const b = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  if (b.length < 2) return { ok: false, error: `${b.length} bytes are no NAT-PMP or PCP reply` };
  const version = b[0]!;
  if (version === NATPMP_VERSION) {
    const op = b[1]!;
    if (op < 128) return { ok: false, error: `NAT-PMP opcode ${op} is a request, not a reply` };
    if (b.length < 8) return { ok: false, error: `a NAT-PMP reply has at least 8 bytes, got ${b.length}` };
    const reply: GatewayReply = { protocol: 'nat-pmp', version: 0, opcode: op - 128, resultCode: b.readUInt16BE(2), epoch: b.readUInt32BE(4) };
    if (op - 128 === NATPMP_OP_EXTERNAL_ADDRESS && b.length >= 12) reply.externalAddress = [...b.subarray(8, 12)].join('.');
    return { ok: true, reply };
  }
  // PCP replies carry the server's version; anything from 1 (the pre-RFC drafts) up is PCP-shaped.
  if (version >= 1 && version <= PCP_VERSION) {
    if (b.length < 24) return { ok: false, error: `a PCP reply has at least 24 bytes, got ${b.length}` };
    if (b.length > 1100 || b.length % 4 !== 0) return { ok: false, error: `a PCP reply is a multiple of 4 bytes up to 1100, got ${b.length}` };
    if (!(b[1]! & 0x80)) return { ok: false, error: 'PCP message without the response bit' };
    return { ok: true, reply: { protocol: 'pcp', version, opcode: b[1]! & 0x7f, resultCode: b[3]!, lifetime: b.readUInt32BE(4), epoch: b.readUInt32BE(8) } };
  }
  return { ok: false, error: `unknown NAT-PMP/PCP version ${version}` };
}

export function resultName(reply: GatewayReply): string {
  const names = reply.protocol === 'pcp' ? PCP_RESULTS : NATPMP_RESULTS;
  return names[reply.resultCode] ?? `RESULT${reply.resultCode}`;
}
