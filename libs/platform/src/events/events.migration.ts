import type { QueryRunner } from 'typeorm';
import { ident } from '../database/migration-helpers';

/**
 * The transactional outbox and the consumer inbox of one service schema. Like every migration
 * helper, append-only: a later change is a new helper.
 *
 * outbox: a row per event, inserted in the same transaction as the state change it announces.
 *   The runtime role may INSERT and SELECT, and UPDATE only `published_at` (which also allows the
 *   relay's SELECT ... FOR UPDATE SKIP LOCKED); it cannot delete or rewrite an event.
 * inbox: a row per event a consumer of this service has processed, or refused (unknown schema
 *   version: the envelope is kept so nothing is lost). The primary key makes a redelivery a no-op.
 */
export async function createOutboxAndInbox(
  queryRunner: QueryRunner,
  schema: string,
  role: string,
): Promise<void> {
  const s = ident(schema);
  const r = ident(role);
  await queryRunner.query(`
    CREATE TABLE ${s}.outbox (
      id             uuid PRIMARY KEY,
      seq            bigint GENERATED ALWAYS AS IDENTITY,
      subject        text NOT NULL,
      type           text NOT NULL,
      schema_version integer NOT NULL CHECK (schema_version > 0),
      envelope       jsonb NOT NULL,
      headers        jsonb NOT NULL DEFAULT '{}'::jsonb,
      created_at     timestamptz NOT NULL DEFAULT now(),
      published_at   timestamptz
    )`);
  await queryRunner.query(
    `CREATE INDEX outbox_unpublished_idx ON ${s}.outbox (seq) WHERE published_at IS NULL`,
  );
  await queryRunner.query(`GRANT SELECT, INSERT ON ${s}.outbox TO ${r}`);
  await queryRunner.query(`GRANT UPDATE (published_at) ON ${s}.outbox TO ${r}`);
  await queryRunner.query(`
    CREATE TABLE ${s}.inbox (
      consumer       text NOT NULL,
      event_id       uuid NOT NULL,
      type           text NOT NULL,
      schema_version integer NOT NULL,
      outcome        text NOT NULL CHECK (outcome IN ('processed', 'refused')),
      reason         text,
      envelope       jsonb,
      received_at    timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (consumer, event_id)
    )`);
  await queryRunner.query(`GRANT SELECT, INSERT ON ${s}.inbox TO ${r}`);
}

/**
 * Keeps the outbox's envelopes as the JSON text they were written as (json, not jsonb), compressed
 * with lz4 where the server has it (else its default). For an outbox whose events are large and
 * many (the register's disclosure batches, retention's purge commands): jsonb parsed each on the
 * way in and printed it again for the relay, which publishes the text. The JSON is still checked
 * on the way in; queries read it with the json operators (->, ->>), or cast it to jsonb.
 */
export async function keepOutboxEnvelopesAsJson(
  queryRunner: QueryRunner,
  schema: string,
): Promise<void> {
  const s = ident(schema);
  await queryRunner.query(
    `ALTER TABLE ${s}.outbox ALTER COLUMN envelope TYPE json USING envelope::json`,
  );
  await queryRunner.query(`
    DO $$
    BEGIN
      ALTER TABLE ${s}.outbox ALTER COLUMN envelope SET COMPRESSION lz4;
    EXCEPTION WHEN feature_not_supported THEN
      NULL;
    END $$`);
}

/** Undoes keepOutboxEnvelopesAsJson. */
export async function keepOutboxEnvelopesAsJsonb(
  queryRunner: QueryRunner,
  schema: string,
): Promise<void> {
  await queryRunner.query(
    `ALTER TABLE ${ident(schema)}.outbox ALTER COLUMN envelope TYPE jsonb USING envelope::jsonb`,
  );
}
