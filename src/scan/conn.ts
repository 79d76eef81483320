// Stage: scan engine. A TCP (optionally TLS) connection as probes see it: a byte buffer with bounded reads.
// Every read has a timeout, every response a byte cap, so a hostile or broken service can neither hang a probe
// nor make it hold unbounded memory.
import net from 'node:net';
import tls from 'node:tls';
import { X509Certificate, createHash } from 'node:crypto';
import { ProbeError } from './probe.ts';

export interface TlsDialOptions {
  servername?: string;
  /** ALPN protocols to offer */
  alpn?: string[];
}

export interface TlsInfo {
  version: string | null;
  cipher: string | null;
  alpn: string | null;
  certificate: CertificateInfo | null;
  /** certificates in the chain as sent (leaf first), capped at 10 */
  chainLength: number;
}

export interface CertificateInfo {
  subject: Record<string, string>;
  issuer: Record<string, string>;
  subjectAltNames: string[];
  notBefore: string | null;
  notAfter: string | null;
  serialNumber: string | null;
  selfSigned: boolean;
  keyType: string | null;
  keyBits: number | null;
  sha256: string | null;
  sha1: string | null;
  /** SHA-256 of the public key (hex), to spot the same key on many devices */
  publicKeySha256: string | null;
}

export interface ConnLimits {
  timeoutMs: number;
  maxBytes: number;
  signal?: AbortSignal;
}

export class Conn {
  private chunks: Buffer[] = [];
  private size = 0;
  private waiters: (() => void)[] = [];
  private endedFlag = false;
  private errorValue: unknown = null;
  truncated = false;
  tlsInfo: TlsInfo | null = null;

  constructor(
    private socket: net.Socket,
    readonly remote: { ip: string; port: number },
    private limits: ConnLimits,
  ) {
    this.attach(socket);
  }

