// Stage: assess (credential audit, wire). One login attempt per protocol, spoken over connections from the
// ProbeContext (so the scope guard and the rate limiter see every one) with the probes' own codecs. An attempt says
// accepted, rejected, or that the service needs no credentials at all; anything else throws and ends the audit of
// that service. Nothing here logs or returns a password.
import { createHash, randomBytes } from 'node:crypto';
import { Duplex } from 'node:stream';
import { Client as SshClient } from 'ssh2';
import type { Conn } from '../../scan/conn.ts';
import { type ProbeContext, ProbeError } from '../../scan/probe.ts';
import { parseChallenges, parseHead, safeRequestPath, hostHeader } from '../../probes/http/codec.ts';
import { decodePacket, encodeRemainingLength, MQTT_V311, PACKET, parseConnack } from '../../probes/mqtt/codec.ts';
import { encodeRequest, parseResponse as parseRtsp } from '../../probes/rtsp/codec.ts';
import { decodeMessage, encodeGetRequest, SNMP_V2C, SYSTEM_OIDS } from '../../probes/snmp/codec.ts';
import { detectPrompts, Negotiator, parseTelnet } from '../../probes/telnet/codec.ts';
import { parseReply } from '../../probes/ftp/codec.ts';
import { formAttempt } from './form.ts';

export type AttemptOutcome = 'accepted' | 'rejected' | 'no-auth';

export interface Credential {
  user: string;
  password: string;
}

/** Where to knock: the service and what the scan learnt about it (RTSP URL, HTTP path and scheme, TLS). */
export interface AuditTarget {
  ip: string;
  port: number;
  protocol: string;
  tls?: boolean;
  /** HTTP path to request; RTSP URL to DESCRIBE */
  path?: string;
  /** HTTP: the page holds a login form (the attempt submits it) rather than a Basic/Digest challenge */
  form?: boolean;
}

/** Per-service state the audit keeps across its attempts: whether this one is the negative control, and a memo
 * for attempts that judge a pair against the control's answer (login forms). */
export interface AttemptSession {
  negativeControl: boolean;
  memo: Record<string, unknown>;
}

export type Attempt = (ctx: ProbeContext, target: AuditTarget, cred: Credential | null, session?: AttemptSession) => Promise<AttemptOutcome>;

/** A user name and password nobody sets: the negative control. */
export function randomCredential(): Credential {
  return { user: `iotscope-${randomBytes(4).toString('hex')}`, password: randomBytes(12).toString('base64url') };
}

// ─── Telnet ───

async function telnetRead(conn: Conn, state: { text: string; rest: Buffer; neg: Negotiator }, stop: (text: string) => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      await conn.readUntil((b) => b.length > 0, deadline - Date.now());
    } catch {
      return;
    }
    const parsed = parseTelnet(Buffer.concat([state.rest, conn.take()]));
    state.rest = parsed.rest.length > 1024 ? Buffer.alloc(0) : parsed.rest;
    for (const ev of parsed.events) {
      if (ev.kind !== 'option') continue;
      const answer = state.neg.answer(ev.verb, ev.option);
      if (answer.length) await conn.write(answer);
    }
    state.text = (state.text + parsed.text.toString('latin1')).slice(-4096);
    if (stop(state.text) || conn.ended) return;
  }
}

const TELNET_FAILED = /(?:incorrect|invalid|fail|denied|wrong|bad password)/i;

