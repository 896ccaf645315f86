import { Rpc, StackHealthRequest } from '@dsg/contracts';
import { Controller, Get, Res } from '@nestjs/common';
import { GrpcMethod, MessagePattern, Payload } from '@nestjs/microservices';
import { ApiOkResponse, ApiServiceUnavailableResponse } from '@nestjs/swagger';
import type { Response } from 'express';
import { StackHealthService } from './stack-health.service';

/**
 * Every service's status gathered over NATS: GET /health (503 when any is not ready), and the
 * same answer on NATS (`gateway.health.stack`) and gRPC (`GatewayService/StackHealth`).
 */
@Controller('health')
export class StackHealthController {
  constructor(private readonly health: StackHealthService) {}

  @Get()
  @ApiOkResponse({ schema: { $ref: '#/components/schemas/StackHealthReply' } })
  @ApiServiceUnavailableResponse({ schema: { $ref: '#/components/schemas/StackHealthReply' } })
  async stack(@Res({ passthrough: true }) res: Response) {
    const health = await this.health.check();
    res.status(health.state === 'ok' ? 200 : 503);
    return health;
  }

  @MessagePattern(Rpc.gateway.stackHealth.subject)
  stackOverNats(@Payload() _request: StackHealthRequest) {
    return this.health.check();
  }

  @GrpcMethod('GatewayService', 'StackHealth')
  stackOverGrpc(@Payload() _request: StackHealthRequest) {
    return this.health.check();
  }
}
