// Stage: imports (foreign files → observations). Maps the TLS records of foreign scanners (ZGrab2's handshake
// log with zcrypto certificates, Shodan's ssl block) onto iotscope's TlsInfo/CertificateInfo, so TLS checks read
// imported and scanned services alike.
import type { CertificateInfo, TlsInfo } from '../scan/conn.ts';
import { int, isObject, isoTime, text } from './importer.ts';

/** zcrypto distinguished-name keys onto the short names Node (and so our probes) use. */
const DN_KEYS: Record<string, string> = {
  common_name: 'CN',
  organization: 'O',
  organizational_unit: 'OU',
  country: 'C',
  province: 'ST',
  locality: 'L',
  street_address: 'street',
  postal_code: 'postalCode',
  serial_number: 'serialNumber',
  email_address: 'emailAddress',
  domain_component: 'DC',
};

function dnFromZcrypto(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isObject(v)) return out;
  for (const [k, val] of Object.entries(v)) {
    const name = DN_KEYS[k] ?? k;
    const s = Array.isArray(val) ? val.map((x) => String(x)).join(', ') : typeof val === 'string' ? val : undefined;
    if (s !== undefined) out[name] = s.slice(0, 512);
  }
  return out;
}

function dnFromShodan(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isObject(v)) return out;
  for (const [k, val] of Object.entries(v)) if (typeof val === 'string' || typeof val === 'number') out[k] = String(val).slice(0, 512);
  return out;
}

function sameDn(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length > 0 && ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

/** ZGrab2 `handshake_log` (tls module result, or http's request.tls_log.handshake_log). */
export function tlsFromZgrab(handshake: unknown): TlsInfo | undefined {
  if (!isObject(handshake)) return undefined;
  const hello = isObject(handshake.server_hello) ? handshake.server_hello : {};
  const version = isObject(hello.version) ? text(hello.version.name, 32) : undefined;
  const cipher = isObject(hello.cipher_suite) ? text(hello.cipher_suite.name, 128) : undefined;
  const certs = isObject(handshake.server_certificates) ? handshake.server_certificates : {};
  const leaf = isObject(certs.certificate) ? certs.certificate : null;
  const parsed = leaf && isObject(leaf.parsed) ? leaf.parsed : null;
  let certificate: CertificateInfo | null = null;
  if (parsed) {
    const subject = dnFromZcrypto(parsed.subject);
    const issuer = dnFromZcrypto(parsed.issuer);
    const validity = isObject(parsed.validity) ? parsed.validity : {};
    const ski = isObject(parsed.subject_key_info) ? parsed.subject_key_info : {};
    const alg = isObject(ski.key_algorithm) ? text(ski.key_algorithm.name, 32) : undefined;
    let bits: number | undefined;
    for (const k of ['rsa_public_key', 'ecdsa_public_key', 'dsa_public_key']) {
      const pk = ski[k];
      if (isObject(pk)) bits = int(pk.length) ?? (isObject(pk) && typeof pk.curve === 'string' ? curveBits(pk.curve) : undefined);
    }
    const ext = isObject(parsed.extensions) ? parsed.extensions : {};
    const sanExt = isObject(ext.subject_alt_name) ? ext.subject_alt_name : {};
    const san = [...(Array.isArray(sanExt.dns_names) ? sanExt.dns_names : []), ...(Array.isArray(sanExt.ip_addresses) ? sanExt.ip_addresses : [])]
      .filter((x): x is string => typeof x === 'string')
      .slice(0, 100)
      .map((x) => x.slice(0, 256));
    const sig = isObject(parsed.signature) ? parsed.signature : {};
    certificate = {
      subject,
      issuer,
      subjectAltNames: san,
      notBefore: isoTime(validity.start) ?? null,
      notAfter: isoTime(validity.end) ?? null,
      serialNumber: text(parsed.serial_number, 128) ?? null,
      selfSigned: typeof sig.self_signed === 'boolean' ? sig.self_signed : sameDn(subject, issuer),
      keyType: alg ?? null,
      keyBits: bits ?? null,
      sha256: text(parsed.fingerprint_sha256, 64) ?? null,
      sha1: text(parsed.fingerprint_sha1, 40) ?? null,
      publicKeySha256: text(parsed.spki_subject_fingerprint, 64) ?? null,
    };
  }
  const chain = Array.isArray(certs.chain) ? certs.chain.length : 0;
  return { version: version ?? null, cipher: cipher ?? null, alpn: text(hello.alpn_protocol, 64) ?? null, certificate, chainLength: Math.min((leaf ? 1 : 0) + chain, 10) };
}

function curveBits(curve: string): number | undefined {
  const m = /(\d{3})/.exec(curve);
  return m ? Number(m[1]) : undefined;
}

/** Shodan's "20250101000000Z" (GeneralizedTime) → ISO. */
function generalizedTime(v: unknown): string | null {
  if (typeof v !== 'string') return null;
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(v);
  if (!m) return isoTime(v) ?? null;
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.000Z`;
}

/** Shodan banner `ssl` block. */
export function tlsFromShodan(ssl: unknown): TlsInfo | undefined {
  if (!isObject(ssl)) return undefined;
  const cipher = isObject(ssl.cipher) ? ssl.cipher : {};
  const cert = isObject(ssl.cert) ? ssl.cert : null;
  let certificate: CertificateInfo | null = null;
  if (cert) {
    const subject = dnFromShodan(cert.subject);
    const issuer = dnFromShodan(cert.issuer);
    const pubkey = isObject(cert.pubkey) ? cert.pubkey : {};
    const fp = isObject(cert.fingerprint) ? cert.fingerprint : {};
    certificate = {
      subject,
      issuer,
      subjectAltNames: [],
      notBefore: generalizedTime(cert.issued),
      notAfter: generalizedTime(cert.expires),
      serialNumber: cert.serial !== undefined && cert.serial !== null ? String(cert.serial).slice(0, 128) : null,
      selfSigned: sameDn(subject, issuer),
      keyType: text(pubkey.type, 32) ?? null,
      keyBits: int(pubkey.bits) ?? null,
      sha256: text(fp.sha256, 64) ?? null,
      sha1: text(fp.sha1, 40) ?? null,
      publicKeySha256: null,
    };
  }
  // Shodan lists every version it tried; the accepted ones carry no "-" prefix
  const versions = Array.isArray(ssl.versions) ? ssl.versions.filter((v): v is string => typeof v === 'string' && !v.startsWith('-')) : [];
  const version = versions.length ? versions[versions.length - 1]! : (text(cipher.version, 32) ?? null);
  return { version, cipher: text(cipher.name, 128) ?? null, alpn: Array.isArray(ssl.alpn) && typeof ssl.alpn[0] === 'string' ? ssl.alpn[0].slice(0, 64) : null, certificate, chainLength: Array.isArray(ssl.chain) ? Math.min(ssl.chain.length, 10) : certificate ? 1 : 0 };
}
