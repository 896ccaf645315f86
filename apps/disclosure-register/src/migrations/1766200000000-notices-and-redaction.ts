import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Two things the retention service needs of the register (issue 7):
 * - notices: the recipients told of a subject's erasure (CCP-4), one register entry each,
 *   remembered per caller and reference so that a retried request records nothing twice;
 * - the redaction path: disclosure_register.redact_subject_details() removes a subject's personal
 *   details (and the salt of their commitment, and the subject column) from entries recorded
 *   before a date, leaving the leaves, so the log still verifies. It is owned by the NOLOGIN role
 *   disclosure_register_redactor, the only role that may UPDATE those columns, and records every
 *   use in disclosure_register.redactions. The runtime role may only EXECUTE it.
 */
export class RegisterNoticesAndRedaction1766200000000 implements MigrationInterface {
  name = 'RegisterNoticesAndRedaction1766200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE disclosure_register.notices (
        caller       text COLLATE "C" NOT NULL,
        ref          text COLLATE "C" NOT NULL,
        recipient_id text COLLATE "C" NOT NULL,
        entry_id     uuid NOT NULL,
        position     bigint NOT NULL,
        PRIMARY KEY (caller, ref, recipient_id)
      )`);
    await queryRunner.query(`
      CREATE TABLE disclosure_register.redactions (
        id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        client_id    text NOT NULL,
        before       timestamptz NOT NULL,
        reason       text NOT NULL,
        requested_by text NOT NULL,
        entries      integer NOT NULL,
        redacted_at  timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(
      'GRANT SELECT, INSERT ON disclosure_register.notices TO disclosure_register_runtime',
    );
    await queryRunner.query(
      'GRANT SELECT ON disclosure_register.redactions TO disclosure_register_runtime',
    );
    await queryRunner.query(`
      DO $$
      BEGIN
        CREATE ROLE disclosure_register_redactor NOLOGIN;
      EXCEPTION WHEN duplicate_object OR unique_violation THEN
        NULL;
      END
      $$`);
    await queryRunner.query(
      'GRANT USAGE ON SCHEMA disclosure_register TO disclosure_register_redactor',
    );
    await queryRunner.query(
      'GRANT SELECT, UPDATE (details, salt, client_id) ON disclosure_register.entries TO disclosure_register_redactor',
    );
    await queryRunner.query(
      'GRANT INSERT ON disclosure_register.redactions TO disclosure_register_redactor',
    );
    await queryRunner.query(`
      CREATE FUNCTION disclosure_register.redact_subject_details(
        p_client_id text, p_before timestamptz, p_reason text, p_requested_by text)
      RETURNS integer
      LANGUAGE plpgsql
      SECURITY DEFINER
      SET search_path = disclosure_register, pg_temp
      AS $fn$
      DECLARE
        n integer;
      BEGIN
        UPDATE disclosure_register.entries
           SET details = NULL, salt = NULL, client_id = NULL
         WHERE client_id = p_client_id AND recorded_at < p_before AND details IS NOT NULL;
        GET DIAGNOSTICS n = ROW_COUNT;
        INSERT INTO disclosure_register.redactions (client_id, before, reason, requested_by, entries)
        VALUES (p_client_id, p_before, p_reason, p_requested_by, n);
        RETURN n;
      END
      $fn$`);
    const fn = 'disclosure_register.redact_subject_details(text, timestamptz, text, text)';
    await queryRunner.query(`ALTER FUNCTION ${fn} OWNER TO disclosure_register_redactor`);
    await queryRunner.query(`REVOKE ALL ON FUNCTION ${fn} FROM PUBLIC`);
    await queryRunner.query(`GRANT EXECUTE ON FUNCTION ${fn} TO disclosure_register_runtime`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'DROP FUNCTION disclosure_register.redact_subject_details(text, timestamptz, text, text)',
    );
    await queryRunner.query(
      'DROP TABLE disclosure_register.redactions, disclosure_register.notices',
    );
  }
}
