import { keepOutboxEnvelopesAsJson, keepOutboxEnvelopesAsJsonb } from '@dsg/platform';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The register's outbox keeps each envelope as the JSON text it was written as: its rows are the
 * disclosure batches' events, a few megabytes a second under load (measured: jsonb's parsing and
 * printing were about a fifth of the database's work per disclosure). See
 * keepOutboxEnvelopesAsJson.
 */
export class RegisterOutboxJson1766600000000 implements MigrationInterface {
  name = 'RegisterOutboxJson1766600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await keepOutboxEnvelopesAsJson(queryRunner, 'disclosure_register');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await keepOutboxEnvelopesAsJsonb(queryRunner, 'disclosure_register');
  }
}
