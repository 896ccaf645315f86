import {
  DenyRightsRequest,
  ExtendRightsRequest,
  FulfilRightsRequest,
  ListRightsCasesRequest,
  RightsReportRequest,
  type RightsReportReply,
  RightsRequestRef,
  Rpc,
  SubmitRightsRequest,
  type SubjectReport,
  VerifyRightsRequest,
} from '@dsg/contracts';
import { NatsRpcContext, RequireRole } from '@dsg/platform';
import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { renderReportPdf } from './report-pdf';
import { RightsService } from './rights.service';

/**
 * Rights requests (POL-4, CCP-1, HIP-8): privacy officers move them, through the gateway;
 * auditors may read them. The person acting is the assertion's subject.
 */
@Controller()
export class RightsController {
  constructor(private readonly rights: RightsService) {}

  @MessagePattern(Rpc.consent.rightsSubmit.subject)
  @RequireRole('privacy_officer')
  submit(@Payload() request: SubmitRightsRequest, @Ctx() ctx: NatsRpcContext) {
    return this.rights.submit(request, ctx.principal!.subject, ctx.idempotencyKey);
  }

  @MessagePattern(Rpc.consent.rightsVerify.subject)
  @RequireRole('privacy_officer')
  verify(@Payload() request: VerifyRightsRequest, @Ctx() ctx: NatsRpcContext) {
    return this.rights.verify(request, ctx.principal!.subject);
  }

  @MessagePattern(Rpc.consent.rightsExtend.subject)
  @RequireRole('privacy_officer')
  extend(@Payload() request: ExtendRightsRequest, @Ctx() ctx: NatsRpcContext) {
    return this.rights.extend(request, ctx.principal!.subject);
  }

  @MessagePattern(Rpc.consent.rightsFulfil.subject)
  @RequireRole('privacy_officer')
  fulfil(@Payload() request: FulfilRightsRequest, @Ctx() ctx: NatsRpcContext) {
    return this.rights.fulfil(request, ctx.principal!.subject);
  }

  @MessagePattern(Rpc.consent.rightsDeny.subject)
  @RequireRole('privacy_officer')
  deny(@Payload() request: DenyRightsRequest, @Ctx() ctx: NatsRpcContext) {
    return this.rights.deny(request, ctx.principal!.subject);
  }

  @MessagePattern(Rpc.consent.rightsGet.subject)
  @RequireRole('privacy_officer', 'auditor')
  get(@Payload() request: RightsRequestRef) {
    return this.rights.get(request.requestId);
  }

  @MessagePattern(Rpc.consent.rightsList.subject)
  @RequireRole('privacy_officer', 'auditor')
  list(@Payload() request: ListRightsCasesRequest) {
    return this.rights.list(request);
  }

  @MessagePattern(Rpc.consent.rightsReport.subject)
  @RequireRole('privacy_officer', 'auditor')
  async report(@Payload() request: RightsReportRequest): Promise<RightsReportReply> {
    const { report, hash } = await this.rights.reportOf(request.requestId);
    if (request.format === 'pdf') {
      const pdf = await renderReportPdf(report as SubjectReport);
      return {
        requestId: request.requestId,
        format: 'pdf',
        pdf: pdf.toString('base64'),
        contentHash: hash,
      };
    }
    return {
      requestId: request.requestId,
      format: 'json',
      report: report as SubjectReport,
      contentHash: hash,
    };
  }
}
