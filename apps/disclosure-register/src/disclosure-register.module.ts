import { Module } from '@nestjs/common';

/**
 * Feature modules of the disclosure-register service are imported here. The platform (configuration, NATS,
 * gRPC, database, health, system operations) is provided around it by runService.
 */
@Module({})
export class DisclosureRegisterModule {}
