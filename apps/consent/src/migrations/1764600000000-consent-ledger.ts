import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The consent ledger: append-only for the runtime role (INSERT and SELECT only, no UPDATE or
 * DELETE). Its current state is a view over it. The one way personal details leave it is
 * consent.redact_subject_ledger(), owned by the separate NOLOGIN role consent_redactor (the only
 * role that may UPDATE the redactable columns), which records every use in
 * consent.ledger_redactions. The runtime role may only EXECUTE it.
 */
export class ConsentLedger1764600000000 implements MigrationInterface {
  name = 'ConsentLedger1764600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE consent.ledger (
        id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        event_id        uuid NOT NULL UNIQUE,
        client_id       text NOT NULL REFERENCES consent.subjects (client_id),
        kind            text NOT NULL CHECK (kind IN ('grant', 'withdraw', 'opt-out', 'opt-in')),
        scope_type      text NOT NULL CHECK (scope_type IN ('purpose', 'category', 'sale-and-sharing')),
        scope           text NOT NULL,
        method          text NOT NULL CHECK (method IN ('web-form', 'front-desk', 'phone', 'email-link', 'gpc-signal')),
        actor           text NOT NULL CHECK (actor IN ('self', 'guardian', 'staff', 'authorised-agent')),
        actor_ref       text,
        policy_version  text NOT NULL REFERENCES consent.policy_versions (version),
        evidence        jsonb,
        occurred_at     timestamptz NOT NULL,
        recorded_at     timestamptz NOT NULL DEFAULT now(),
        recorded_by     text NOT NULL,
        idempotency_key text,
        request_hash    text,
        redacted_at     timestamptz,
        UNIQUE (recorded_by, idempotency_key)
      )`);
    await queryRunner.query(
      'CREATE INDEX ledger_subject_idx ON consent.ledger (client_id, scope_type, scope, occurred_at DESC, id DESC)',
    );
    await queryRunner.query(`
      CREATE VIEW consent.consent_state AS
        SELECT DISTINCT ON (client_id, scope_type, scope)
               client_id, scope_type, scope, kind, event_id, occurred_at
          FROM consent.ledger
         ORDER BY client_id, scope_type, scope, occurred_at DESC, id DESC`);
    await queryRunner.query(`
      CREATE TABLE consent.ledger_redactions (
        id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        client_id    text NOT NULL,
        reason       text NOT NULL,
        requested_by text NOT NULL,
        entries      integer NOT NULL,
        redacted_at  timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query('GRANT SELECT, INSERT ON consent.ledger TO consent_runtime');
    await queryRunner.query(
      'GRANT SELECT ON consent.consent_state, consent.ledger_redactions TO consent_runtime',
    );

    await queryRunner.query(`
      DO $$
      BEGIN
        CREATE ROLE consent_redactor NOLOGIN;
      EXCEPTION WHEN duplicate_object OR unique_violation THEN
        NULL;
      END
      $$`);
    await queryRunner.query('GRANT USAGE ON SCHEMA consent TO consent_redactor');
    await queryRunner.query(
      'GRANT SELECT, UPDATE (evidence, actor_ref, redacted_at) ON consent.ledger TO consent_redactor',
    );
    await queryRunner.query('GRANT INSERT ON consent.ledger_redactions TO consent_redactor');
    await queryRunner.query(`
      CREATE FUNCTION consent.redact_subject_ledger(p_client_id text, p_reason text, p_requested_by text)
      RETURNS integer
      LANGUAGE plpgsql
      SECURITY DEFINER
      SET search_path = consent, pg_temp
      AS $fn$
      DECLARE
        n integer;
      BEGIN
        UPDATE consent.ledger
           SET evidence = NULL, actor_ref = NULL, redacted_at = now()
         WHERE client_id = p_client_id AND redacted_at IS NULL;
        GET DIAGNOSTICS n = ROW_COUNT;
        INSERT INTO consent.ledger_redactions (client_id, reason, requested_by, entries)
        VALUES (p_client_id, p_reason, p_requested_by, n);
        RETURN n;
      END
      $fn$`);
    await queryRunner.query(
      'ALTER FUNCTION consent.redact_subject_ledger(text, text, text) OWNER TO consent_redactor',
    );
    await queryRunner.query(
      'REVOKE ALL ON FUNCTION consent.redact_subject_ledger(text, text, text) FROM PUBLIC',
    );
    await queryRunner.query(
      'GRANT EXECUTE ON FUNCTION consent.redact_subject_ledger(text, text, text) TO consent_runtime',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP FUNCTION consent.redact_subject_ledger(text, text, text)');
    await queryRunner.query('DROP VIEW consent.consent_state');
    await queryRunner.query('DROP TABLE consent.ledger_redactions, consent.ledger');
  }
}
