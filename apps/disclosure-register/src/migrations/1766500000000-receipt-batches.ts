import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A disclosure receipt is kept as what it is made of, not as a copy: its body is its entry's
 * (the leaf's decision, reasons, position …, the leaf hash), and its batch proof and signature
 * come from the batch it was signed in, whose entries are the positions [first_position,
 * first_position + size). A replayed key rebuilds the same receipt from them
 * (DisclosuresService.rebuildReceipt). A key written before this keeps its receipt; a new one has
 * none (null). About a kilobyte less to write per disclosure, on the register's busiest path.
 */
export class RegisterReceiptBatches1766500000000 implements MigrationInterface {
  name = 'RegisterReceiptBatches1766500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE disclosure_register.receipt_batches (
        first_position bigint PRIMARY KEY CHECK (first_position >= 0),
        size           int    NOT NULL CHECK (size > 0),
        kid            text   NOT NULL,
        signature      text   NOT NULL
      )`);
    // Written once, never changed: as the entries they sign for.
    await queryRunner.query(
      'GRANT SELECT, INSERT ON disclosure_register.receipt_batches TO disclosure_register_runtime',
    );
    await queryRunner.query(
      'ALTER TABLE disclosure_register.idempotency_keys ALTER COLUMN receipt DROP NOT NULL',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // Keys without a receipt cannot go back to a column that requires one.
    await queryRunner.query(
      'DELETE FROM disclosure_register.idempotency_keys WHERE receipt IS NULL',
    );
    await queryRunner.query(
      'ALTER TABLE disclosure_register.idempotency_keys ALTER COLUMN receipt SET NOT NULL',
    );
    await queryRunner.query('DROP TABLE disclosure_register.receipt_batches');
  }
}
