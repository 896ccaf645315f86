import { QueryEntriesRequest, Rpc, SubjectEntriesRequest } from '@dsg/contracts';
import { NatsRpcContext, RequireRole } from '@dsg/platform';
import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { EntriesService } from './entries.service';

/**
 * Entries hold personal details: people query them through the gateway (POL-7); the consent
 * service reads a subject's for a verified know or access request (the service checks the caller).
 */
@Controller()
export class EntriesController {
  constructor(private readonly entries: EntriesService) {}

  @MessagePattern(Rpc['disclosure-register'].entriesQuery.subject)
  @RequireRole('auditor', 'privacy_officer')
  query(@Payload() request: QueryEntriesRequest) {
    return this.entries.query(request);
  }

  @MessagePattern(Rpc['disclosure-register'].entriesOfSubject.subject)
  ofSubject(@Payload() request: SubjectEntriesRequest, @Ctx() ctx: NatsRpcContext) {
    return this.entries.ofSubject(request.clientId, ctx.caller);
  }
}
