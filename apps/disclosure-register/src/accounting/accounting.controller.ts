import {
  AccountingRef,
  ListAccountingsRequest,
  ListSuspensionsRequest,
  ProduceAccountingForRightsRequest,
  ProduceAccountingRequest,
  Rpc,
  SubjectAccountingsRequest,
  SuspendAccountingRequest,
  WithBody,
} from '@dsg/contracts';
import { NatsRpcContext, RequireRole } from '@dsg/platform';
import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { renderAccountingPdf } from './accounting-pdf';
import { AccountingService } from './accounting.service';
import { SuspensionsService } from './suspensions.service';

/**
 * Accountings of disclosures and their suspensions (ACC-1 … ACC-9): privacy officers produce them
 * and record suspensions through the gateway; auditors may read what was produced. The consent
 * service's rights-request flow produces and lists them for the officer it acts for (no person's
 * assertion: the service checks that the caller is consent).
 */
@Controller()
export class AccountingController {
  constructor(
    private readonly accounting: AccountingService,
    private readonly suspensions: SuspensionsService,
  ) {}

  @MessagePattern(Rpc['disclosure-register'].accountingProduce.subject)
  @RequireRole('privacy_officer')
  produce(@Payload() request: ProduceAccountingRequest, @Ctx() ctx: NatsRpcContext) {
    const by = ctx.principal!.subject;
    return this.accounting.produce(request, `${ctx.caller}:${by}`, ctx.idempotencyKey, by);
  }

  @MessagePattern(Rpc['disclosure-register'].accountingForRightsRequest.subject)
  forRightsRequest(
    @Payload() request: ProduceAccountingForRightsRequest,
    @Ctx() ctx: NatsRpcContext,
  ) {
    return this.accounting.produceForRightsRequest(request, ctx.caller, ctx.idempotencyKey);
  }

  @MessagePattern(Rpc['disclosure-register'].accountingsOfSubject.subject)
  async ofSubject(@Payload() request: SubjectAccountingsRequest, @Ctx() ctx: NatsRpcContext) {
    return {
      accountings: await this.accounting.listForRightsRequest(request.clientId, ctx.caller),
    };
  }

  @MessagePattern(Rpc['disclosure-register'].accountingGet.subject)
  @RequireRole('privacy_officer', 'auditor')
  get(@Payload() request: AccountingRef) {
    return this.accounting.get(request.accountingId);
  }

  @MessagePattern(Rpc['disclosure-register'].accountingList.subject)
  @RequireRole('privacy_officer', 'auditor')
  async list(@Payload() request: ListAccountingsRequest) {
    return { accountings: await this.accounting.list(request.clientId) };
  }

  @MessagePattern(Rpc['disclosure-register'].accountingPdf.subject)
  @RequireRole('privacy_officer', 'auditor')
  async pdf(@Payload() request: AccountingRef) {
    const pdf = await renderAccountingPdf(await this.accounting.get(request.accountingId));
    return new WithBody(
      { accountingId: request.accountingId, contentType: 'application/pdf', bytes: pdf.length },
      pdf,
    );
  }

  @MessagePattern(Rpc['disclosure-register'].suspensionRecord.subject)
  @RequireRole('privacy_officer')
  suspend(@Payload() request: SuspendAccountingRequest, @Ctx() ctx: NatsRpcContext) {
    return this.suspensions.record(request, ctx.principal!.subject);
  }

  @MessagePattern(Rpc['disclosure-register'].suspensionList.subject)
  @RequireRole('privacy_officer', 'auditor')
  async listSuspensions(@Payload() request: ListSuspensionsRequest) {
    return { suspensions: await this.suspensions.list(request.activeOnly ?? false) };
  }
}
