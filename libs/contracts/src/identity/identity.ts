/**
 * People act through the gateway. After verifying a person's OIDC token the gateway signs a
 * short-lived assertion (a compact JWS, EdDSA, `typ: dsg-assertion+jws`) carrying the person's
 * subject and product roles, and passes it with each call in the `Dsg-Assertion` header (NATS) or
 * metadata (gRPC). Services verify it against the gateway's published signing keys and refuse an
 * action whose role the assertion lacks.
 */
export const ROLES = ['auditor', 'privacy_officer', 'operator'] as const;
export type Role = (typeof ROLES)[number];

export const ASSERTION_TYPE = 'dsg-assertion+jws';
export const ASSERTION_ISSUER = 'dsg-gateway';

export interface AssertionClaims {
  iss: typeof ASSERTION_ISSUER;
  /** The one service the assertion is for; another service refuses it. */
  aud: string;
  /** The person's subject at the identity provider: an opaque id, never a name or e-mail. */
  sub: string;
  roles: Role[];
  iat: number;
  exp: number;
  /** A unique id: an HTTP route accepts each assertion once (see AssertionVerifier.verifyOnce). */
  jti?: string;
}

/** Who is acting, once an assertion has been verified. */
export interface Principal {
  subject: string;
  roles: Role[];
}
