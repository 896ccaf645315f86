import { createPublicKey, verify } from 'node:crypto';
import type { PublicSigningKey } from './keys.dto';

/** What a verifier needs of a published key (SigningKeysReply, or a saved copy of it). */
export type KeyLike = Pick<PublicSigningKey, 'kid' | 'kty' | 'crv' | 'x'> & { service?: string };

/**
 * True only for an Ed25519 signature (base64url) over exactly `message` by the published key
 * named `kid`. Offline: the keys are given, nothing is fetched.
 */
export function signedBy(
  message: string,
  kid: string,
  sig: string,
  keys: readonly KeyLike[],
): boolean {
  const key = keys.find((k) => k.kid === kid);
  if (!key || typeof sig !== 'string') return false;
  try {
    const publicKey = createPublicKey({
      key: { kty: key.kty, crv: key.crv, x: key.x },
      format: 'jwk',
    });
    return verify(null, Buffer.from(message), publicKey, Buffer.from(sig, 'base64url'));
  } catch {
    return false;
  }
}
