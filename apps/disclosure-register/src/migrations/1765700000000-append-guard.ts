import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An optimistic append (one statement, no lock: see DisclosuresService) states what it assumed —
 * the log's next position, the recipients' current versions, keys not yet used — and this
 * function aborts the statement, with SQLSTATE DSG01, when the assumption did not hold on the
 * statement's snapshot. Nothing of the statement is then written; the batch is appended again
 * under the log's lock.
 */
export class RegisterAppendGuard1765700000000 implements MigrationInterface {
  name = 'RegisterAppendGuard1765700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // A key's entry is written by the same statement as the key; the foreign key's check, a query
    // per row, was a third of that statement's time (README, "How a disclosure is written").
    await queryRunner.query(
      'ALTER TABLE disclosure_register.idempotency_keys DROP CONSTRAINT idempotency_keys_entry_id_fkey',
    );
    await queryRunner.query(`
      CREATE FUNCTION disclosure_register.append_guard(holds boolean) RETURNS boolean
        LANGUAGE plpgsql AS $$
      BEGIN
        IF holds IS NOT TRUE THEN
          RAISE EXCEPTION 'optimistic append: the log or a recipient changed' USING ERRCODE = 'DSG01';
        END IF;
        RETURN true;
      END $$`);
    await queryRunner.query(
      'REVOKE ALL ON FUNCTION disclosure_register.append_guard(boolean) FROM PUBLIC',
    );
    await queryRunner.query(
      'GRANT EXECUTE ON FUNCTION disclosure_register.append_guard(boolean) TO disclosure_register_runtime',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP FUNCTION disclosure_register.append_guard(boolean)');
    await queryRunner.query(`
      ALTER TABLE disclosure_register.idempotency_keys ADD CONSTRAINT idempotency_keys_entry_id_fkey
        FOREIGN KEY (entry_id) REFERENCES disclosure_register.entries (entry_id)`);
  }
}
