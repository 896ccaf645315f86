import { Module } from '@nestjs/common';
import { HoldsController } from './holds/holds.controller';
import { HoldsService } from './holds/holds.service';
import { HoldingsController } from './holdings/holdings.controller';
import { HoldingsService } from './holdings/holdings.service';
import { PolicyEventsService } from './schedules/policy-events.service';
import { RetentionPolicy } from './schedules/retention-policy';

/**
 * The retention service: schedules from the policy bundle, the holdings they date, and legal
 * holds (issue 7 is under way: sweeps and erasure are still to come). The platform (configuration,
 * NATS, gRPC, database, health, system operations) is provided around it by runService.
 */
@Module({
  controllers: [HoldingsController, HoldsController],
  providers: [RetentionPolicy, HoldingsService, HoldsService, PolicyEventsService],
})
export class RetentionModule {}
