import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Restrictions and confidential channels (HIP-7); their ends are rows of their own. */
export class ConsentRestrictions1764900000000 implements MigrationInterface {
  name = 'ConsentRestrictions1764900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE consent.restrictions (
        id              uuid PRIMARY KEY,
        client_id       text NOT NULL REFERENCES consent.subjects (client_id),
        kind            text NOT NULL CHECK (kind IN ('disclosure', 'self-pay-health-plan', 'confidential-channel')),
        recipient_kinds text[] NOT NULL DEFAULT '{}',
        purposes        text[] NOT NULL DEFAULT '{}',
        categories      text[] NOT NULL DEFAULT '{}',
        channel         text,
        agreed          boolean NOT NULL,
        requested_by    text NOT NULL,
        requested_at    timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(
      'CREATE INDEX restrictions_client_idx ON consent.restrictions (client_id)',
    );
    await queryRunner.query(`
      CREATE TABLE consent.restriction_ends (
        restriction_id uuid PRIMARY KEY REFERENCES consent.restrictions (id),
        ended_by       text NOT NULL CHECK (ended_by IN ('subject', 'spa')),
        ended_at       timestamptz NOT NULL DEFAULT now(),
        recorded_by    text NOT NULL
      )`);
    await queryRunner.query(
      'GRANT SELECT, INSERT ON consent.restrictions, consent.restriction_ends TO consent_runtime',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE consent.restriction_ends, consent.restrictions');
  }
}
