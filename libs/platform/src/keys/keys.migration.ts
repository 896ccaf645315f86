import type { QueryRunner } from 'typeorm';
import { ident } from '../database/migration-helpers';

/**
 * The service's signing keys (append-only helper). Private keys are stored encrypted with
 * SIGNING_KEY_SECRET (AES-256-GCM), so a database dump alone cannot forge signatures. The
 * runtime role may add keys and set their activation and retirement times, never change or
 * delete a key: a published key id always means the same key.
 */
export async function createSigningKeys(
  queryRunner: QueryRunner,
  schema: string,
  role: string,
): Promise<void> {
  const s = ident(schema);
  await queryRunner.query(`
    CREATE TABLE ${s}.signing_keys (
      kid          text PRIMARY KEY,
      algorithm    text NOT NULL DEFAULT 'Ed25519' CHECK (algorithm = 'Ed25519'),
      public_key   text NOT NULL,
      private_key  bytea NOT NULL,
      created_at   timestamptz NOT NULL DEFAULT now(),
      activated_at timestamptz,
      retired_at   timestamptz
    )`);
  await queryRunner.query(`GRANT SELECT, INSERT ON ${s}.signing_keys TO ${ident(role)}`);
  await queryRunner.query(
    `GRANT UPDATE (activated_at, retired_at) ON ${s}.signing_keys TO ${ident(role)}`,
  );
}
