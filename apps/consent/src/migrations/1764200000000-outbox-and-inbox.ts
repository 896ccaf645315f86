import { createOutboxAndInbox } from '@dsg/platform';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Transactional outbox (events published by the relay) and consumer inbox of consent. */
export class ConsentOutboxAndInbox1764200000000 implements MigrationInterface {
  name = 'ConsentOutboxAndInbox1764200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await createOutboxAndInbox(queryRunner, 'consent', 'consent_runtime');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE "consent".inbox, "consent".outbox');
  }
}