  private attach(socket: net.Socket): void {
    socket.on('data', (d: Buffer) => {
      if (this.size >= this.limits.maxBytes) return;
      const room = this.limits.maxBytes - this.size;
      const part = d.length > room ? d.subarray(0, room) : d;
      this.chunks.push(part);
      this.size += part.length;
      if (d.length > room) {
        this.truncated = true;
        socket.destroy();
      }
      this.wake();
    });
    socket.on('end', () => {
      this.endedFlag = true;
      this.wake();
    });
    socket.on('close', () => {
      this.endedFlag = true;
      this.wake();
    });
    socket.on('error', (e) => {
      this.errorValue = e;
      this.endedFlag = true;
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Everything received and not yet taken. */
  get buffered(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  /** True once the peer closed, reset, or the byte cap was hit. */
  get ended(): boolean {
    return this.endedFlag;
  }

  /** Remove and return the first n buffered bytes (all of them without n). */
  take(n?: number): Buffer {
    const all = this.buffered;
    const k = n === undefined ? all.length : Math.min(n, all.length);
    const head = all.subarray(0, k);
    const rest = all.subarray(k);
    this.chunks = rest.length ? [rest] : [];
    this.size = rest.length;
    return Buffer.from(head);
  }

  async write(data: Uint8Array | string): Promise<void> {
    if (this.socket.destroyed) throw new ProbeError('connection-closed', 'connection already closed');
    await new Promise<void>((resolve, reject) => {
      this.socket.write(data, (err) => (err ? reject(err) : resolve()));
    });
  }

  /**
   * Wait until `done(buffered)` holds. Resolves with the buffer when it does, or when the peer closes or the byte
   * cap is reached with something buffered (the caller re-checks). Rejects with io-timeout when the time runs out
   * with nothing buffered (with something buffered it resolves with the partial data), and with connection-closed
   * when the peer closes having sent nothing.
   */
  async readUntil(done: (buf: Buffer) => boolean, timeoutMs = this.limits.timeoutMs): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const buf = this.buffered;
      if (done(buf)) return buf;
      if (this.endedFlag) {
        if (buf.length) return buf;
        if (this.errorValue) throw this.errorValue;
        throw new ProbeError('connection-closed', 'peer closed the connection without sending anything');
      }
      const left = deadline - Date.now();
      if (left <= 0 || this.limits.signal?.aborted) {
        if (buf.length) return buf;
        throw new ProbeError('io-timeout', `no answer within ${timeoutMs} ms`);
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Read whatever arrives within `ms` (no error when nothing does). */
  async readFor(ms: number): Promise<Buffer> {
    try {
      return await this.readUntil(() => false, ms);
    } catch (e) {
      if (e instanceof ProbeError) return this.buffered;
      throw e;
    }
  }

  /** Read at least n bytes. */
  readBytes(n: number, timeoutMs?: number): Promise<Buffer> {
    return this.readUntil((b) => b.length >= n, timeoutMs);
  }

  /** Upgrade this plain connection to TLS (STARTTLS-style); records the handshake facts in tlsInfo. */
  async startTls(opts: TlsDialOptions = {}): Promise<TlsInfo> {
    const plain = this.socket;
    plain.removeAllListeners('data');
    this.chunks = [];
    this.size = 0;
    const secure = await handshake({ socket: plain }, opts, this.limits.timeoutMs);
    this.socket = secure;
    this.attach(secure);
    this.tlsInfo = describeTls(secure);
    return this.tlsInfo;
  }

  close(): void {
    this.socket.destroy();
  }
}

function handshake(base: tls.ConnectionOptions, opts: TlsDialOptions, timeoutMs: number): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({
      ...base,
      // A scanner must see every certificate, including the broken ones: it records validity, it does not trust.
      rejectUnauthorized: false,
      servername: opts.servername && !net.isIP(opts.servername) ? opts.servername : undefined,
      ALPNProtocols: opts.alpn,
      minVersion: 'TLSv1',
      // Old devices offer only legacy suites; level 0 lets the handshake succeed so the weakness can be recorded.
      ciphers: 'ALL:@SECLEVEL=0',
    });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new ProbeError('io-timeout', `TLS handshake did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    s.once('secureConnect', () => {
      clearTimeout(timer);
      resolve(s);
    });
    s.once('error', (e) => {
      clearTimeout(timer);
      s.destroy();
      reject(new ProbeError('handshake-error', `TLS handshake failed: ${(e as Error).message}`));
    });
  });
}

function nameRecord(x: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!x || typeof x !== 'object') return out;
  for (const [k, v] of Object.entries(x as Record<string, unknown>)) out[k] = Array.isArray(v) ? v.join(', ') : String(v);
  return out;
}

export function describeTls(s: tls.TLSSocket): TlsInfo {
  const cipher = s.getCipher();
  const cert = s.getPeerCertificate(true) as tls.DetailedPeerCertificate | Record<string, never>;
  let certificate: CertificateInfo | null = null;
  let chainLength = 0;
  if (cert && 'raw' in cert && cert.raw) {
    let c: tls.DetailedPeerCertificate | undefined = cert as tls.DetailedPeerCertificate;
    const seen = new Set<string>();
    while (c && !seen.has(c.fingerprint256) && chainLength < 10) {
      seen.add(c.fingerprint256);
      chainLength++;
      c = c.issuerCertificate;
    }
    const x = new X509Certificate(cert.raw);
    const subject = nameRecord(cert.subject);
    const issuer = nameRecord(cert.issuer);
    const pub = x.publicKey;
    const keyType = pub.asymmetricKeyType ?? null;
    const det = pub.asymmetricKeyDetails ?? {};
    const keyBits = det.modulusLength ?? (keyType === 'ec' ? curveBits(det.namedCurve) : null) ?? null;
    certificate = {
      subject,
      issuer,
      subjectAltNames: (cert.subjectaltname ?? '')
        .split(/,\s*/)
        .filter(Boolean),
      notBefore: cert.valid_from ? new Date(cert.valid_from).toISOString() : null,
      notAfter: cert.valid_to ? new Date(cert.valid_to).toISOString() : null,
      serialNumber: cert.serialNumber ?? null,
      selfSigned: x.checkIssued(x) && safeVerify(x),
      keyType,
      keyBits,
      sha256: cert.fingerprint256?.replace(/:/g, '').toLowerCase() ?? null,
      sha1: cert.fingerprint?.replace(/:/g, '').toLowerCase() ?? null,
      publicKeySha256: sha256Hex(pub.export({ type: 'spki', format: 'der' })),
    };
  }
  return {
    version: s.getProtocol() ?? null,
    cipher: cipher?.standardName ?? cipher?.name ?? null,
    alpn: typeof s.alpnProtocol === 'string' ? s.alpnProtocol : null,
    certificate,
    chainLength,
  };
}

function safeVerify(x: X509Certificate): boolean {
  try {
    return x.verify(x.publicKey);
  } catch {
    return false;
  }
}
function curveBits(curve: string | undefined): number | null {
  if (!curve) return null;
  const m = /(\d{3})/.exec(curve);
  return m ? Number(m[1]) : null;
}
function sha256Hex(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/** Open a TCP connection (TLS when asked) with a connect timeout. The address must already be scope-checked.
 *  A cancel does not interrupt a connect in progress: it ends within the connect timeout anyway, and one abort
 *  listener per dial costs more than the dial itself on a fast network. */
export function dialTcp(ip: string, port: number, limits: ConnLimits & { connectTimeoutMs?: number }, tlsOpts?: TlsDialOptions | null): Promise<Conn> {
  const connectTimeout = limits.connectTimeoutMs ?? limits.timeoutMs;
  if (limits.signal?.aborted) return Promise.reject(new ProbeError('io-timeout', 'scan cancelled'));
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: ip, port, noDelay: true });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new ProbeError('connection-timeout', `no TCP answer from ${ip}:${port} within ${connectTimeout} ms`));
    }, connectTimeout);
    sock.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    sock.once('connect', async () => {
      clearTimeout(timer);
      sock.removeAllListeners('error');
      if (!tlsOpts) {
        resolve(new Conn(sock, { ip, port }, limits));
        return;
      }
      try {
        const secure = await handshake({ socket: sock }, tlsOpts, limits.timeoutMs);
        const c = new Conn(secure, { ip, port }, limits);
        c.tlsInfo = describeTls(secure);
        resolve(c);
      } catch (e) {
        sock.destroy();
        reject(e);
      }
    });
  });
}
