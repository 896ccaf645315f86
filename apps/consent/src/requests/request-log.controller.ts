import {
  AnswerRightsRequest,
  ExportRequestLogRequest,
  ListRightsRequestsRequest,
  PurgeRightsRequestsRequest,
  RecordRightsRequest,
  Rpc,
} from '@dsg/contracts';
import { NatsRpcContext, RequireRole } from '@dsg/platform';
import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { RequestLogService } from './request-log.service';

/** The rights-request log (CCP-7, RET-3). */
@Controller()
export class RequestLogController {
  constructor(private readonly log: RequestLogService) {}

  @MessagePattern(Rpc.consent.requestRecord.subject)
  record(@Payload() request: RecordRightsRequest, @Ctx() context: NatsRpcContext) {
    return this.log.record(request, context.caller, context.idempotencyKey);
  }

  @MessagePattern(Rpc.consent.requestAnswer.subject)
  answer(@Payload() request: AnswerRightsRequest, @Ctx() context: NatsRpcContext) {
    return this.log.answer(request, context.caller);
  }

  @MessagePattern(Rpc.consent.requestList.subject)
  list(@Payload() request: ListRightsRequestsRequest) {
    return this.log.list(request.clientId);
  }

  @MessagePattern(Rpc.consent.requestLogExport.subject)
  @RequireRole('auditor', 'privacy_officer')
  export(@Payload() request: ExportRequestLogRequest) {
    return this.log.export(request);
  }

  @MessagePattern(Rpc.consent.requestLogFigures.subject)
  @RequireRole('auditor', 'privacy_officer')
  figures(@Payload() request: ExportRequestLogRequest) {
    return this.log.figures(request);
  }

  @MessagePattern(Rpc.consent.requestPurge.subject)
  purge(@Payload() request: PurgeRightsRequestsRequest, @Ctx() context: NatsRpcContext) {
    return this.log.purge(request, context.caller);
  }
}
