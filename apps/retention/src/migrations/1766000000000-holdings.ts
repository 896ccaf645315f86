import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What each system holds: one row per system, subject and category, with the dates that start
 * its clocks and the due date computed from the policy bundle's retention rules (RET-1 to RET-5),
 * the rule, and why. Sweeps select by the partial index on the due date: only rows that are due
 * at some date are in it.
 */
export class RetentionHoldings1766000000000 implements MigrationInterface {
  name = 'RetentionHoldings1766000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE retention.holdings (
        system         text COLLATE "C" NOT NULL,
        client_id      text COLLATE "C" NOT NULL,
        category       text COLLATE "C" NOT NULL,
        clocks         jsonb NOT NULL,
        date_of_birth  date,
        due_at         timestamptz,
        action         text,
        rule           text NOT NULL,
        reason         text NOT NULL,
        policy_version text NOT NULL,
        declared_at    timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (system, client_id, category)
      )`);
    await queryRunner.query(
      `CREATE INDEX holdings_due ON retention.holdings (due_at, system, client_id, category)
        WHERE due_at IS NOT NULL`,
    );
    await queryRunner.query(
      'GRANT SELECT, INSERT, UPDATE ON retention.holdings TO retention_runtime',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE retention.holdings');
  }
}
