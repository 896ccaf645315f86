import { Module } from '@nestjs/common';
import { DiagnosticsController } from './diagnostics/diagnostics.controller';
import { StackHealthController } from './health/stack-health.controller';
import { StackHealthService } from './health/stack-health.service';
import { SigningKeysController } from './keys/signing-keys.controller';

@Module({
  controllers: [StackHealthController, DiagnosticsController, SigningKeysController],
  providers: [StackHealthService],
})
export class GatewayModule {}
