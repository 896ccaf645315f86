import { Module } from '@nestjs/common';
import { PersonAuthGuard } from './auth/person-auth.guard';
import { GATEWAY_CONFIG, loadGatewayConfig } from './config/gateway.config';
import { DiagnosticsController } from './diagnostics/diagnostics.controller';
import { StackHealthController } from './health/stack-health.controller';
import { StackHealthService } from './health/stack-health.service';
import { SigningKeysController } from './keys/signing-keys.controller';

@Module({
  controllers: [StackHealthController, DiagnosticsController, SigningKeysController],
  providers: [
    StackHealthService,
    PersonAuthGuard,
    { provide: GATEWAY_CONFIG, useFactory: () => loadGatewayConfig() },
  ],
})
export class GatewayModule {}
