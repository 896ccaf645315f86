import {
  GetRecipientRequest,
  ListRecipientsRequest,
  Rpc,
  UpsertRecipientRequest,
} from '@dsg/contracts';
import { NatsRpcContext } from '@dsg/platform';
import { Controller } from '@nestjs/common';
import { Ctx, GrpcMethod, MessagePattern, Payload } from '@nestjs/microservices';
import { RecipientsService } from './recipients.service';

/** Recipients over NATS; the two queries over gRPC too. Changes are NATS only. */
@Controller()
export class RecipientsController {
  constructor(private readonly recipients: RecipientsService) {}

  @MessagePattern(Rpc['disclosure-register'].recipientUpsert.subject)
  upsert(@Payload() request: UpsertRecipientRequest, @Ctx() ctx: NatsRpcContext) {
    return this.recipients.upsert(request, ctx.caller);
  }

  @MessagePattern(Rpc['disclosure-register'].recipientGet.subject)
  get(@Payload() request: GetRecipientRequest) {
    return this.recipients.get(request.recipientId, request.version);
  }

  @MessagePattern(Rpc['disclosure-register'].recipientList.subject)
  list(@Payload() _request: ListRecipientsRequest) {
    return this.recipients.list();
  }

  @GrpcMethod('DisclosureRegisterService', 'GetRecipient')
  grpcGet(@Payload() request: GetRecipientRequest) {
    return this.get(request);
  }

  @GrpcMethod('DisclosureRegisterService', 'ListRecipients')
  grpcList(@Payload() request: ListRecipientsRequest) {
    return this.list(request);
  }
}
