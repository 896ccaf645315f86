import {
  ASSERTION_ISSUER,
  ASSERTION_TYPE,
  type AssertionClaims,
  DsgError,
  ErrorCodes,
  type Principal,
  type PublicSigningKey,
  type Role,
  ROLES,
  type ServiceName,
} from '@dsg/contracts';
import { createPublicKey, type KeyObject, randomUUID, verify } from 'node:crypto';
import type { KeyRing } from '../keys/key-ring';

/** Allowed clock difference between gateway and service. */
const CLOCK_SKEW_SECONDS = 5;
/** Unknown key ids trigger a re-fetch of the gateway's keys, at most this often. */
const REFETCH_INTERVAL_MS = 5000;

/** The gateway's side: a short-lived signed statement of who is acting and with which roles. */
export function signAssertion(
  ring: KeyRing,
  principal: Principal,
  audience: ServiceName,
  ttlSeconds: number,
  now: number = Date.now(),
): string {
  const iat = Math.floor(now / 1000);
  const claims: AssertionClaims = {
    iss: ASSERTION_ISSUER,
    aud: audience,
    sub: principal.subject,
    roles: principal.roles,
    iat,
    exp: iat + ttlSeconds,
    jti: randomUUID(),
  };
  return ring.signCompact(ASSERTION_TYPE, claims);
}

/**
 * A service's side: checks an assertion against the gateway's published keys (fetched through
 * `fetchKeys`, cached by key id, re-fetched when an unknown kid appears), its type, issuer and
 * expiry. Any failure is REQUEST.UNAUTHENTICATED, with a reason but never the token.
 */
export class AssertionVerifier {
  private keys = new Map<string, KeyObject>();
  private lastFetch = 0;
  private fetching?: Promise<void>;
  /** Assertions HTTP routes took (jti → exp, epoch seconds), until they expire. */
  private readonly used = new Map<string, number>();

  constructor(
    /** The service doing the verifying: an assertion for another service is refused. */
    private readonly audience: ServiceName,
    private readonly fetchKeys: () => Promise<PublicSigningKey[]>,
  ) {}

  async verify(token: string, now: number = Date.now()): Promise<Principal> {
    return (await this.check(token, now)).principal;
  }

  private async check(
    token: string,
    now: number,
  ): Promise<{ principal: Principal; jti?: string; exp: number }> {
    const parts = token.split('.');
    if (parts.length !== 3) throw unauthenticated('the assertion is not a compact JWS');
    const header = decode(parts[0]) as { alg?: string; kid?: string; typ?: string } | undefined;
    if (
      header?.alg !== 'EdDSA' ||
      header.typ !== ASSERTION_TYPE ||
      typeof header.kid !== 'string'
    ) {
      throw unauthenticated('the assertion header is not that of a gateway assertion');
    }
    const key = await this.key(header.kid);
    if (!key)
      throw unauthenticated('the assertion is signed with a key the gateway never published');
    const valid = verify(
      null,
      Buffer.from(`${parts[0]}.${parts[1]}`),
      key,
      Buffer.from(parts[2], 'base64url'),
    );
    if (!valid) throw unauthenticated('the assertion signature does not verify');
    const claims = decode(parts[1]) as Partial<AssertionClaims> | undefined;
    const seconds = Math.floor(now / 1000);
    if (
      claims?.iss !== ASSERTION_ISSUER ||
      typeof claims.sub !== 'string' ||
      !Array.isArray(claims.roles)
    ) {
      throw unauthenticated('the assertion claims are incomplete');
    }
    if (claims.aud !== this.audience) {
      throw unauthenticated('the assertion was issued for another service');
    }
    if (typeof claims.exp !== 'number' || claims.exp + CLOCK_SKEW_SECONDS < seconds) {
      throw unauthenticated('the assertion has expired');
    }
    if (typeof claims.iat !== 'number' || claims.iat - CLOCK_SKEW_SECONDS > seconds) {
      throw unauthenticated('the assertion is issued in the future');
    }
    const roles = claims.roles.filter((r): r is Role => (ROLES as readonly string[]).includes(r));
    return {
      principal: { subject: claims.sub, roles },
      ...(typeof claims.jti === 'string' ? { jti: claims.jti } : {}),
      exp: claims.exp,
    };
  }

  /**
   * For HTTP routes, where no NATS server vouches that the gateway sent the request: the
   * assertion must carry a `jti`, and this instance accepts it once, so one seen in transit is
   * worth nothing after the call it was minted for (until it expires, another replica would
   * still take it once: the network policy admitting only the gateway closes that).
   */
  async verifyOnce(token: string, now: number = Date.now()): Promise<Principal> {
    const { principal, jti, exp } = await this.check(token, now);
    if (!jti) {
      throw unauthenticated('an assertion for an HTTP route must carry a jti');
    }
    const seconds = Math.floor(now / 1000);
    for (const [id, expires] of this.used) {
      if (expires + CLOCK_SKEW_SECONDS < seconds) this.used.delete(id);
    }
    if (this.used.has(jti)) {
      throw unauthenticated('the assertion was used before: over HTTP each is good for one call');
    }
    this.used.set(jti, exp);
    return principal;
  }

  private async key(kid: string): Promise<KeyObject | undefined> {
    if (!this.keys.has(kid)) {
      // Calls that meet an unknown key at once (the first burst, a rotation) share one fetch:
      // the ones that came second wait for it instead of failing while it is under way.
      if (this.fetching) {
        await this.fetching;
      } else if (Date.now() - this.lastFetch > REFETCH_INTERVAL_MS) {
        this.lastFetch = Date.now();
        this.fetching = this.refetch().finally(() => (this.fetching = undefined));
        await this.fetching;
      }
    }
    return this.keys.get(kid);
  }

  private async refetch(): Promise<void> {
    const published = await this.fetchKeys();
    this.keys = new Map(
      published
        .filter((k) => k.service === 'gateway')
        .map((k) => [
          k.kid,
          createPublicKey({ key: { kty: k.kty, crv: k.crv, x: k.x }, format: 'jwk' }),
        ]),
    );
  }
}

function decode(segment: string): unknown {
  try {
    return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

function unauthenticated(reason: string): DsgError {
  return new DsgError(ErrorCodes.UNAUTHENTICATED, `Not authenticated: ${reason}`);
}
