// Stage: probes, SSH. Reads the server's identification and KEXINIT, then runs the key exchange just far enough to
// receive the server's reply, which carries its public host key: type, OpenSSH-style SHA-256 fingerprint, size.
// It never authenticates; it disconnects right after the reply.
import { randomBytes } from 'node:crypto';
import type { SshData } from '../../core/fields.ts';
import type { Conn } from '../../scan/conn.ts';
import { type Probe, type ProbeContext, ProbeError, type ProbeResult } from '../../scan/probe.ts';
import {
  type AlgorithmLists,
  type KexInit,
  MSG_DEBUG,
  MSG_DISCONNECT,
  MSG_IGNORE,
  MSG_KEXINIT,
  MSG_KEX_REPLY,
  MSG_UNIMPLEMENTED,
  describeHostKey,
  encodeDisconnect,
  encodeIdent,
  encodeKexInit,
  encodeKexInitMessage,
  encodePacket,
  negotiate,
  parseDisconnect,
  parseIdent,
  parseKexInit,
  parseKexReply,
  parsePacket,
} from './codec.ts';
import { KEX_METHODS, clientKeyShare } from './kex.ts';

const RAW_CAP = 2048;
/** Packets skipped while waiting for a specific one (IGNORE, DEBUG, a guessed KEX packet, EXT_INFO). */
const MAX_SKIPPED_PACKETS = 8;

/** What the probe offers. Broad lists, old algorithms included: the server must find something in common with us,
 *  or it hangs up before sending its host key. */
export const CLIENT_ALGORITHMS: AlgorithmLists = {
  kexAlgorithms: [...KEX_METHODS],
  hostKeyAlgorithms: ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa', 'ssh-dss'],
  ciphersClientToServer: CIPHERS(),
  ciphersServerToClient: CIPHERS(),
  macsClientToServer: MACS(),
  macsServerToClient: MACS(),
  compression: ['none', 'zlib@openssh.com', 'zlib'],
};

function CIPHERS(): string[] {
  return [
    'chacha20-poly1305@openssh.com',
    'aes128-ctr',
    'aes192-ctr',
    'aes256-ctr',
    'aes128-gcm@openssh.com',
    'aes256-gcm@openssh.com',
    'aes128-cbc',
    'aes192-cbc',
    'aes256-cbc',
    '3des-cbc',
    'blowfish-cbc',
    'arcfour256',
    'arcfour128',
    'arcfour',
  ];
}
function MACS(): string[] {
  return [
    'hmac-sha2-256-etm@openssh.com',
    'hmac-sha2-512-etm@openssh.com',
    'hmac-sha1-etm@openssh.com',
    'hmac-sha2-256',
    'hmac-sha2-512',
    'hmac-sha1',
    'umac-64@openssh.com',
    'umac-128@openssh.com',
    'hmac-sha1-96',
    'hmac-md5',
    'hmac-md5-96',
  ];
}

export interface SshProbeOptions {
  /** narrow what is offered (tests use it to exercise each key-exchange family against one server) */
  kexAlgorithms?: string[];
  hostKeyAlgorithms?: string[];
}

export function createSshProbe(opts: SshProbeOptions = {}): Probe {
  const offer: AlgorithmLists = {
    ...CLIENT_ALGORITHMS,
    kexAlgorithms: opts.kexAlgorithms ?? CLIENT_ALGORITHMS.kexAlgorithms,
    hostKeyAlgorithms: opts.hostKeyAlgorithms ?? CLIENT_ALGORITHMS.hostKeyAlgorithms,
  };
  return {
    name: 'ssh',
    transport: 'tcp',
    defaultPorts: [22, 2222],
    recognizes: (banner) => banner.length >= 4 && banner.subarray(0, 4).toString('latin1') === 'SSH-',
    scan: (ctx) => scanSsh(ctx, offer),
  };
}

export const sshProbe: Probe = createSshProbe();

async function scanSsh(ctx: ProbeContext, offer: AlgorithmLists): Promise<ProbeResult> {
  const conn = await ctx.connect();
  try {
    return await speak(ctx, conn, offer);
  } finally {
    conn.close();
  }
}

