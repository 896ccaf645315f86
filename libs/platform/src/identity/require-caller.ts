import { DsgError, ErrorCodes, type ServiceName } from '@dsg/contracts';

/**
 * An operation only one service may call (the NATS server vouches for the caller token of the
 * subject): anyone else is REQUEST.FORBIDDEN. For example, the operations the consent service's
 * rights-request flow calls on the register and the retention service (issue 8): it verified
 * the requester and acts for the privacy officer fulfilling the request.
 */
export function requireCaller(caller: string, allowed: ServiceName, what: string): void {
  if (caller !== allowed) {
    throw new DsgError(ErrorCodes.FORBIDDEN, `Only the ${allowed} service ${what}`);
  }
}
