import { Module } from '@nestjs/common';
import { CONSENT_CONFIG, loadConsentConfig } from './config/consent.config';
import { PolicyController } from './policy/policy.controller';
import { PolicyService } from './policy/policy.service';

/**
 * The consent service: the policy as code (this module so far). The platform (configuration,
 * NATS, gRPC, database, health, system operations) is provided around it by runService.
 */
@Module({
  controllers: [PolicyController],
  providers: [{ provide: CONSENT_CONFIG, useFactory: () => loadConsentConfig() }, PolicyService],
})
export class ConsentModule {}
