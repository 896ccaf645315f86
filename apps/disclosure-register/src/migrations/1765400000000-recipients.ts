import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Recipients, one row per version (never updated): kind (POL-2), legal role, address (ACC-1),
 * business associate agreement (HIP-5), per purpose the categories it may receive (HIP-4).
 */
export class RegisterRecipients1765400000000 implements MigrationInterface {
  name = 'RegisterRecipients1765400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE disclosure_register.recipient_versions (
        recipient_id text NOT NULL,
        version      integer NOT NULL CHECK (version >= 1),
        name         text NOT NULL,
        kind         text NOT NULL,
        legal_role   text NOT NULL
          CHECK (legal_role IN ('workforce', 'business-associate', 'third-party', 'public-authority')),
        address      jsonb NOT NULL,
        baa          jsonb,
        allowances   jsonb NOT NULL,
        active       boolean NOT NULL,
        reason       text NOT NULL,
        changed_by   text NOT NULL,
        changed_at   timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (recipient_id, version)
      )`);
    await queryRunner.query(
      'GRANT SELECT, INSERT ON disclosure_register.recipient_versions TO disclosure_register_runtime',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE disclosure_register.recipient_versions');
  }
}
