import { DeclareHoldingsRequest, ListDueRequest, Rpc } from '@dsg/contracts';
import { NatsRpcContext, RequireRole } from '@dsg/platform';
import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { HoldingsService } from './holdings.service';

/** Holdings over NATS: systems declare their own; people read what is due through the gateway. */
@Controller()
export class HoldingsController {
  constructor(private readonly holdings: HoldingsService) {}

  @MessagePattern(Rpc.retention.holdingsDeclare.subject)
  async declare(@Payload() request: DeclareHoldingsRequest, @Ctx() ctx: NatsRpcContext) {
    return { holdings: await this.holdings.declare(request, ctx.caller) };
  }

  @MessagePattern(Rpc.retention.holdingsDue.subject)
  @RequireRole('operator', 'privacy_officer', 'auditor')
  due(@Payload() request: ListDueRequest) {
    return this.holdings.due(request);
  }
}
