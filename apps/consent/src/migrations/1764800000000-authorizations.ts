import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Authorizations (HIP-1, CMI-2) and their revocations (HIP-2). Both append-only for the runtime
 * role: an authorization is never edited, a revocation is a row of its own, effective from the
 * moment it was received.
 */
export class ConsentAuthorizations1764800000000 implements MigrationInterface {
  name = 'ConsentAuthorizations1764800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE consent.authorizations (
        id             uuid PRIMARY KEY,
        client_id      text NOT NULL REFERENCES consent.subjects (client_id),
        purposes       text[] NOT NULL,
        categories     text[] NOT NULL,
        recipients     text[] NOT NULL,
        expires_at     timestamptz NOT NULL,
        signed_at      timestamptz NOT NULL,
        signed_by      text NOT NULL,
        policy_version text NOT NULL REFERENCES consent.policy_versions (version),
        elements       jsonb NOT NULL,
        recorded_by    text NOT NULL,
        recorded_at    timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(
      'CREATE INDEX authorizations_client_idx ON consent.authorizations (client_id)',
    );
    await queryRunner.query(`
      CREATE TABLE consent.authorization_revocations (
        authorization_id uuid PRIMARY KEY REFERENCES consent.authorizations (id),
        received_at      timestamptz NOT NULL DEFAULT now(),
        received_via     text NOT NULL,
        recorded_by      text NOT NULL
      )`);
    await queryRunner.query(
      'GRANT SELECT, INSERT ON consent.authorizations, consent.authorization_revocations TO consent_runtime',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE consent.authorization_revocations, consent.authorizations');
  }
}