const telnetAttempt: Attempt = async (ctx, _t, cred) => {
  const conn = await ctx.connect();
  try {
    const state = { text: '', rest: Buffer.alloc(0), neg: new Negotiator() };
    const prompt = () => detectPrompts(state.text);
    await telnetRead(conn, state, () => prompt().loginPrompt || prompt().shellPrompt || prompt().passwordPrompt, ctx.timeoutMs);
    if (prompt().shellPrompt) return 'no-auth';
    if (!cred) throw new ProbeError('application-error', 'telnet needs a credential');
    if (prompt().loginPrompt) {
      state.text = '';
      await conn.write(`${cred.user}\r\n`);
      await telnetRead(conn, state, () => prompt().passwordPrompt || prompt().shellPrompt, ctx.timeoutMs);
    }
    if (prompt().shellPrompt) return 'no-auth';
    if (!prompt().passwordPrompt) throw new ProbeError('protocol-error', 'no password prompt');
    state.text = '';
    await conn.write(`${cred.password}\r\n`);
    // BusyBox login waits about 3 s before saying "Login incorrect"; a shell prompt comes at once.
    await telnetRead(conn, state, (text) => { const p = detectPrompts(text); return p.shellPrompt || p.loginPrompt || TELNET_FAILED.test(text); }, 2 * ctx.timeoutMs);
    const p = prompt();
    if (p.shellPrompt && !TELNET_FAILED.test(state.text)) return 'accepted';
    if (p.loginPrompt || p.passwordPrompt || TELNET_FAILED.test(state.text) || conn.ended) return 'rejected';
    throw new ProbeError('io-timeout', 'no answer to the password');
  } finally {
    conn.close();
  }
};

// ─── SSH (ssh2 over the scoped connection) ───

/** A stream over a Conn, so ssh2 speaks through the scoped dialer instead of opening its own socket. */
function connStream(conn: Conn, idleMs: number): Duplex {
  let pumping = false;
  const stream: Duplex = new Duplex({
    write(chunk: Buffer, _enc, cb) {
      conn.write(chunk).then(() => cb(), cb);
    },
    read() {
      if (pumping) return;
      pumping = true;
      void (async () => {
        for (;;) {
          try {
            await conn.readUntil((b) => b.length > 0, idleMs);
          } catch {
            stream.push(null);
            return;
          }
          const data = conn.take();
          if (!data.length) {
            stream.push(null);
            return;
          }
          if (!stream.push(data)) {
            pumping = false;
            return;
          }
        }
      })();
    },
    destroy(err, cb) {
      conn.close();
      cb(err);
    },
  });
  return stream;
}

const sshAttempt: Attempt = async (ctx, _t, cred) => {
  if (!cred) throw new ProbeError('application-error', 'ssh needs a credential');
  const conn = await ctx.connect();
  const sock = connStream(conn, 2 * ctx.timeoutMs);
  const client = new SshClient();
  try {
    return await new Promise<AttemptOutcome>((resolve, reject) => {
      client.on('ready', () => resolve('accepted'));
      client.on('error', (e: Error & { level?: string }) => {
        if (e.level === 'client-authentication') resolve('rejected');
        else reject(new ProbeError('protocol-error', `ssh: ${e.message.replace(cred.password, '…')}`));
      });
      client.on('keyboard-interactive', (_n, _i, _l, prompts, finish) => finish(prompts.map(() => cred.password)));
      client.connect({ sock, username: cred.user, password: cred.password, tryKeyboard: true, readyTimeout: 3 * ctx.timeoutMs, hostVerifier: () => true });
    });
  } finally {
    client.end();
    sock.destroy();
  }
};

// ─── FTP ───

async function ftpReply(conn: Conn, ms: number): Promise<number> {
  const buf = await conn.readUntil((b) => parseReply(b).kind !== 'need-more', ms);
  const r = parseReply(buf);
  if (r.kind !== 'ok') throw new ProbeError('protocol-error', 'not an FTP reply');
  conn.take(r.consumed);
  return r.value.code;
}

const ftpAttempt: Attempt = async (ctx, _t, cred) => {
  if (!cred) throw new ProbeError('application-error', 'ftp needs a credential');
  const conn = await ctx.connect();
  try {
    if ((await ftpReply(conn, ctx.timeoutMs)) !== 220) throw new ProbeError('application-error', 'FTP greeting is not 220');
    await conn.write(`USER ${cred.user.replace(/[\r\n]/g, '')}\r\n`);
    let code = await ftpReply(conn, ctx.timeoutMs);
    if (code === 230) return 'no-auth';
    if (code === 331 || code === 332) {
      await conn.write(`PASS ${cred.password.replace(/[\r\n]/g, '')}\r\n`);
      code = await ftpReply(conn, 2 * ctx.timeoutMs);
    }
    if (code === 230 || code === 202) return 'accepted';
    if (code >= 400) return 'rejected';
    throw new ProbeError('protocol-error', `unexpected FTP reply ${code}`);
  } finally {
    conn.close();
  }
};

