import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Published versions of the policy bundle. A version is written once and never changed (the
 * runtime role may only INSERT and SELECT): what was in force on a date stays provable (POL-6).
 */
export class ConsentPolicyVersions1764400000000 implements MigrationInterface {
  name = 'ConsentPolicyVersions1764400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE consent.policy_versions (
        version        text PRIMARY KEY,
        policy_id      text NOT NULL,
        effective_date date NOT NULL,
        material       boolean NOT NULL,
        content_hash   text NOT NULL CHECK (content_hash ~ '^[0-9a-f]{64}$'),
        bundle         jsonb NOT NULL,
        published_at   timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(
      'CREATE INDEX policy_versions_effective_idx ON consent.policy_versions (effective_date DESC)',
    );
    await queryRunner.query('GRANT SELECT, INSERT ON consent.policy_versions TO consent_runtime');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE consent.policy_versions');
  }
}
