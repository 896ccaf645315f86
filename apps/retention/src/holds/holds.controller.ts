import {
  HoldRef,
  ListHoldsRequest,
  PlaceHoldRequest,
  ReleaseHoldRequest,
  Rpc,
} from '@dsg/contracts';
import { NatsRpcContext, RequireRole } from '@dsg/platform';
import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { HoldsService } from './holds.service';

/** Legal holds (RET-6): privacy officers place and release them through the gateway. */
@Controller()
export class HoldsController {
  constructor(private readonly holds: HoldsService) {}

  @MessagePattern(Rpc.retention.holdPlace.subject)
  @RequireRole('privacy_officer')
  place(@Payload() request: PlaceHoldRequest, @Ctx() ctx: NatsRpcContext) {
    const by = ctx.principal!.subject;
    return this.holds.place(request, `${ctx.caller}:${by}`, ctx.idempotencyKey, by);
  }

  @MessagePattern(Rpc.retention.holdRelease.subject)
  @RequireRole('privacy_officer')
  release(@Payload() request: ReleaseHoldRequest, @Ctx() ctx: NatsRpcContext) {
    return this.holds.release(request, ctx.principal!.subject);
  }

  @MessagePattern(Rpc.retention.holdGet.subject)
  @RequireRole('privacy_officer', 'auditor', 'operator')
  get(@Payload() request: HoldRef) {
    return this.holds.get(request.holdId);
  }

  @MessagePattern(Rpc.retention.holdList.subject)
  @RequireRole('privacy_officer', 'auditor', 'operator')
  async list(@Payload() request: ListHoldsRequest) {
    return { holds: await this.holds.list(request.activeOnly ?? false) };
  }
}
