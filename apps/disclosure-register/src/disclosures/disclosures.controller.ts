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
import { DirectHandlers, NatsRpcContext } from '@dsg/platform';
import { Controller, type OnModuleInit } from '@nestjs/common';
import { Ctx, GrpcMethod, MessagePattern, Payload } from '@nestjs/microservices';
import { RegisterLog } from '../log/register-log.service';
import { DisclosuresService } from './disclosures.service';

/**
 * The register over NATS. `disclose` and `report` are on every sharing service's path, so they
 * are dispatched directly (DirectHandlers: the same validation and error mapping, without Nest's
 * per-call pipeline); the caller is the NATS user the server authenticated. The log's queries
 * are on gRPC too, for monitors and tools that speak it (the same methods: a Nest handler has
 * one transport, so each gRPC method is its own handler); disclosures are NATS only, where the
 * server vouches for the caller.
 */
@Controller()
export class DisclosuresController implements OnModuleInit {
  constructor(
    private readonly disclosures: DisclosuresService,
    private readonly log: RegisterLog,
    private readonly direct: DirectHandlers,
  ) {}

  onModuleInit(): void {
    const rpc = Rpc['disclosure-register'];
    this.direct.register(rpc.disclose, (request, ctx) => this.disclose(request, ctx));
    this.direct.register(rpc.report, (request, ctx) => this.report(request, ctx));
  }

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

  @GrpcMethod('DisclosureRegisterService', 'GetTreeHead')
  grpcTreeHead(@Payload() request: TreeHeadRequest) {
    return this.treeHead(request);
  }

  @GrpcMethod('DisclosureRegisterService', 'InclusionProof')
  grpcInclusionProof(@Payload() request: InclusionProofRequest) {
    return this.inclusionProof(request);
  }

  @GrpcMethod('DisclosureRegisterService', 'ConsistencyProof')
  grpcConsistencyProof(@Payload() request: ConsistencyProofRequest) {
    return this.consistencyProof(request);
  }

  @GrpcMethod('DisclosureRegisterService', 'Verify')
  grpcVerify(@Payload() request: VerifyLogRequest) {
    return this.verify(request);
  }
}
