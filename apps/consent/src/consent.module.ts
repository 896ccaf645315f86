import { OwnRecordsService } from './ledger/own-records.service';
import { Module } from '@nestjs/common';
import { AuthorizationsController } from './authorizations/authorizations.controller';
import { AuthorizationsService } from './authorizations/authorizations.service';
import { CONSENT_CONFIG, loadConsentConfig } from './config/consent.config';
import { DecisionController } from './decision/decision.controller';
import { DecisionService } from './decision/decision.service';
import { DecisionReplicas } from './decision/decision-replicas.service';
import { SubjectFactsCache } from './decision/subject-facts.cache';
import { SpaEventsService } from './spa-events/spa-events.service';
import { LedgerController } from './ledger/ledger.controller';
import { GpcService } from './ledger/gpc.service';
import { LedgerService } from './ledger/ledger.service';
import { NoticeDelivery } from './notices/notice-delivery';
import { NoticeDispatcher } from './notices/notice-dispatcher.service';
import { NoticesController } from './notices/notices.controller';
import { NoticesService } from './notices/notices.service';
import { RegisterNoticeEventsService } from './notices/register-notice-events.service';
import { PolicyController } from './policy/policy.controller';
import { PolicyService } from './policy/policy.service';
import { RequestLogController } from './requests/request-log.controller';
import { RequestLogRecordsService } from './requests/request-log-records.service';
import { RequestLogService } from './requests/request-log.service';
import { ClientDirectory } from './rights/client-directory';
import { RightsController } from './rights/rights.controller';
import { RightsEventsService } from './rights/rights-events.service';
import { RightsService } from './rights/rights.service';
import { SubjectReports } from './rights/subject-reports';
import { RestrictionsController } from './restrictions/restrictions.controller';
import { RestrictionsService } from './restrictions/restrictions.service';
import { SubjectsController } from './subjects/subjects.controller';
import { SubjectsService } from './subjects/subjects.service';

/**
 * The consent service: the policy as code, subjects, the consent ledger with GPC,
 * authorizations, restrictions, the rights-request log, and the sharing decision. The platform
 * (configuration, NATS, gRPC, database, health, system operations) is provided around it by
 * runService.
 */
@Module({
  controllers: [
    PolicyController,
    SubjectsController,
    LedgerController,
    AuthorizationsController,
    RestrictionsController,
    RequestLogController,
    NoticesController,
    RightsController,
    DecisionController,
  ],
  providers: [
    { provide: CONSENT_CONFIG, useFactory: () => loadConsentConfig() },
    PolicyService,
    SubjectsService,
    LedgerService,
    GpcService,
    AuthorizationsService,
    RestrictionsService,
    SubjectFactsCache,
    DecisionReplicas,
    DecisionService,
    SpaEventsService,
    OwnRecordsService,
    RequestLogService,
    RequestLogRecordsService,
    NoticeDelivery,
    NoticeDispatcher,
    NoticesService,
    RegisterNoticeEventsService,
    ClientDirectory,
    SubjectReports,
    RightsService,
    RightsEventsService,
  ],
})
export class ConsentModule {}
