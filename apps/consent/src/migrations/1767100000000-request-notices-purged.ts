import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A rights request's notices (its confirmation, extension, fee quote, answer: they may hold the
 * requester's reply-to address) leave with its entry in the request log, 24 months on (RET-3):
 * consent.purge_request_log() deletes them with the entries, and counts them in its audit row.
 * The function stays owned by the NOLOGIN role consent_log_purger, now also the only role with
 * DELETE on the notices and their attempts.
 */
export class ConsentRequestNoticesPurged1767100000000 implements MigrationInterface {
  name = 'ConsentRequestNoticesPurged1767100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE consent.request_log_purges ADD COLUMN notices integer NOT NULL DEFAULT 0',
    );
    await queryRunner.query(
      'GRANT SELECT, DELETE ON consent.notices, consent.notice_attempts TO consent_log_purger',
    );
    await queryRunner.query(`
      CREATE OR REPLACE FUNCTION consent.purge_request_log(p_client_id text, p_through timestamptz, p_reason text, p_requested_by text)
      RETURNS TABLE (deleted integer, kept_open integer)
      LANGUAGE plpgsql
      SECURITY DEFINER
      SET search_path = consent, pg_temp
      AS $fn$
      DECLARE
        ids uuid[];
        n integer;
        open_n integer;
        notices_n integer;
      BEGIN
        WITH gone AS (
          DELETE FROM consent.rights_requests
           WHERE client_id = p_client_id AND answered_at IS NOT NULL AND answered_at <= p_through
          RETURNING id)
        SELECT coalesce(array_agg(id), '{}') INTO ids FROM gone;
        n := cardinality(ids);
        DELETE FROM consent.notice_attempts a USING consent.notices t
         WHERE a.notice_id = t.id AND t.audience = 'subject' AND t.ref = ANY(ids::text[]);
        DELETE FROM consent.notices WHERE audience = 'subject' AND ref = ANY(ids::text[]);
        GET DIAGNOSTICS notices_n = ROW_COUNT;
        SELECT count(*)::integer INTO open_n FROM consent.rights_requests
         WHERE client_id = p_client_id AND answered_at IS NULL AND received_at <= p_through;
        INSERT INTO consent.request_log_purges (client_id, through, reason, requested_by, entries, kept_open, notices)
        VALUES (p_client_id, p_through, p_reason, p_requested_by, n, open_n, notices_n);
        RETURN QUERY SELECT n, open_n;
      END
      $fn$`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE OR REPLACE FUNCTION consent.purge_request_log(p_client_id text, p_through timestamptz, p_reason text, p_requested_by text)
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
      'REVOKE SELECT, DELETE ON consent.notices, consent.notice_attempts FROM consent_log_purger',
    );
    await queryRunner.query('ALTER TABLE consent.request_log_purges DROP COLUMN notices');
  }
}
