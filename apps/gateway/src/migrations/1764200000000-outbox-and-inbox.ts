import { createOutboxAndInbox } from '@dsg/platform';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Transactional outbox (events published by the relay) and consumer inbox of gateway. */
export class GatewayOutboxAndInbox1764200000000 implements MigrationInterface {
  name = 'GatewayOutboxAndInbox1764200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await createOutboxAndInbox(queryRunner, 'gateway', 'gateway_runtime');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE "gateway".inbox, "gateway".outbox');
  }
}
