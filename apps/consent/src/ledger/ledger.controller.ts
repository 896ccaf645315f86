import {
  ConsentHistoryRequest,
  GpcSignalRequest,
  RecordConsentRequest,
  RedactLedgerRequest,
  Rpc,
} from '@dsg/contracts';
import { NatsRpcContext } from '@dsg/platform';
import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { GpcService } from './gpc.service';
import { LedgerService } from './ledger.service';

@Controller()
export class LedgerController {
  constructor(
    private readonly ledger: LedgerService,
    private readonly gpcSignals: GpcService,
  ) {}

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

  @MessagePattern(Rpc.consent.gpcSignal.subject)
  gpcSignal(@Payload() request: GpcSignalRequest, @Ctx() context: NatsRpcContext) {
    return this.gpcSignals.signal(request, context.caller);
  }

  @MessagePattern(Rpc.consent.ledgerRedact.subject)
  redact(@Payload() request: RedactLedgerRequest, @Ctx() context: NatsRpcContext) {
    return this.ledger.redact(request.clientId, request.reason, context.caller);
  }
}
