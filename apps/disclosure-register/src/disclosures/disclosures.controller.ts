import {
  ConsistencyProofRequest,
  DiscloseRequest,
  DsgError,
  ErrorCodes,
  InclusionProofRequest,
  ReportDisclosureRequest,
  Rpc,
  TreeHeadRequest,
  VerifyLogRequest,
} from '@dsg/contracts';
import { NatsRpcContext } from '@dsg/platform';
import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { RegisterLog } from '../log/register-log.service';
import { DisclosuresService } from './disclosures.service';

@Controller()
export class DisclosuresController {
  constructor(
    private readonly disclosures: DisclosuresService,
    private readonly log: RegisterLog,
  ) {}

  @MessagePattern(Rpc['disclosure-register'].disclose.subject)
  disclose(@Payload() request: DiscloseRequest, @Ctx() ctx: NatsRpcContext) {
    return this.disclosures.disclose(request, ctx.caller, ctx.idempotencyKey);
  }

  @MessagePattern(Rpc['disclosure-register'].report.subject)
  report(@Payload() request: ReportDisclosureRequest, @Ctx() ctx: NatsRpcContext) {
    return this.disclosures.report(request, ctx.caller, ctx.idempotencyKey);
  }

  @MessagePattern(Rpc['disclosure-register'].treeHead.subject)
  async treeHead(@Payload() _request: TreeHeadRequest) {
    const head = await this.log.treeHead();
    if (!head) throw new DsgError(ErrorCodes.NOT_FOUND, 'No tree head has been sealed yet');
    return head;
  }

  @MessagePattern(Rpc['disclosure-register'].inclusionProof.subject)
  inclusionProof(@Payload() request: InclusionProofRequest) {
    return this.log.inclusionProof(request.entryId, request.treeSize);
  }

  @MessagePattern(Rpc['disclosure-register'].consistencyProof.subject)
  consistencyProof(@Payload() request: ConsistencyProofRequest) {
    return this.log.consistencyProof(request.fromSize, request.toSize);
  }

  @MessagePattern(Rpc['disclosure-register'].verify.subject)
  verify(@Payload() _request: VerifyLogRequest) {
    return this.log.verify();
  }
}
