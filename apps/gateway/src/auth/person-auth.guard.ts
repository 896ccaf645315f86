import { DsgError, ErrorCodes, type Principal, type Role, ROLES } from '@dsg/contracts';
import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { createRemoteJWKSet, type JWTPayload, jwtVerify } from 'jose';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config';

export type AuthenticatedRequest = Request & { principal: Principal };

/**
 * People reach the product through the gateway with an OIDC access or ID token (Bearer). The
 * token's signature (the provider's JWKS), issuer, audience and expiry are checked; the product
 * roles are read from the configured claim (OIDC_ROLES_CLAIM, default `roles`). Only the
 * subject and roles go further, as a gateway-signed assertion.
 */
@Injectable()
export class PersonAuthGuard implements CanActivate {
  private readonly jwks?: ReturnType<typeof createRemoteJWKSet>;

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {
    if (config.oidc) this.jwks = createRemoteJWKSet(new URL(config.oidc.jwksUrl));
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    if (!this.config.oidc || !this.jwks) {
      throw new DsgError(
        ErrorCodes.UNAUTHENTICATED,
        'No identity provider is configured (OIDC_ISSUER)',
      );
    }
    const header = request.headers.authorization ?? '';
    const token = /^Bearer (\S+)$/i.exec(header)?.[1];
    if (!token) throw new DsgError(ErrorCodes.UNAUTHENTICATED, 'A Bearer token is required');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.jwks, {
        issuer: this.config.oidc.issuer,
        audience: this.config.oidc.audience,
        algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA'],
        // A token without an expiry would be valid forever.
        requiredClaims: ['exp', 'sub'],
      }));
    } catch {
      throw new DsgError(ErrorCodes.UNAUTHENTICATED, 'The token is not valid for this gateway');
    }
    if (!payload.sub) throw new DsgError(ErrorCodes.UNAUTHENTICATED, 'The token has no subject');
    const claimed = payload[this.config.oidc.rolesClaim];
    const roles = (Array.isArray(claimed) ? claimed : []).filter((r): r is Role =>
      (ROLES as readonly string[]).includes(r as string),
    );
    request.principal = { subject: payload.sub, roles };
    return true;
  }
}
