import {
  DecideLegalRequest,
  FulfilLegalRequest,
  LegalRequestIntake,
  LegalRequestRef,
  ListLegalRequestsRequest,
  Rpc,
} from '@dsg/contracts';
import { NatsRpcContext, RequireRole } from '@dsg/platform';
import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { LegalRequestsService } from './legal-requests.service';

/**
 * Legal requests (HIP-6, CMI-3): privacy officers record, decide and fulfil them through the
 * gateway; auditors may read them. Idempotency keys are the person's own (caller and subject).
 */
@Controller()
export class LegalRequestsController {
  constructor(private readonly legalRequests: LegalRequestsService) {}

  @MessagePattern(Rpc['disclosure-register'].legalRequestIntake.subject)
  @RequireRole('privacy_officer')
  intake(@Payload() request: LegalRequestIntake, @Ctx() ctx: NatsRpcContext) {
    const by = ctx.principal!.subject;
    return this.legalRequests.intake(request, `${ctx.caller}:${by}`, ctx.idempotencyKey, by);
  }

  @MessagePattern(Rpc['disclosure-register'].legalRequestList.subject)
  @RequireRole('privacy_officer', 'auditor')
  async list(@Payload() request: ListLegalRequestsRequest) {
    return { requests: await this.legalRequests.list(request.state) };
  }

  @MessagePattern(Rpc['disclosure-register'].legalRequestGet.subject)
  @RequireRole('privacy_officer', 'auditor')
  get(@Payload() request: LegalRequestRef) {
    return this.legalRequests.get(request.requestId);
  }

  @MessagePattern(Rpc['disclosure-register'].legalRequestDecide.subject)
  @RequireRole('privacy_officer')
  decide(@Payload() request: DecideLegalRequest, @Ctx() ctx: NatsRpcContext) {
    return this.legalRequests.decide(request, ctx.principal!.subject);
  }

  @MessagePattern(Rpc['disclosure-register'].legalRequestFulfil.subject)
  @RequireRole('privacy_officer')
  fulfil(@Payload() request: FulfilLegalRequest, @Ctx() ctx: NatsRpcContext) {
    const by = ctx.principal!.subject;
    return this.legalRequests.fulfil(request, ctx.caller, ctx.idempotencyKey, by);
  }
}
