import {
  AckPurgeRequest,
  ConfirmPurgeRequest,
  ListPurgeItemsRequest,
  ListSweepsRequest,
  Rpc,
  RunSweepRequest,
} from '@dsg/contracts';
import { NatsRpcContext, RequireRole } from '@dsg/platform';
import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { PurgesService } from './purges.service';
import { SweepsService } from './sweeps.service';

/**
 * Purges over NATS: holding systems confirm and acknowledge their own items (the caller is the
 * system); people list items and sweeps, and operators start a sweep, through the gateway.
 */
@Controller()
export class PurgesController {
  constructor(
    private readonly purges: PurgesService,
    private readonly sweeps: SweepsService,
  ) {}

  @MessagePattern(Rpc.retention.purgeConfirm.subject)
  confirm(@Payload() request: ConfirmPurgeRequest, @Ctx() ctx: NatsRpcContext) {
    return this.purges.confirm(request, ctx.caller);
  }

  @MessagePattern(Rpc.retention.purgeAck.subject)
  ack(@Payload() request: AckPurgeRequest, @Ctx() ctx: NatsRpcContext) {
    return this.purges.ack(request, ctx.caller);
  }

  @MessagePattern(Rpc.retention.purgeList.subject)
  @RequireRole('operator', 'privacy_officer', 'auditor')
  list(@Payload() request: ListPurgeItemsRequest) {
    return this.purges.list(request);
  }

  @MessagePattern(Rpc.retention.sweepRun.subject)
  @RequireRole('operator')
  run(@Payload() request: RunSweepRequest) {
    return this.sweeps.run(request);
  }

  @MessagePattern(Rpc.retention.sweepList.subject)
  @RequireRole('operator', 'privacy_officer', 'auditor')
  listSweeps(@Payload() request: ListSweepsRequest) {
    return this.sweeps.list(request.limit);
  }
}