// ─── HTTP and RTSP authentication headers ───

const md5 = (s: string) => createHash('md5').update(s, 'utf8').digest('hex');

/** The Authorization value answering a Basic or Digest challenge (RFC 7617, RFC 7616 with MD5 and qop=auth). */
export function authorization(challengeHeader: string | undefined, method: string, uri: string, cred: Credential): string {
  const challenges = parseChallenges(challengeHeader ?? '');
  const digest = challenges.find((c) => c.scheme.toLowerCase() === 'digest');
  if (digest) {
    const realm = digest.params.realm ?? '';
    const nonce = digest.params.nonce ?? '';
    const ha1 = md5(`${cred.user}:${realm}:${cred.password}`);
    const ha2 = md5(`${method}:${uri}`);
    const qop = (digest.params.qop ?? '').split(',').map((q) => q.trim()).includes('auth') ? 'auth' : null;
    const cnonce = randomBytes(8).toString('hex');
    const response = qop ? md5(`${ha1}:${nonce}:00000001:${cnonce}:${qop}:${ha2}`) : md5(`${ha1}:${nonce}:${ha2}`);
    const q = (s: string) => `"${s.replace(/["\\]/g, '')}"`;
    return [`Digest username=${q(cred.user)}`, `realm=${q(realm)}`, `nonce=${q(nonce)}`, `uri=${q(uri)}`, `response=${q(response)}`, ...(qop ? [`qop=${qop}`, 'nc=00000001', `cnonce=${q(cnonce)}`] : []), ...(digest.params.opaque ? [`opaque=${q(digest.params.opaque)}`] : []), 'algorithm=MD5'].join(', ');
  }
  return `Basic ${Buffer.from(`${cred.user}:${cred.password}`, 'utf8').toString('base64')}`;
}

async function httpStatus(ctx: ProbeContext, t: AuditTarget, auth: string | null): Promise<{ status: number; challenge?: string }> {
  const conn = await ctx.connect({ tls: t.tls ? {} : undefined });
  try {
    const path = safeRequestPath(t.path ?? '/');
    const lines = [`GET ${path} HTTP/1.1`, `Host: ${hostHeader({ ip: t.ip, port: t.port, tls: !!t.tls })}`, `User-Agent: ${ctx.userAgent}`, ...(auth ? [`Authorization: ${auth}`] : []), 'Connection: close', '', ''];
    await conn.write(Buffer.from(lines.join('\r\n'), 'latin1'));
    const buf = await conn.readUntil((b) => b.includes('\r\n\r\n'), ctx.timeoutMs);
    const head = parseHead(buf, { endOfInput: true });
    return { status: head.statusCode, challenge: head.headers['www-authenticate'] };
  } finally {
    conn.close();
  }
}

const httpAttempt: Attempt = async (ctx, t, cred) => {
  const plain = await httpStatus(ctx, t, null);
  if (plain.status !== 401) return plain.status < 400 ? 'no-auth' : 'rejected';
  if (!cred) return 'rejected';
  const path = safeRequestPath(t.path ?? '/');
  const r = await httpStatus(ctx, t, authorization(plain.challenge, 'GET', path, cred));
  if (r.status === 401 || r.status === 403) return 'rejected';
  if (r.status >= 200 && r.status < 400) return 'accepted';
  throw new ProbeError('application-error', `HTTP ${r.status} to a login`);
};

