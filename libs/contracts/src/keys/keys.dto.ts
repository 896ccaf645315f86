/**
 * Public signing keys as a JWK set (RFC 7517, Ed25519 keys as RFC 8037 OKP). Every signature the
 * product makes names its key id; a key stays published after it is retired, so everything it
 * signed still verifies.
 */
export class PublicSigningKey {
  kid!: string;
  kty!: 'OKP';
  crv!: 'Ed25519';
  /** Base64url public key. */
  x!: string;
  alg!: 'EdDSA';
  use!: 'sig';
  /** The service that signs with it. */
  service!: string;
  status!: 'active' | 'retired';
  createdAt!: string;
  retiredAt?: string;
}

export class SigningKeysRequest {}

export class SigningKeysReply {
  keys!: PublicSigningKey[];
}

/** A detached signature: which key, which algorithm, and the signature bytes (base64url). */
export interface Signature {
  kid: string;
  alg: 'EdDSA';
  sig: string;
}
