import {
  EndRestrictionRequest,
  ListRestrictionsRequest,
  RequestRestrictionRequest,
  Rpc,
} from '@dsg/contracts';
import { NatsRpcContext } from '@dsg/platform';
import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { RestrictionsService } from './restrictions.service';

@Controller()
export class RestrictionsController {
  constructor(private readonly restrictions: RestrictionsService) {}

  @MessagePattern(Rpc.consent.restrictionRequest.subject)
  request(@Payload() request: RequestRestrictionRequest, @Ctx() context: NatsRpcContext) {
    return this.restrictions.request(request, context.caller);
  }

  @MessagePattern(Rpc.consent.restrictionEnd.subject)
  end(@Payload() request: EndRestrictionRequest, @Ctx() context: NatsRpcContext) {
    return this.restrictions.end(request.restrictionId, request.endedBy, context.caller);
  }

  @MessagePattern(Rpc.consent.restrictionList.subject)
  list(@Payload() request: ListRestrictionsRequest) {
    return this.restrictions.list(request.clientId);
  }
}