async function speak(ctx: ProbeContext, conn: Conn, offer: AlgorithmLists): Promise<ProbeResult> {
  let idParse = parseIdent(conn.buffered);
  if (idParse.kind === 'need-more') {
    await conn.readUntil((b) => parseIdent(b).kind !== 'need-more');
    idParse = parseIdent(conn.buffered);
  }
  const firstBytes = Buffer.from(conn.buffered.subarray(0, RAW_CAP));
  if (idParse.kind !== 'ok') {
    if (!firstBytes.length) throw new ProbeError('io-timeout', 'no SSH identification');
    return { status: 'protocol-error', data: {}, raw: firstBytes, error: idParse.kind === 'error' ? idParse.reason : 'no complete SSH identification line in time' };
  }
  const id = idParse.value;
  const raw = Buffer.from(conn.buffered.subarray(0, Math.min(idParse.consumed, RAW_CAP)));
  conn.take(idParse.consumed);
  const data: SshData = { ident: id.ident, protoVersion: id.protoVersion, software: id.software };
  if (id.comment !== undefined) data.comment = id.comment;
  const done = (error?: string): ProbeResult => ({ status: 'success', protocol: 'ssh', data: data as Record<string, unknown>, raw, ...(error ? { error } : {}) });

  // SSH-1 only servers ("SSH-1.5-") speak a different packet format; the identification is all we record.
  if (id.protoVersion !== '2.0' && id.protoVersion !== '1.99') return done();

  await conn.write(encodeIdent('iotscope_0.1', ctx.userAgent));
  await conn.write(encodePacket(encodeKexInit(offer, randomBytes(16))));

  const kexPayload = await readPacket(conn, (t) => t === MSG_KEXINIT);
  if (typeof kexPayload === 'string') return done(kexPayload);
  const kex = parseKexInit(kexPayload);
  if (kex.kind === 'error') return done(`bad KEXINIT: ${kex.reason}`);
  data.kex = publicLists(kex.value);

  const method = negotiate(offer.kexAlgorithms, kex.value.kexAlgorithms);
  if (!method) return done('no key-exchange method in common with the server');
  if (!negotiate(offer.hostKeyAlgorithms, kex.value.hostKeyAlgorithms)) return done('no host-key algorithm in common with the server');
  const share = clientKeyShare(method);
  if (!share) return done(`key exchange ${method} is not available here`);
  await conn.write(encodePacket(encodeKexInitMessage(share.family, share.publicValue)));

  const replyPayload = await readPacket(conn, (t) => t === MSG_KEX_REPLY);
  if (typeof replyPayload === 'string') return done(replyPayload);
  const reply = parseKexReply(replyPayload);
  if (reply.kind === 'error') return done(`bad key-exchange reply: ${reply.reason}`);
  const key = describeHostKey(reply.value.hostKey);
  if (key.kind === 'error') return done(`unreadable host key: ${key.reason}`);
  data.hostKey = key.value;

  // Polite goodbye; the server may already be gone.
  await conn.write(encodePacket(encodeDisconnect(11, 'iotscope: host key recorded'))).catch(() => {});
  return done();
}

/** Next packet whose message type passes `want`, skipping a few others; a string says why none came. */
async function readPacket(conn: Conn, want: (type: number) => boolean): Promise<Buffer | string> {
  for (let skipped = 0; skipped <= MAX_SKIPPED_PACKETS; skipped++) {
    try {
      await conn.readUntil((b) => parsePacket(b).kind !== 'need-more');
    } catch (e) {
      return `no packet from the server: ${e instanceof Error ? e.message : String(e)}`;
    }
    const p = parsePacket(conn.buffered);
    if (p.kind === 'need-more') return 'the server stopped mid-packet';
    if (p.kind === 'error') return `malformed packet: ${p.reason}`;
    conn.take(p.consumed);
    const type = p.value[0] ?? -1;
    if (want(type)) return p.value;
    if (type === MSG_DISCONNECT) {
      const d = parseDisconnect(p.value);
      return d.kind === 'ok' ? `server disconnected (reason ${d.value.reason}): ${d.value.description}` : 'server disconnected';
    }
    if (type !== MSG_IGNORE && type !== MSG_DEBUG && type !== MSG_UNIMPLEMENTED && type < 20) return `unexpected message ${type}`;
  }
  return 'too many unexpected packets';
}

function publicLists(k: KexInit): NonNullable<SshData['kex']> {
  return {
    kexAlgorithms: k.kexAlgorithms,
    hostKeyAlgorithms: k.hostKeyAlgorithms,
    ciphersClientToServer: k.ciphersClientToServer,
    ciphersServerToClient: k.ciphersServerToClient,
    macsClientToServer: k.macsClientToServer,
    macsServerToClient: k.macsServerToClient,
    compression: k.compression,
  };
}
