import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Legal holds (RET-6): the hold as placed (its scope and reason, who placed it) and, once, its
 * release; every step is a row of its history, which the runtime role can only add to.
 */
export class RetentionLegalHolds1766100000000 implements MigrationInterface {
  name = 'RetentionLegalHolds1766100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE retention.legal_holds (
        id              uuid PRIMARY KEY,
        caller          text NOT NULL,
        idempotency_key text NOT NULL,
        request_hash    text NOT NULL,
        scope           jsonb NOT NULL,
        reason          text NOT NULL,
        placed_by       text NOT NULL,
        placed_at       timestamptz NOT NULL DEFAULT now(),
        released_by     text,
        released_at     timestamptz,
        UNIQUE (caller, idempotency_key),
        CHECK ((released_by IS NULL) = (released_at IS NULL))
      )`);
    await queryRunner.query(
      'CREATE INDEX legal_holds_active ON retention.legal_holds (placed_at) WHERE released_at IS NULL',
    );
    await queryRunner.query(`
      CREATE TABLE retention.legal_hold_history (
        id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        hold_id uuid NOT NULL REFERENCES retention.legal_holds (id),
        action  text NOT NULL,
        at      timestamptz NOT NULL DEFAULT now(),
        by      text NOT NULL,
        note    text NOT NULL
      )`);
    await queryRunner.query(
      'CREATE INDEX legal_hold_history_hold ON retention.legal_hold_history (hold_id, id)',
    );
    await queryRunner.query(
      'GRANT SELECT, INSERT, UPDATE ON retention.legal_holds TO retention_runtime',
    );
    await queryRunner.query(
      'GRANT SELECT, INSERT ON retention.legal_hold_history TO retention_runtime',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE retention.legal_hold_history, retention.legal_holds');
  }
}
