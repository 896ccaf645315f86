import { RecordNoticesRequest, RedactEntriesRequest, Rpc } from '@dsg/contracts';
import { NatsRpcContext } from '@dsg/platform';
import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { NoticesService } from './notices.service';

/** The retention service's calls: notices to recipients (CCP-4) and the redaction path. */
@Controller()
export class NoticesController {
  constructor(private readonly notices: NoticesService) {}

  @MessagePattern(Rpc['disclosure-register'].noticesRecord.subject)
  record(@Payload() request: RecordNoticesRequest, @Ctx() ctx: NatsRpcContext) {
    return this.notices.record(request, ctx.caller);
  }

  @MessagePattern(Rpc['disclosure-register'].entriesRedact.subject)
  redact(@Payload() request: RedactEntriesRequest, @Ctx() ctx: NatsRpcContext) {
    return this.notices.redact(request, ctx.caller);
  }
}
