import { createOutboxAndInbox } from '@dsg/platform';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Transactional outbox (events published by the relay) and consumer inbox of retention. */
export class RetentionOutboxAndInbox1764200000000 implements MigrationInterface {
  name = 'RetentionOutboxAndInbox1764200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await createOutboxAndInbox(queryRunner, 'retention', 'retention_runtime');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE "retention".inbox, "retention".outbox');
  }
}
