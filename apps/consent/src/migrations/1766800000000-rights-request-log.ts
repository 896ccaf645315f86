import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The rights-request log (CCP-7; kept 24 months, RET-3): per request its date, right, channel,
 * who asked, and once answered the response date, outcome, verification and basis of a denial.
 * The runtime role may add entries and record an entry's answer once (a trigger refuses a second
 * one and any other change), never delete. The one way entries leave is
 * consent.purge_request_log(), owned by the NOLOGIN role consent_log_purger, the only role with
 * DELETE: it takes a subject's answered entries whose period has run and records every use in
 * consent.request_log_purges. `request_log_declared` is, per subject, the latest date the
 * retention service was told of (records.requests).
 */
export class ConsentRightsRequestLog1766800000000 implements MigrationInterface {
  name = 'ConsentRightsRequestLog1766800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE consent.rights_requests (
        id              uuid PRIMARY KEY,
        client_id       text NOT NULL,
        "right"         text NOT NULL CHECK ("right" IN ('know', 'access', 'delete', 'correct', 'opt-out', 'limit-sensitive', 'accounting', 'restriction')),
        channel         text NOT NULL CHECK (channel IN ('email', 'phone', 'web-form', 'front-desk')),
        requester       text NOT NULL CHECK (requester IN ('subject', 'guardian', 'authorised-agent')),
        received_at     timestamptz NOT NULL,
        recorded_at     timestamptz NOT NULL DEFAULT now(),
        recorded_by     text NOT NULL,
        idempotency_key text,
        request_hash    text,
        answered_at     timestamptz,
        outcome         text CHECK (outcome IN ('fulfilled', 'partially-fulfilled', 'denied')),
        verification    text CHECK (verification IN ('not-required', 'verified', 'not-verified')),
        denial_basis    text,
        answered_by     text,
        UNIQUE (recorded_by, idempotency_key),
        CHECK ((answered_at IS NULL) = (outcome IS NULL)
               AND (answered_at IS NULL) = (verification IS NULL)
               AND (answered_at IS NULL) = (answered_by IS NULL)),
        CHECK ((outcome = 'denied') = (denial_basis IS NOT NULL)),
        CHECK (answered_at IS NULL OR answered_at >= received_at)
      )`);
    await queryRunner.query(
      'CREATE INDEX rights_requests_client_idx ON consent.rights_requests (client_id, received_at, id)',
    );
    // An entry is answered once; nothing else about it changes.
    await queryRunner.query(`
      CREATE FUNCTION consent.rights_requests_answer_once() RETURNS trigger
      LANGUAGE plpgsql AS $fn$
      BEGIN
        IF OLD.answered_at IS NOT NULL THEN
          RAISE EXCEPTION 'rights request % is answered already', OLD.id USING ERRCODE = 'check_violation';
        END IF;
        IF (NEW.id, NEW.client_id, NEW."right", NEW.channel, NEW.requester, NEW.received_at, NEW.recorded_at,
            NEW.recorded_by, NEW.idempotency_key, NEW.request_hash)
           IS DISTINCT FROM
           (OLD.id, OLD.client_id, OLD."right", OLD.channel, OLD.requester, OLD.received_at, OLD.recorded_at,
            OLD.recorded_by, OLD.idempotency_key, OLD.request_hash) THEN
          RAISE EXCEPTION 'a rights request''s receipt is never changed' USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
      END
      $fn$`);
    await queryRunner.query(`
      CREATE TRIGGER rights_requests_answer_once BEFORE UPDATE ON consent.rights_requests
      FOR EACH ROW EXECUTE FUNCTION consent.rights_requests_answer_once()`);
    await queryRunner.query(`
      CREATE TABLE consent.request_log_purges (
        id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        client_id    text NOT NULL,
        through      timestamptz NOT NULL,
        reason       text NOT NULL,
        requested_by text NOT NULL,
        entries      integer NOT NULL,
        kept_open    integer NOT NULL,
        purged_at    timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE consent.request_log_declared (
        client_id text PRIMARY KEY,
        at        timestamptz NOT NULL
      )`);
    await queryRunner.query('GRANT SELECT, INSERT ON consent.rights_requests TO consent_runtime');
    await queryRunner.query(
      'GRANT UPDATE (answered_at, outcome, verification, denial_basis, answered_by) ON consent.rights_requests TO consent_runtime',
    );
    await queryRunner.query('GRANT SELECT ON consent.request_log_purges TO consent_runtime');
    await queryRunner.query(
      'GRANT SELECT, INSERT, UPDATE ON consent.request_log_declared TO consent_runtime',
    );

    await queryRunner.query(`
      DO $$
      BEGIN
        CREATE ROLE consent_log_purger NOLOGIN;
      EXCEPTION WHEN duplicate_object OR unique_violation THEN
        NULL;
      END
      $$`);
    await queryRunner.query('GRANT USAGE ON SCHEMA consent TO consent_log_purger');
    await queryRunner.query(
      'GRANT SELECT, DELETE ON consent.rights_requests TO consent_log_purger',
    );
    await queryRunner.query('GRANT INSERT ON consent.request_log_purges TO consent_log_purger');
    await queryRunner.query(`
      CREATE FUNCTION consent.purge_request_log(p_client_id text, p_through timestamptz, p_reason text, p_requested_by text)
      RETURNS TABLE (deleted integer, kept_open integer)
      LANGUAGE plpgsql
      SECURITY DEFINER
      SET search_path = consent, pg_temp
      AS $fn$
      DECLARE
        n integer;
        open_n integer;
      BEGIN
        DELETE FROM consent.rights_requests
         WHERE client_id = p_client_id AND answered_at IS NOT NULL AND answered_at <= p_through;
        GET DIAGNOSTICS n = ROW_COUNT;
        SELECT count(*)::integer INTO open_n FROM consent.rights_requests
         WHERE client_id = p_client_id AND answered_at IS NULL AND received_at <= p_through;
        INSERT INTO consent.request_log_purges (client_id, through, reason, requested_by, entries, kept_open)
        VALUES (p_client_id, p_through, p_reason, p_requested_by, n, open_n);
        RETURN QUERY SELECT n, open_n;
      END
      $fn$`);
    await queryRunner.query(
      'ALTER FUNCTION consent.purge_request_log(text, timestamptz, text, text) OWNER TO consent_log_purger',
    );
    await queryRunner.query(
      'REVOKE ALL ON FUNCTION consent.purge_request_log(text, timestamptz, text, text) FROM PUBLIC',
    );
    await queryRunner.query(
      'GRANT EXECUTE ON FUNCTION consent.purge_request_log(text, timestamptz, text, text) TO consent_runtime',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'DROP FUNCTION consent.purge_request_log(text, timestamptz, text, text)',
    );
    await queryRunner.query(
      'DROP TABLE consent.request_log_declared, consent.request_log_purges, consent.rights_requests',
    );
    await queryRunner.query('DROP FUNCTION consent.rights_requests_answer_once()');
  }
}
