// Stage: probes, SSH. The client's ephemeral public value for each key-exchange family the probe offers. The
// exchange is never completed (we only want the server's host key), so the private halves are thrown away.
import { createECDH, generateKeyPairSync, getDiffieHellman } from 'node:crypto';
import { type KexFamily, kexFamily } from './codec.ts';

/** Offered in this order; the server takes the first it also supports (RFC 4253 §7.1). Cheap methods first. */
export const KEX_METHODS = [
  'curve25519-sha256',
  'curve25519-sha256@libssh.org',
  'ecdh-sha2-nistp256',
  'ecdh-sha2-nistp384',
  'ecdh-sha2-nistp521',
  'diffie-hellman-group14-sha256',
  'diffie-hellman-group16-sha512',
  'diffie-hellman-group14-sha1',
  'diffie-hellman-group18-sha512',
  'diffie-hellman-group1-sha1',
] as const;

const ECDH_CURVES: Record<string, string> = {
  'ecdh-sha2-nistp256': 'prime256v1',
  'ecdh-sha2-nistp384': 'secp384r1',
  'ecdh-sha2-nistp521': 'secp521r1',
};

/** RFC 4253 §8.1 and RFC 8268: SSH group numbers are the Oakley/MODP groups of RFC 2409 and RFC 3526. */
const DH_GROUPS: Record<string, string> = { '1': 'modp2', '14': 'modp14', '16': 'modp16', '18': 'modp18' };

export function clientKeyShare(method: string): { family: KexFamily; publicValue: Buffer } | null {
  const family = kexFamily(method);
  if (family === 'x25519') {
    const { publicKey } = generateKeyPairSync('x25519');
    const x = publicKey.export({ format: 'jwk' }).x;
    return x ? { family, publicValue: Buffer.from(x, 'base64url') } : null;
  }
  if (family === 'ecdh') {
    const curve = ECDH_CURVES[method];
    if (!curve) return null;
    const ecdh = createECDH(curve);
    return { family, publicValue: ecdh.generateKeys() };
  }
  if (family === 'dh') {
    const group = DH_GROUPS[/group(\d+)-/.exec(method)?.[1] ?? ''];
    if (!group) return null;
    const dh = getDiffieHellman(group);
    return { family, publicValue: dh.generateKeys() };
  }
  return null;
}
