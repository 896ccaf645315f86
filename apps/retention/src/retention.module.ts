import { Module } from '@nestjs/common';
import { HoldingsController } from './holdings/holdings.controller';
import { HoldingsService } from './holdings/holdings.service';
import { RetentionPolicy } from './schedules/retention-policy';

/**
 * The retention service: schedules from the policy bundle and the holdings they date (issue 7 is
 * under way: legal holds, sweeps and erasure are still to come). The platform (configuration,
 * NATS, gRPC, database, health, system operations) is provided around it by runService.
 */
@Module({
  controllers: [HoldingsController],
  providers: [RetentionPolicy, HoldingsService],
})
export class RetentionModule {}
