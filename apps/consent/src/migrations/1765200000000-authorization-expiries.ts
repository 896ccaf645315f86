import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An authorization's expiry by event (HIP-1: "an expiration date or event"): when the spa's
 * systems report the event its `expiryEvent` names, the expiry is recorded here, never edited.
 */
export class ConsentAuthorizationExpiries1765200000000 implements MigrationInterface {
  name = 'ConsentAuthorizationExpiries1765200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE consent.authorization_expiries (
        authorization_id uuid PRIMARY KEY REFERENCES consent.authorizations (id),
        event            text NOT NULL,
        expired_at       timestamptz NOT NULL,
        event_id         text NOT NULL,
        recorded_at      timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(
      'GRANT SELECT, INSERT ON consent.authorization_expiries TO consent_runtime',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE consent.authorization_expiries');
  }
}
