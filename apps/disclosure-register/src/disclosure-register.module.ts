import { Module } from '@nestjs/common';
import { BreachesController } from './breaches/breaches.controller';
import { BreachesService } from './breaches/breaches.service';
import { ConsentChecks } from './consent/consent-checks';
import { loadRegisterConfig, REGISTER_CONFIG } from './config/register.config';
import { DisclosuresController } from './disclosures/disclosures.controller';
import { DisclosuresService } from './disclosures/disclosures.service';
import { ExportsController } from './exports/exports.controller';
import { ExportsService } from './exports/exports.service';
import { RegisterLog } from './log/register-log.service';
import { PolicyClient } from './policy/policy.client';
import { RecipientsController } from './recipients/recipients.controller';
import { RecipientsService } from './recipients/recipients.service';

/**
 * The disclosure register: recipients, the disclosure decision, and the Merkle log every
 * decision is recorded in. The platform (configuration, NATS, gRPC, database, health, system
 * operations) is provided around it by runService.
 */
@Module({
  controllers: [RecipientsController, DisclosuresController, BreachesController, ExportsController],
  providers: [
    { provide: REGISTER_CONFIG, useFactory: () => loadRegisterConfig() },
    PolicyClient,
    RecipientsService,
    RegisterLog,
    BreachesService,
    ConsentChecks,
    DisclosuresService,
    ExportsService,
  ],
})
export class DisclosureRegisterModule {}
