import { Module } from '@nestjs/common';
import { DiagnosticsController } from './diagnostics/diagnostics.controller';
import { StackHealthController } from './health/stack-health.controller';
import { StackHealthService } from './health/stack-health.service';

@Module({
  controllers: [StackHealthController, DiagnosticsController],
  providers: [StackHealthService],
})
export class GatewayModule {}
