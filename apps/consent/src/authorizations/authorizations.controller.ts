import {
  AuthorizationRef,
  RecordAuthorizationRequest,
  RevokeAuthorizationRequest,
  Rpc,
} from '@dsg/contracts';
import { NatsRpcContext } from '@dsg/platform';
import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { AuthorizationsService } from './authorizations.service';

@Controller()
export class AuthorizationsController {
  constructor(private readonly authorizations: AuthorizationsService) {}

  @MessagePattern(Rpc.consent.authorizationRecord.subject)
  record(@Payload() request: RecordAuthorizationRequest, @Ctx() context: NatsRpcContext) {
    return this.authorizations.record(request, context.caller);
  }

  @MessagePattern(Rpc.consent.authorizationRevoke.subject)
  revoke(@Payload() request: RevokeAuthorizationRequest, @Ctx() context: NatsRpcContext) {
    return this.authorizations.revoke(request.authorizationId, request.receivedVia, context.caller);
  }

  @MessagePattern(Rpc.consent.authorizationGet.subject)
  get(@Payload() request: AuthorizationRef) {
    return this.authorizations.get(
      request.authorizationId,
      request.at ? new Date(request.at) : undefined,
    );
  }
}
