import {
  DsgClient,
  PingRequest,
  type PingReply,
  SERVICE_NAMES,
  type ServiceName,
} from '@dsg/contracts';
import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { IsIn } from 'class-validator';

class PingTarget {
  @IsIn(SERVICE_NAMES)
  service!: ServiceName;
}

/**
 * POST /v1/services/{service}/ping: a round trip gateway → NATS → service → gateway, for
 * operators checking the path a real request takes.
 */
@Controller('v1/services')
export class DiagnosticsController {
  constructor(private readonly client: DsgClient) {}

  @Post(':service/ping')
  @HttpCode(200)
  ping(@Param() target: PingTarget, @Body() request: PingRequest): Promise<PingReply> {
    return this.client.system(target.service).ping(request, { retries: 0 });
  }
}
