import { CheckBatchRequest, CheckRequest, Rpc } from '@dsg/contracts';
import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { DecisionService } from './decision.service';

@Controller()
export class DecisionController {
  constructor(private readonly decisions: DecisionService) {}

  @MessagePattern(Rpc.consent.check.subject)
  check(@Payload() request: CheckRequest) {
    return this.decisions.check(request);
  }

  @MessagePattern(Rpc.consent.explain.subject)
  explain(@Payload() request: CheckRequest) {
    return this.decisions.check(request, true);
  }

  @MessagePattern(Rpc.consent.checkBatch.subject)
  async batch(@Payload() request: CheckBatchRequest) {
    const results = [];
    for (const check of request.checks) results.push(await this.decisions.check(check));
    return { results };
  }
}
