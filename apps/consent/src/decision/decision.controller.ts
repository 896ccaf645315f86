import { CheckBatchRequest, CheckRequest, Rpc } from '@dsg/contracts';
import { DirectHandlers } from '@dsg/platform';
import { Controller, type OnModuleInit } from '@nestjs/common';
import { GrpcMethod, MessagePattern, Payload } from '@nestjs/microservices';
import { DecisionService } from './decision.service';

/**
 * The decision over NATS and, for internal callers that speak gRPC, the same over gRPC. Over
 * NATS the three operations are dispatched directly (DirectHandlers: same validation and error
 * mapping, without Nest's per-call pipeline), as every other service asks before it shares.
 */
@Controller()
export class DecisionController implements OnModuleInit {
  constructor(
    private readonly decisions: DecisionService,
    private readonly direct: DirectHandlers,
  ) {}

  onModuleInit(): void {
    this.direct.register(Rpc.consent.check, (request) => this.decisions.check(request));
    this.direct.register(Rpc.consent.explain, (request) => this.decisions.check(request, true));
    this.direct.register(Rpc.consent.checkBatch, (request) => this.checkAll(request));
  }

  @MessagePattern(Rpc.consent.check.subject)
  check(@Payload() request: CheckRequest) {
    return this.decisions.check(request);
  }

  @MessagePattern(Rpc.consent.explain.subject)
  explain(@Payload() request: CheckRequest) {
    return this.decisions.check(request, true);
  }

  @MessagePattern(Rpc.consent.checkBatch.subject)
  batch(@Payload() request: CheckBatchRequest) {
    return this.checkAll(request);
  }

  @GrpcMethod('ConsentService', 'Check')
  grpcCheck(@Payload() request: CheckRequest) {
    return this.decisions.check(request);
  }

  @GrpcMethod('ConsentService', 'Explain')
  grpcExplain(@Payload() request: CheckRequest) {
    return this.decisions.check(request, true);
  }

  @GrpcMethod('ConsentService', 'CheckBatch')
  grpcBatch(@Payload() request: CheckBatchRequest) {
    return this.checkAll(request);
  }

  private async checkAll(request: CheckBatchRequest) {
    const results = [];
    for (const check of request.checks) results.push(await this.decisions.check(check));
    return { results };
  }
}
