import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Receipts and personal details are stored as `json` (the text as written), not `jsonb`. Nothing
 * queries inside them, and parsing them into jsonb was a third of a disclosure batch's statement
 * (measured alone: 62 entries took 4.4 ms against 6.0 ms; README, "How a disclosure is
 * written"). The register now stores an entry's details as the canonical JSON its commitment is
 * computed over, so `verify` hashes them as stored; details written before keep jsonb's text
 * here, which `verify` canonicalises first.
 */
export class RegisterJsonColumns1765800000000 implements MigrationInterface {
  name = 'RegisterJsonColumns1765800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE disclosure_register.idempotency_keys ALTER COLUMN receipt TYPE json USING receipt::json',
    );
    await queryRunner.query(
      'ALTER TABLE disclosure_register.entries ALTER COLUMN details TYPE json USING details::json',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE disclosure_register.entries ALTER COLUMN details TYPE jsonb USING details::jsonb',
    );
    await queryRunner.query(
      'ALTER TABLE disclosure_register.idempotency_keys ALTER COLUMN receipt TYPE jsonb USING receipt::jsonb',
    );
  }
}
