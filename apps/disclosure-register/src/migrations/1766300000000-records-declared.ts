import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The register's entries as holdings (issue 7): how far into the log the retention service was
 * told of each subject's entries (records.disclosures, ACC-9 and RET-2: six years from creation).
 * The log commits in position order, so one position is the whole state.
 */
export class RegisterRecordsDeclared1766300000000 implements MigrationInterface {
  name = 'RegisterRecordsDeclared1766300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE disclosure_register.records_declared (
        one      boolean PRIMARY KEY DEFAULT true CHECK (one),
        position bigint NOT NULL
      )`);
    await queryRunner.query(
      'INSERT INTO disclosure_register.records_declared (position) VALUES (0)',
    );
    await queryRunner.query(
      'GRANT SELECT, UPDATE ON disclosure_register.records_declared TO disclosure_register_runtime',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE disclosure_register.records_declared');
  }
}
