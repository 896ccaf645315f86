import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * KID-1: a guardian's grant for a child under 13 records how the parent was verified
 * (16 CFR 312.5(b)(2)); only such a grant is verifiable parental consent.
 */
export class ConsentParentalVerification1765300000000 implements MigrationInterface {
  name = 'ConsentParentalVerification1765300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE consent.ledger ADD COLUMN parental_verification text
        CHECK (parental_verification IN ('signed-form', 'payment-card', 'phone-or-video-call',
                                         'government-id', 'knowledge-based-questions', 'face-match-to-id')),
        ADD CONSTRAINT ledger_parental_verification_by_guardian
        CHECK (parental_verification IS NULL OR (actor = 'guardian' AND kind IN ('grant', 'opt-in')))`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE consent.ledger DROP COLUMN parental_verification');
  }
}
