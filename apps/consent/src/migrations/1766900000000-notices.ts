import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The product's one notification mechanism (issue 8): every outbound notice is a row of
 * consent.notices with its delivery state, and every delivery attempt a row of
 * consent.notice_attempts, which an auditor reads through consent.notices.list.
 *
 * - `dedup_key` is unique: whatever enqueues a notice twice (a retried request, a redelivered
 *   event) enqueues it once.
 * - `destination` is an e-mail address or an http(s) URL; null means it is resolved at each
 *   delivery (a client's address from the client system, the privacy officer's from
 *   PRIVACY_OFFICER_EMAIL), so no client's address is kept here.
 * - `claimed_until` is a replica's lease on a notice it is delivering (claimed with FOR UPDATE
 *   SKIP LOCKED): a replica that dies mid-send leaves the lease to run out and the notice is sent
 *   again (at least once).
 * - An attempt's `detail` is a stable code (SMTP_451, HTTP_500, NO_DESTINATION, TIMEOUT …), never
 *   an address or a message that could carry one. A destination that is neither an address nor
 *   a URL is not refused here (the notice is owed all the same): its attempts fail visibly with
 *   BAD_DESTINATION.
 *
 * The runtime role may add notices and attempts and move a notice's delivery state; it may not
 * rewrite what a notice says or where it goes, delete anything, or change a notice once it is sent
 * or failed (a trigger refuses it). The notification tasks of POL-6 made before this feature are
 * queued as notices, each under the key the policy service uses for them now.
 */
export class ConsentNotices1766900000000 implements MigrationInterface {
  name = 'ConsentNotices1766900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE consent.notices (
        id              uuid PRIMARY KEY,
        type            text NOT NULL CHECK (type IN ('policy-change', 'request-confirmation',
                          'request-extension', 'request-fee-quote', 'request-answer',
                          'opt-out-to-recipient', 'limit-to-recipient', 'deletion-to-recipient', 'request-overdue',
                          'breach-deadline')),
        audience        text NOT NULL CHECK (audience IN ('subject', 'recipient', 'privacy-officer')),
        channel         text NOT NULL CHECK (channel IN ('email', 'webhook')),
        rule            text NOT NULL,
        ref             text NOT NULL,
        client_id       text,
        recipient_id    text,
        destination     text,
        subject_line    text NOT NULL,
        body            text NOT NULL,
        dedup_key       text NOT NULL UNIQUE,
        state           text NOT NULL DEFAULT 'queued'
                          CHECK (state IN ('queued', 'retrying', 'sent', 'failed')),
        attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
        next_attempt_at timestamptz,
        claimed_until   timestamptz,
        sent_at         timestamptz,
        created_at      timestamptz NOT NULL DEFAULT now(),
        CHECK ((state = 'sent') = (sent_at IS NOT NULL)),
        CHECK ((state IN ('queued', 'retrying')) = (next_attempt_at IS NOT NULL))
      )`);
    await queryRunner.query(`
      CREATE INDEX notices_due_idx ON consent.notices (next_attempt_at)
        WHERE state IN ('queued', 'retrying')`);
    await queryRunner.query('CREATE INDEX notices_created_idx ON consent.notices (created_at, id)');
    await queryRunner.query(
      'CREATE INDEX notices_client_idx ON consent.notices (client_id) WHERE client_id IS NOT NULL',
    );
    await queryRunner.query('CREATE INDEX notices_ref_idx ON consent.notices (ref)');
    await queryRunner.query(`
      CREATE TABLE consent.notice_attempts (
        notice_id uuid NOT NULL REFERENCES consent.notices (id),
        attempt   integer NOT NULL CHECK (attempt >= 1),
        at        timestamptz NOT NULL DEFAULT now(),
        outcome   text NOT NULL CHECK (outcome IN ('sent', 'failed')),
        detail    text CHECK (detail ~ '^[A-Z0-9_]{1,40}$'),
        PRIMARY KEY (notice_id, attempt),
        CHECK ((outcome = 'failed') = (detail IS NOT NULL))
      )`);
    // What a notice says and where it goes never change; a sent or failed notice is final.
    await queryRunner.query(`
      CREATE FUNCTION consent.notices_guard() RETURNS trigger
      LANGUAGE plpgsql AS $fn$
      BEGIN
        IF OLD.state IN ('sent', 'failed') THEN
          RAISE EXCEPTION 'notice % is % already', OLD.id, OLD.state USING ERRCODE = 'check_violation';
        END IF;
        IF NEW.attempts < OLD.attempts THEN
          RAISE EXCEPTION 'a notice''s attempts are never taken back' USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
      END
      $fn$`);
    await queryRunner.query(`
      CREATE TRIGGER notices_guard BEFORE UPDATE ON consent.notices
      FOR EACH ROW EXECUTE FUNCTION consent.notices_guard()`);
    await queryRunner.query('GRANT SELECT, INSERT ON consent.notices TO consent_runtime');
    await queryRunner.query(
      'GRANT UPDATE (state, attempts, next_attempt_at, claimed_until, sent_at) ON consent.notices TO consent_runtime',
    );
    await queryRunner.query('GRANT SELECT, INSERT ON consent.notice_attempts TO consent_runtime');

    // POL-6 tasks made before the mechanism existed: delivered by it now (the policy service
    // enqueues a notice with each new task under the same key).
    await queryRunner.query(`
      INSERT INTO consent.notices (id, type, audience, channel, rule, ref, client_id, subject_line,
                                   body, dedup_key, state, attempts, next_attempt_at, created_at)
      SELECT gen_random_uuid(), 'policy-change', 'subject', 'email', 'POL-6', t.policy_version,
             t.client_id,
             'Our privacy policy has changed (version ' || t.policy_version || ')',
             'Our privacy policy changes materially with version ' || t.policy_version
               || ', in effect from ' || to_char(v.effective_date, 'YYYY-MM-DD')
               || '. You can read the new policy at any time; ask us if you have questions.',
             'policy-change:' || t.client_id || ':' || t.policy_version,
             'queued', 0, now(), t.created_at
        FROM consent.notification_tasks t
        JOIN consent.policy_versions v ON v.version = t.policy_version
       WHERE t.kind = 'policy-change'
      ON CONFLICT (dedup_key) DO NOTHING`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE consent.notice_attempts, consent.notices');
    await queryRunner.query('DROP FUNCTION consent.notices_guard()');
  }
}
