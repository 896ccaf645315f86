import { GetSubjectRequest, Rpc, UpsertSubjectRequest } from '@dsg/contracts';
import { NatsRpcContext } from '@dsg/platform';
import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { SubjectsService } from './subjects.service';

@Controller()
export class SubjectsController {
  constructor(private readonly subjects: SubjectsService) {}

  @MessagePattern(Rpc.consent.subjectUpsert.subject)
  upsert(@Payload() request: UpsertSubjectRequest, @Ctx() context: NatsRpcContext) {
    return this.subjects.upsert(request, context.caller);
  }

  @MessagePattern(Rpc.consent.subjectGet.subject)
  get(@Payload() request: GetSubjectRequest) {
    return this.subjects.get(request.clientId);
  }
}
