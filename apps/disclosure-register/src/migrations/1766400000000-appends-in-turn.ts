import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Optimistic appends in turn (see DisclosuresService.appendOptimistically): a batch's statement
 * takes its turn (take_turn: an advisory lock the batch sent after it waits for), writes its
 * idempotency keys and events without the log's lock, then calls append_in_turn, which waits for
 * the batch sent before it (that batch's turn), takes the log's append lock, and
 * checks on a fresh snapshot (a volatile function's statements each take one) that the entries
 * go right after the last committed one and the recipients are as the batch assumed. Only then
 * are the entries written (the statement's unreferenced sub-statement runs after its main query),
 * so the lock is held for the entries and the commit alone, and the next batch's keys and events
 * are written meanwhile. Any check that fails aborts the statement with SQLSTATE DSG01: nothing of
 * it is written, and the batch is appended again under the lock. It replaces append_guard, whose
 * statement took the append lock only if it was free, for the whole statement.
 */
export class RegisterAppendsInTurn1766400000000 implements MigrationInterface {
  name = 'RegisterAppendsInTurn1766400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE FUNCTION disclosure_register.take_turn(turn int) RETURNS boolean
        LANGUAGE plpgsql VOLATILE AS $$
      BEGIN
        PERFORM pg_advisory_xact_lock(hashtext('dsg-register-turn'), turn);
        RETURN true;
      END $$`);
    await queryRunner.query(`
      CREATE FUNCTION disclosure_register.append_in_turn(
        keys_new boolean, next bigint, recipient_ids text[], recipient_versions int[],
        after_turn int) RETURNS boolean
        LANGUAGE plpgsql VOLATILE AS $$
      DECLARE
        waits int := 0;
      BEGIN
        IF keys_new IS NOT TRUE THEN
          RAISE EXCEPTION 'optimistic append: an idempotency key was used before' USING ERRCODE = 'DSG01';
        END IF;
        -- The batch sent before this one: wait for its end (its turn), or, should this statement
        -- have reached the database first, for its start, a few milliseconds at most. The turn is
        -- waited for and let go at once, never held: that batch may not have taken it yet.
        IF after_turn IS NOT NULL THEN
          LOOP
            PERFORM pg_advisory_lock_shared(hashtext('dsg-register-turn'), after_turn);
            PERFORM pg_advisory_unlock_shared(hashtext('dsg-register-turn'), after_turn);
            EXIT WHEN waits >= 20
              OR (SELECT coalesce(max(position) + 1, 0) FROM disclosure_register.entries) >= next;
            waits := waits + 1;
            PERFORM pg_sleep(0.0005);
          END LOOP;
        END IF;
        PERFORM pg_advisory_xact_lock(hashtext('dsg-register-append'));
        IF (SELECT coalesce(max(position) + 1, 0) FROM disclosure_register.entries) <> next
           OR EXISTS (
             SELECT 1 FROM unnest(recipient_ids, recipient_versions) AS g(id, version)
              WHERE g.version IS DISTINCT FROM (
                    SELECT max(r.version) FROM disclosure_register.recipient_versions r
                     WHERE r.recipient_id = g.id)) THEN
          RAISE EXCEPTION 'optimistic append: the log or a recipient changed' USING ERRCODE = 'DSG01';
        END IF;
        RETURN true;
      END $$`);
    for (const signature of [
      'take_turn(int)',
      'append_in_turn(boolean, bigint, text[], int[], int)',
    ]) {
      await queryRunner.query(
        `REVOKE ALL ON FUNCTION disclosure_register.${signature} FROM PUBLIC`,
      );
      await queryRunner.query(
        `GRANT EXECUTE ON FUNCTION disclosure_register.${signature} TO disclosure_register_runtime`,
      );
    }
    await queryRunner.query('DROP FUNCTION disclosure_register.append_guard(boolean)');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
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
    await queryRunner.query(
      'DROP FUNCTION disclosure_register.append_in_turn(boolean, bigint, text[], int[], int)',
    );
    await queryRunner.query('DROP FUNCTION disclosure_register.take_turn(int)');
  }
}
