import { DsgError, ErrorCodes, Headers, type Principal, type Role } from '@dsg/contracts';
import type { Request } from 'express';
import { type CanActivate, type ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { NatsRpcContext } from '../nats/nats-rpc.server';
import type { AssertionVerifier } from './assertions';

const REQUIRED_ROLES = 'dsg:required-roles';

/** The handler acts for a person holding one of these roles (POL-7: authorised personnel only). */
export const RequireRole = (...roles: Role[]) => SetMetadata(REQUIRED_ROLES, roles);

/**
 * NATS guard: a handler marked with @RequireRole needs a valid gateway assertion carrying one of
 * the roles. No assertion or an invalid one is REQUEST.UNAUTHENTICATED; a valid one without the
 * role is REQUEST.FORBIDDEN. The verified principal is left on the context for the handler.
 */
@Injectable()
export class AssertionGuard implements CanActivate {
  private readonly reflector = new Reflector();

  constructor(private readonly verifier: AssertionVerifier) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const roles = this.reflector.get<Role[] | undefined>(REQUIRED_ROLES, context.getHandler());
    if (!roles?.length) return true;
    if (context.getType() === 'http') return this.http(context, roles);
    const rpc = context.switchToRpc().getContext<unknown>();
    if (!(rpc instanceof NatsRpcContext)) {
      throw new DsgError(ErrorCodes.FORBIDDEN, 'This action is available over NATS only');
    }
    // Only the gateway vouches for people; an assertion relayed by anyone else is refused, so a
    // token seen in transit cannot be replayed from another NATS user.
    if (rpc.caller !== 'gateway') {
      throw new DsgError(
        ErrorCodes.UNAUTHENTICATED,
        'Actions taken for a person are accepted only from the gateway',
      );
    }
    const token = rpc.getHeader(Headers.ASSERTION);
    if (!token) {
      throw new DsgError(
        ErrorCodes.UNAUTHENTICATED,
        'This action is taken for a person: it needs the gateway assertion (Dsg-Assertion)',
      );
    }
    const principal = await this.verifier.verify(token);
    if (!roles.some((role) => principal.roles.includes(role))) {
      throw new DsgError(ErrorCodes.FORBIDDEN, `This action needs the role ${roles.join(' or ')}`);
    }
    rpc.principal = principal;
    return true;
  }

  /**
   * An HTTP route that streams what NATS messages would carry too slowly (an export's lines). Its
   * only caller is the gateway, relaying a person's request with a short-lived assertion
   * addressed to this service. Over HTTP no NATS server vouches for the caller, so an assertion
   * is taken once (verifyOnce: one seen in transit is spent); the network keeping everyone but
   * the gateway from the services' HTTP ports (issue 10's NetworkPolicy) closes the rest.
   */
  private async http(context: ExecutionContext, roles: Role[]): Promise<boolean> {
    const request = context.switchToHttp().getRequest<Request & { principal?: Principal }>();
    const token = request.get(Headers.ASSERTION);
    if (!token) {
      throw new DsgError(
        ErrorCodes.UNAUTHENTICATED,
        'This action is taken for a person: it needs the gateway assertion (Dsg-Assertion)',
      );
    }
    const principal = await this.verifier.verifyOnce(token);
    if (!roles.some((role) => principal.roles.includes(role))) {
      throw new DsgError(ErrorCodes.FORBIDDEN, `This action needs the role ${roles.join(' or ')}`);
    }
    request.principal = principal;
    return true;
  }
}
