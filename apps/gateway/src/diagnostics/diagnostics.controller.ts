import {
  DsgClient,
  PingRequest,
  type PingReply,
  SERVICE_NAMES,
  type ServiceName,
} from '@dsg/contracts';
import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBody, ApiOkResponse, ApiParam } from '@nestjs/swagger';
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
  @ApiParam({ name: 'service', enum: SERVICE_NAMES })
  @ApiBody({ schema: { $ref: '#/components/schemas/PingRequest' } })
  @ApiOkResponse({ schema: { $ref: '#/components/schemas/PingReply' } })
  @ApiBadRequestResponse({ schema: { $ref: '#/components/schemas/Problem' } })
  ping(@Param() target: PingTarget, @Body() request: PingRequest): Promise<PingReply> {
    return this.client.system(target.service).ping(request, { retries: 0 });
  }
}
