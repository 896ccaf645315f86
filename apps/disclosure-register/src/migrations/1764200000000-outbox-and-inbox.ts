import { createOutboxAndInbox } from '@dsg/platform';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Transactional outbox (events published by the relay) and consumer inbox of disclosure_register. */
export class DisclosureRegisterOutboxAndInbox1764200000000 implements MigrationInterface {
  name = 'DisclosureRegisterOutboxAndInbox1764200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await createOutboxAndInbox(queryRunner, 'disclosure_register', 'disclosure_register_runtime');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE "disclosure_register".inbox, "disclosure_register".outbox');
  }
}
