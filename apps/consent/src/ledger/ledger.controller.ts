import {
  ConsentHistoryRequest,
  RecordConsentRequest,
  RedactLedgerRequest,
  Rpc,
} from '@dsg/contracts';
import { NatsRpcContext } from '@dsg/platform';
import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { LedgerService } from './ledger.service';

@Controller()
export class LedgerController {
  constructor(private readonly ledger: LedgerService) {}

  @MessagePattern(Rpc.consent.ledgerRecord.subject)
  record(@Payload() request: RecordConsentRequest, @Ctx() context: NatsRpcContext) {
    return this.ledger.record(request, context.caller, context.idempotencyKey);
  }

  @MessagePattern(Rpc.consent.ledgerHistory.subject)
  history(@Payload() request: ConsentHistoryRequest) {
    return this.ledger.history(request.clientId);
  }

  @MessagePattern(Rpc.consent.ledgerState.subject)
  state(@Payload() request: ConsentHistoryRequest) {
    return this.ledger.state(request.clientId);
  }

  @MessagePattern(Rpc.consent.ledgerRedact.subject)
  redact(@Payload() request: RedactLedgerRequest, @Ctx() context: NatsRpcContext) {
    return this.ledger.redact(request.clientId, request.reason, context.caller);
  }
}
