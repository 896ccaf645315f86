import { Module } from '@nestjs/common';

/**
 * Feature modules of the retention service are imported here. The platform (configuration, NATS,
 * gRPC, database, health, system operations) is provided around it by runService.
 */
@Module({})
export class RetentionModule {}
