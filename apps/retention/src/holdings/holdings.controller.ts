import {
  DeclareHoldingsRequest,
  ListDueRequest,
  Rpc,
  SubjectHoldingsRequest,
} from '@dsg/contracts';
import { NatsRpcContext, RequireRole } from '@dsg/platform';
import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { HoldingsService } from './holdings.service';

/**
 * Holdings over NATS: systems declare their own; people read what is due through the gateway; the
 * consent service reads a subject's for a rights request (the service checks the caller).
 */
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

  @MessagePattern(Rpc.retention.holdingsOfSubject.subject)
  async ofSubject(@Payload() request: SubjectHoldingsRequest, @Ctx() ctx: NatsRpcContext) {
    return { holdings: await this.holdings.ofSubject(request.clientId, ctx.caller) };
  }
}
