import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The register: a Merkle log (RFC 9162). Each entry's leaf is the canonical JSON (RFC 8785) of
 * what is hashed; personal details are stored apart (details) and bound to the leaf by a salted
 * commitment, so they can be redacted later while the log still verifies. The runtime role may
 * only INSERT and SELECT entries and tree heads: nothing in the log is ever changed.
 */
export class RegisterLog1765500000000 implements MigrationInterface {
  name = 'RegisterLog1765500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE disclosure_register.entries (
        position    bigint PRIMARY KEY CHECK (position >= 0),
        entry_id    uuid NOT NULL UNIQUE,
        leaf        text NOT NULL,
        leaf_hash   bytea NOT NULL CHECK (length(leaf_hash) = 32),
        details     jsonb,
        salt        bytea,
        recorded_at timestamptz NOT NULL
      )`);
    await queryRunner.query(`
      CREATE TABLE disclosure_register.tree_heads (
        tree_size  bigint PRIMARY KEY CHECK (tree_size >= 0),
        root_hash  bytea NOT NULL CHECK (length(root_hash) = 32),
        sealed_at  timestamptz NOT NULL,
        kid        text NOT NULL,
        signature  text NOT NULL,
        -- The roots of the complete subtrees (height, hex hash) the next seal continues from.
        frontier   jsonb NOT NULL
      )`);
    // Idempotency: the key's latest entry (a CONSENT_UNAVAILABLE denial is decided afresh).
    await queryRunner.query(`
      CREATE TABLE disclosure_register.idempotency_keys (
        caller       text NOT NULL,
        key          text NOT NULL,
        request_hash text NOT NULL,
        entry_id     uuid NOT NULL REFERENCES disclosure_register.entries (entry_id),
        receipt      jsonb NOT NULL,
        PRIMARY KEY (caller, key)
      )`);
    await queryRunner.query(
      'GRANT SELECT, INSERT ON disclosure_register.entries, disclosure_register.tree_heads TO disclosure_register_runtime',
    );
    await queryRunner.query(
      'GRANT SELECT, INSERT, UPDATE ON disclosure_register.idempotency_keys TO disclosure_register_runtime',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'DROP TABLE disclosure_register.idempotency_keys, disclosure_register.tree_heads, disclosure_register.entries',
    );
  }
}
