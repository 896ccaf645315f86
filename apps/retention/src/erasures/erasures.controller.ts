import {
  ErasureRef,
  RequestErasureForRightsRequest,
  RequestErasureRequest,
  Rpc,
} from '@dsg/contracts';
import { NatsRpcContext, RequireRole } from '@dsg/platform';
import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { ErasuresService } from './erasures.service';

/**
 * Erasure requests (CCP-4, KID-1, POL-5): privacy officers, through the gateway; and the consent
 * service's rights-request flow, for the officer it acts for (the service checks the caller).
 */
@Controller()
export class ErasuresController {
  constructor(private readonly erasures: ErasuresService) {}

  @MessagePattern(Rpc.retention.erasureRequest.subject)
  @RequireRole('privacy_officer')
  request(@Payload() request: RequestErasureRequest, @Ctx() ctx: NatsRpcContext) {
    const by = ctx.principal!.subject;
    return this.erasures.request(request, `${ctx.caller}:${by}`, ctx.idempotencyKey, by);
  }

  @MessagePattern(Rpc.retention.erasureForRightsRequest.subject)
  forRightsRequest(@Payload() request: RequestErasureForRightsRequest, @Ctx() ctx: NatsRpcContext) {
    return this.erasures.requestForRightsRequest(request, ctx.caller, ctx.idempotencyKey);
  }

  @MessagePattern(Rpc.retention.erasureGet.subject)
  @RequireRole('privacy_officer', 'auditor')
  get(@Payload() request: ErasureRef) {
    return this.erasures.get(request.erasureId);
  }
}
