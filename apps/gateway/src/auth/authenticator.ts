import { DsgError, ErrorCodes, type Principal, type Role, ROLES } from '@dsg/contracts';
import { Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { createRemoteJWKSet, errors, type JWTPayload, jwtVerify } from 'jose';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config';

/**
 * People reach the product through the gateway with an OIDC access token (Bearer). Its signature
 * (the provider's JWKS, fetched and cached by key id), issuer, audience and expiry are checked;
 * the product roles are read from the configured claim (OIDC_ROLES_CLAIM, default `roles`; a
 * dotted path such as `realm_access.roles` reaches into an object). Only the subject and roles go
 * further, as a gateway-signed assertion. Every refusal is REQUEST.UNAUTHENTICATED with a reason
 * that names no part of the token.
 */
@Injectable()
export class Authenticator {
  private readonly jwks?: ReturnType<typeof createRemoteJWKSet>;

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {
    if (config.oidc) {
      this.jwks = createRemoteJWKSet(new URL(config.oidc.jwksUrl), {
        timeoutDuration: 5000,
        cooldownDuration: 30_000,
      });
    }
  }

  async authenticate(request: Request): Promise<Principal> {
    if (!this.config.oidc || !this.jwks) {
      throw new DsgError(
        ErrorCodes.UNAUTHENTICATED,
        'No identity provider is configured (OIDC_ISSUER)',
      );
    }
    const header = request.headers.authorization ?? '';
    const token = /^Bearer ([A-Za-z0-9._~+/=-]+)$/i.exec(header)?.[1];
    if (!token) throw new DsgError(ErrorCodes.UNAUTHENTICATED, 'A Bearer token is required');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.jwks, {
        issuer: this.config.oidc.issuer,
        audience: this.config.oidc.audience,
        algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA'],
        // A token without an expiry would be valid forever.
        requiredClaims: ['exp', 'sub'],
        clockTolerance: 5,
      }));
    } catch (err) {
      // The provider's keys out of reach says nothing about the token: try again later.
      if (
        err instanceof errors.JWKSTimeout ||
        err instanceof errors.JWKSInvalid ||
        !(err instanceof errors.JOSEError)
      ) {
        throw new DsgError(
          ErrorCodes.UNAVAILABLE,
          "The identity provider's signing keys could not be read; try again",
        );
      }
      throw new DsgError(ErrorCodes.UNAUTHENTICATED, `The token is not valid: ${reason(err)}`);
    }
    if (!payload.sub) throw new DsgError(ErrorCodes.UNAUTHENTICATED, 'The token has no subject');
    // The subject is written to the access log as the person: an id, not a document.
    if (payload.sub.length > 256) {
      throw new DsgError(ErrorCodes.UNAUTHENTICATED, 'The token subject is longer than 256');
    }
    const claimed = claimAt(payload, this.config.oidc.rolesClaim);
    // Some providers send a single role as a string, or several space-separated.
    const listed =
      typeof claimed === 'string' ? claimed.split(' ') : Array.isArray(claimed) ? claimed : [];
    const roles = listed.filter((r): r is Role =>
      (ROLES as readonly string[]).includes(r as string),
    );
    return { subject: payload.sub, roles };
  }
}

/** Why a token was refused, in words that carry nothing of the token. */
function reason(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'it has expired';
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'iss') return 'it is from another issuer';
    if (err.claim === 'aud') return 'it is for another audience';
    if (err.claim === 'nbf' || err.claim === 'iat') return 'it is not valid yet';
    return `its ${err.claim} claim is missing or wrong`;
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'its signature does not verify';
  if (err instanceof errors.JWKSNoMatchingKey) {
    return 'it is signed with a key the issuer does not publish';
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return 'its signing algorithm is not accepted';
  return 'it is not a well-formed signed token';
}

function claimAt(payload: JWTPayload, path: string): unknown {
  if (path in payload) return payload[path];
  return path
    .split('.')
    .reduce<unknown>(
      (at, key) =>
        at && typeof at === 'object' ? (at as Record<string, unknown>)[key] : undefined,
      payload,
    );
}
