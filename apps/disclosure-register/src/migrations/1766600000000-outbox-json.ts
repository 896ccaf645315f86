import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The register's outbox keeps each envelope as the JSON text it was written as (json, not jsonb),
 * compressed with lz4 where PostgreSQL has it. Its rows are the disclosure batches' events, a few
 * megabytes a second under load; jsonb parsed each on the way in and printed it again for the
 * relay, which publishes the text (measured: about a fifth of the database's work per
 * disclosure). The other services' outboxes carry little and stay jsonb; the outbox code writes
 * and reads both. An event's JSON is still checked on the way in.
 */
export class RegisterOutboxJson1766600000000 implements MigrationInterface {
  name = 'RegisterOutboxJson1766600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE disclosure_register.outbox ALTER COLUMN envelope TYPE json USING envelope::json',
    );
    // A server built without lz4 keeps its default compression.
    await queryRunner.query(`
      DO $$
      BEGIN
        ALTER TABLE disclosure_register.outbox ALTER COLUMN envelope SET COMPRESSION lz4;
      EXCEPTION WHEN feature_not_supported THEN
        NULL;
      END $$`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE disclosure_register.outbox ALTER COLUMN envelope TYPE jsonb USING envelope::jsonb',
    );
  }
}