const rtspAttempt: Attempt = async (ctx, t, cred) => {
  const url = t.path ?? `rtsp://${t.ip}:${t.port}/`;
  const conn = await ctx.connect();
  try {
    let cseq = 1;
    const describe = async (auth: string | null) => {
      await conn.write(encodeRequest('DESCRIBE', url, cseq++, [['User-Agent', ctx.userAgent], ['Accept', 'application/sdp'], ...(auth ? [['Authorization', auth] as const] : [])]));
      const buf = await conn.readUntil((b) => parseRtsp(b).kind !== 'need-more', ctx.timeoutMs);
      const r = parseRtsp(buf);
      if (r.kind !== 'ok') throw new ProbeError('protocol-error', 'not an RTSP answer');
      conn.take(r.consumed);
      return r.value;
    };
    const plain = await describe(null);
    if (plain.statusCode === 200) return 'no-auth';
    if (plain.statusCode !== 401 || !cred) return 'rejected';
    const r = await describe(authorization(plain.headers['www-authenticate'], 'DESCRIBE', url, cred));
    if (r.statusCode === 200) return 'accepted';
    if (r.statusCode === 401 || r.statusCode === 403) return 'rejected';
    throw new ProbeError('application-error', `RTSP ${r.statusCode} to a login`);
  } finally {
    conn.close();
  }
};

// ─── MQTT ───

function mqttString(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(Math.min(b.length, 0xffff));
  return Buffer.concat([len, b.subarray(0, 0xffff)]);
}

/** MQTT 3.1.1 CONNECT with user name and password (the probe's encoder sends none). */
export function encodeConnectWithLogin(clientId: string, cred: Credential): Buffer {
  const flags = 0x02 | 0x80 | 0x40; // clean session, user name, password
  const variable = Buffer.concat([mqttString('MQTT'), Buffer.from([MQTT_V311, flags, 0, 30])]);
  const payload = Buffer.concat([mqttString(clientId), mqttString(cred.user), mqttString(cred.password)]);
  const rest = Buffer.concat([variable, payload]);
  return Buffer.concat([Buffer.from([PACKET.CONNECT << 4]), encodeRemainingLength(rest.length), rest]);
}

const mqttAttempt: Attempt = async (ctx, t, cred) => {
  if (!cred) throw new ProbeError('application-error', 'mqtt needs a credential');
  const conn = await ctx.connect({ tls: t.tls ? {} : undefined });
  try {
    await conn.write(encodeConnectWithLogin(`iotscope-${randomBytes(3).toString('hex')}`, cred));
    const buf = await conn.readUntil((b) => decodePacket(b).kind !== 'need-more', ctx.timeoutMs);
    const d = decodePacket(buf);
    if (d.kind !== 'ok') throw new ProbeError('protocol-error', 'no CONNACK');
    const ack = parseConnack(d.packet);
    if ('error' in ack) throw new ProbeError('protocol-error', ack.error);
    if (ack.code === 0) {
      await conn.write(Buffer.from([PACKET.DISCONNECT << 4, 0])).catch(() => {});
      return 'accepted';
    }
    // 4 bad user name or password, 5 not authorised (v3.1.1)
    if (ack.code === 4 || ack.code === 5) return 'rejected';
    throw new ProbeError('application-error', `CONNACK code ${ack.code}`);
  } finally {
    conn.close();
  }
};

// ─── SNMP communities ───

const snmpAttempt: Attempt = async (ctx, _t, cred) => {
  if (!cred) throw new ProbeError('application-error', 'snmp needs a community');
  const ch = await ctx.udp();
  try {
    const requestId = randomBytes(4).readUInt32BE() & 0x7fffffff;
    const req = encodeGetRequest({ version: SNMP_V2C, community: cred.password, requestId, oids: [SYSTEM_OIDS.sysDescr] });
    try {
      await ch.request(req, { accept: (b) => { const m = decodeMessage(b); return m.ok && m.message.requestId === requestId; }, retries: 1, timeoutMs: ctx.timeoutMs });
      return 'accepted';
    } catch (e) {
      // Agents ignore a wrong community: silence is the rejection.
      if (e instanceof ProbeError && e.status === 'io-timeout') return 'rejected';
      throw e;
    }
  } finally {
    ch.close();
  }
};

export const ATTEMPTS: Record<string, Attempt> = {
  telnet: telnetAttempt,
  ssh: sshAttempt,
  ftp: ftpAttempt,
  http: httpAttempt,
  https: httpAttempt,
  'http-form': formAttempt,
  rtsp: rtspAttempt,
  mqtt: mqttAttempt,
  mqtts: mqttAttempt,
  snmp: snmpAttempt,
};
