import { Module } from '@nestjs/common';
import { AccountingController } from './accounting/accounting.controller';
import { AccountingService } from './accounting/accounting.service';
import { SuspensionsService } from './accounting/suspensions.service';
import { BreachesController } from './breaches/breaches.controller';
import { BreachesService } from './breaches/breaches.service';
import { ConsentChecks } from './consent/consent-checks';
import { loadRegisterConfig, REGISTER_CONFIG } from './config/register.config';
import { DisclosuresController } from './disclosures/disclosures.controller';
import { DisclosuresService } from './disclosures/disclosures.service';
import { ExportsController } from './exports/exports.controller';
import { ExportsHttpController } from './exports/exports-http.controller';
import { ExportsService } from './exports/exports.service';
import { EntriesController } from './entries/entries.controller';
import { EntriesService } from './entries/entries.service';
import { NoticesController } from './notices/notices.controller';
import { NoticesService } from './notices/notices.service';
import { LegalRequestScope } from './legal-requests/legal-request-scope';
import { LegalRequestsController } from './legal-requests/legal-requests.controller';
import { LegalRequestsService } from './legal-requests/legal-requests.service';
import { RegisterOwnRecords } from './log/own-records.service';
import { RegisterLog } from './log/register-log.service';
import { PolicyClient } from './policy/policy.client';
import { RecipientsController } from './recipients/recipients.controller';
import { RecipientsService } from './recipients/recipients.service';

/**
 * The disclosure register: recipients, the disclosure decision, and the Merkle log every
 * decision is recorded in; legal requests, accountings of disclosures, and auditors' queries and
 * exports of the log. The platform (configuration, NATS, gRPC, database, health, system
 * operations) is provided around it by runService.
 */
@Module({
  controllers: [
    RecipientsController,
    DisclosuresController,
    BreachesController,
    ExportsController,
    ExportsHttpController,
    EntriesController,
    LegalRequestsController,
    AccountingController,
    NoticesController,
  ],
  providers: [
    { provide: REGISTER_CONFIG, useFactory: () => loadRegisterConfig() },
    PolicyClient,
    RecipientsService,
    RegisterLog,
    BreachesService,
    ConsentChecks,
    DisclosuresService,
    ExportsService,
    EntriesService,
    LegalRequestScope,
    LegalRequestsService,
    SuspensionsService,
    AccountingService,
    NoticesService,
    RegisterOwnRecords,
  ],
})
export class DisclosureRegisterModule {}
