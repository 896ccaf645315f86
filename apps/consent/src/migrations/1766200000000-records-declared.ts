import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The consent ledger's records as holdings (issue 7): per subject, the latest ledger date the
 * retention service was told of (records.consents, RET-2: six years from the last effective date).
 */
export class ConsentRecordsDeclared1766200000000 implements MigrationInterface {
  name = 'ConsentRecordsDeclared1766200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE consent.records_declared (
        client_id text PRIMARY KEY,
        at        timestamptz NOT NULL
      )`);
    await queryRunner.query(
      'GRANT SELECT, INSERT, UPDATE ON consent.records_declared TO consent_runtime',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE consent.records_declared');
  }
}
