import { RecordNoticesRequest, RedactEntriesRequest, Rpc } from '@dsg/contracts';
import { NatsRpcContext } from '@dsg/platform';
import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { NoticesService } from './notices.service';

/**
 * Notices to recipients (CCP-4 for the retention service, CCP-2 for the consent service) and the
 * retention service's redaction path.
 */
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
