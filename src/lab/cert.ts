// Stage: lab. Self-signed X.509 certificates for the emulated HTTPS and MQTT-over-TLS services, made at start in
// pure JavaScript: node:crypto makes the RSA key and the signature, a small DER writer builds the certificate,
// so a device shows the subject, validity and key size its profile gives (as embedded devices' own certs do).
import { generateKeyPair, randomBytes, sign, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import type { TlsSpec } from './profile.ts';

const generateKeyPairAsync = promisify(generateKeyPair);

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
}

const seq = (...c: Buffer[]) => tlv(0x30, ...c);
const set = (...c: Buffer[]) => tlv(0x31, ...c);

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const out = [parts[0]! * 40 + parts[1]!];
  for (const p of parts.slice(2)) {
    const chunk: number[] = [p & 0x7f];
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

/** A positive INTEGER from unsigned big-endian bytes. */
function uint(bytes: Buffer): Buffer {
  let b = bytes;
  while (b.length > 1 && b[0] === 0 && b[1]! < 0x80) b = b.subarray(1);
  if (b[0]! >= 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return tlv(0x02, b);
}

/** UTCTime before 2050, GeneralizedTime after, as RFC 5280 asks. */
function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(iso.slice(2), 'ascii')) : tlv(0x18, Buffer.from(iso, 'ascii'));
}

const NAME_OIDS: Record<string, string> = {
  C: '2.5.4.6',
  ST: '2.5.4.8',
  L: '2.5.4.7',
  O: '2.5.4.10',
  OU: '2.5.4.11',
  CN: '2.5.4.3',
  emailAddress: '1.2.840.113549.1.9.1',
};
const NAME_ORDER = ['C', 'ST', 'L', 'O', 'OU', 'CN', 'emailAddress'];

function name(subject: Record<string, string>): Buffer {
  const rdns = NAME_ORDER.filter((k) => subject[k] !== undefined).map((k) => {
    const value = Buffer.from(subject[k]!, 'utf8');
    // countryName and emailAddress have fixed string types; the rest are UTF8String
    const tag = k === 'C' ? 0x13 : k === 'emailAddress' ? 0x16 : 0x0c;
    return set(seq(oid(NAME_OIDS[k]!), tlv(tag, value)));
  });
  return seq(...rdns);
}

function subjectAltName(names: string[]): Buffer {
  const entries = names.map((n) => {
    const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(n);
    if (v4) return tlv(0x87, Buffer.from(v4.slice(1).map(Number)));
    return tlv(0x82, Buffer.from(n, 'ascii'));
  });
  return seq(oid('2.5.29.17'), tlv(0x04, seq(...entries)));
}

export interface SelfSignedCert {
  key: KeyObject;
  /** PEM text of key and certificate, as node:tls takes them */
  keyPem: string;
  certPem: string;
}

export async function makeSelfSignedCert(spec: TlsSpec, now = new Date()): Promise<SelfSignedCert> {
  const { privateKey, publicKey } = await generateKeyPairAsync('rsa', { modulusLength: spec.keyBits });
  const notBefore = spec.notBefore ? new Date(`${spec.notBefore}T00:00:00Z`) : new Date(now.getTime() - 86_400_000);
  const notAfter = spec.notAfter ? new Date(`${spec.notAfter}T00:00:00Z`) : new Date(now.getTime() + 10 * 365 * 86_400_000);
  const sigAlg = seq(oid('1.2.840.113549.1.1.11'), tlv(0x05));
  const serial = randomBytes(8);
  serial[0] = serial[0]! & 0x7f;
  const extensions = spec.subjectAltNames.length ? [tlv(0xa3, seq(subjectAltName(spec.subjectAltNames)))] : [];
  const tbs = seq(
    tlv(0xa0, tlv(0x02, Buffer.from([2]))), // v3
    uint(serial),
    sigAlg,
    name(spec.subject),
    seq(time(notBefore), time(notAfter)),
    name(spec.subject),
    publicKey.export({ type: 'spki', format: 'der' }),
    ...extensions,
  );
  const signature = sign('sha256', tbs, privateKey);
  const der = seq(tbs, sigAlg, tlv(0x03, Buffer.from([0]), signature));
  const b64 = der.toString('base64').replace(/.{1,64}/g, '$&\n');
  return {
    key: privateKey,
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    certPem: `-----BEGIN CERTIFICATE-----\n${b64}-----END CERTIFICATE-----\n`,
  };
}
