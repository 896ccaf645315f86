import { DsgError, ErrorCodes } from '@dsg/contracts';
import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { SystemService } from '../system/system.service';

const ALWAYS_SERVED = /^\/(health(\/|$)|metrics$)/;

/**
 * While the instance drains, HTTP API calls are refused with PLATFORM.SHUTTING_DOWN (503,
 * retryable) so a load balancer's late request goes elsewhere; probes and metrics still answer.
 */
@Injectable()
export class DrainGuard implements CanActivate {
  constructor(private readonly system: SystemService) {}

  canActivate(context: ExecutionContext): boolean {
    if (!this.system.isDraining) return true;
    if (ALWAYS_SERVED.test(context.switchToHttp().getRequest<Request>().path)) return true;
    throw new DsgError(
      ErrorCodes.SHUTTING_DOWN,
      'This instance is shutting down; retry the request',
    );
  }
}
