import {
  CloseBreachRequest,
  DecideBreachRequest,
  GetBreachRequest,
  ListBreachesRequest,
  NotifyBreachRequest,
  ReviewBreachRequest,
  Rpc,
} from '@dsg/contracts';
import { NatsRpcContext, RequireRole } from '@dsg/platform';
import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { BreachesService } from './breaches.service';

/** Breach assessments (HIP-9): people act on them through the gateway, by role. */
@Controller()
export class BreachesController {
  constructor(private readonly breaches: BreachesService) {}

  @MessagePattern(Rpc['disclosure-register'].breachList.subject)
  @RequireRole('privacy_officer', 'auditor')
  async list(@Payload() request: ListBreachesRequest) {
    return { assessments: await this.breaches.list(request.state) };
  }

  @MessagePattern(Rpc['disclosure-register'].breachGet.subject)
  @RequireRole('privacy_officer', 'auditor')
  get(@Payload() request: GetBreachRequest) {
    return this.breaches.get(request.assessmentId);
  }

  @MessagePattern(Rpc['disclosure-register'].breachReview.subject)
  @RequireRole('privacy_officer')
  review(@Payload() request: ReviewBreachRequest, @Ctx() ctx: NatsRpcContext) {
    return this.breaches.review(request, ctx.principal!.subject);
  }

  @MessagePattern(Rpc['disclosure-register'].breachDecide.subject)
  @RequireRole('privacy_officer')
  decide(@Payload() request: DecideBreachRequest, @Ctx() ctx: NatsRpcContext) {
    return this.breaches.decide(request, ctx.principal!.subject);
  }

  @MessagePattern(Rpc['disclosure-register'].breachNotify.subject)
  @RequireRole('privacy_officer')
  notify(@Payload() request: NotifyBreachRequest, @Ctx() ctx: NatsRpcContext) {
    return this.breaches.notify(request, ctx.principal!.subject);
  }

  @MessagePattern(Rpc['disclosure-register'].breachClose.subject)
  @RequireRole('privacy_officer')
  close(@Payload() request: CloseBreachRequest, @Ctx() ctx: NatsRpcContext) {
    return this.breaches.close(request, ctx.principal!.subject);
  }
}
