import { Module } from '@nestjs/common';
import { loadRetentionConfig, RETENTION_CONFIG } from './config/retention.config';
import { ErasuresController } from './erasures/erasures.controller';
import { ErasuresService } from './erasures/erasures.service';
import { HoldsController } from './holds/holds.controller';
import { HoldsService } from './holds/holds.service';
import { HoldingsController } from './holdings/holdings.controller';
import { HoldingsService } from './holdings/holdings.service';
import { HoldingsSpaEvents } from './holdings/spa-events.service';
import { OwnRecordsHolder } from './purges/own-records.holder';
import { PurgesController } from './purges/purges.controller';
import { PurgesService } from './purges/purges.service';
import { SweepsService } from './purges/sweeps.service';
import { PolicyEventsService } from './schedules/policy-events.service';
import { RetentionPolicy } from './schedules/retention-policy';

/**
 * The retention service: schedules from the policy bundle, the holdings they date, legal holds,
 * sweeps that send purge commands to the holding systems (this product's own records included),
 * and erasure requests with their exceptions and signed certificates. The platform
 * (configuration, NATS, gRPC, database, health, system operations) is provided around it by
 * runService.
 */
@Module({
  controllers: [HoldingsController, HoldsController, PurgesController, ErasuresController],
  providers: [
    { provide: RETENTION_CONFIG, useFactory: () => loadRetentionConfig() },
    RetentionPolicy,
    HoldingsService,
    HoldingsSpaEvents,
    HoldsService,
    PolicyEventsService,
    PurgesService,
    SweepsService,
    ErasuresService,
    OwnRecordsHolder,
  ],
})
export class RetentionModule {}
