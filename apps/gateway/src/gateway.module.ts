import { Module } from '@nestjs/common';
import { AccessLogService } from './access-log/access-log.service';
import { ApiController } from './api/api.controller';
import { Authenticator } from './auth/authenticator';
import { GATEWAY_CONFIG, loadGatewayConfig } from './config/gateway.config';
import { StackHealthController } from './health/stack-health.controller';
import { StackHealthService } from './health/stack-health.service';
import { SigningKeysController } from './keys/signing-keys.controller';

@Module({
  controllers: [StackHealthController, SigningKeysController, ApiController],
  providers: [
    StackHealthService,
    Authenticator,
    AccessLogService,
    { provide: GATEWAY_CONFIG, useFactory: () => loadGatewayConfig() },
  ],
})
export class GatewayModule {}
