import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Rights requests (issue 8) live on the request log's own rows (CCP-7): each entry also carries
 * where the request stands, who acted for the subject (a guardian, an authorised agent's signed
 * permission), the verification level it needs and the kinds of data point that matched (never
 * their values, CCP-3), its deadlines (CCP-2, ACC-5, HIP-8) and extension, its fee quote (ACC-6),
 * what fulfilment did, the open request it repeats, and its report. Until the answer the runtime
 * role moves these along; the answer still comes once, and after it only the confirmation's
 * delivery time may be filled in (a confirmation can leave after an opt-out is answered).
 */
export class ConsentRightsRequests1767000000000 implements MigrationInterface {
  name = 'ConsentRightsRequests1767000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE consent.rights_requests
        ADD COLUMN state text NOT NULL DEFAULT 'in-progress'
          CHECK (state IN ('awaiting-verification', 'awaiting-fee-acceptance', 'in-progress', 'answered', 'duplicate')),
        ADD COLUMN guardian_id text,
        ADD COLUMN agent jsonb,
        ADD COLUMN reply_to text,
        ADD COLUMN scope jsonb,
        ADD COLUMN verification_level text NOT NULL DEFAULT 'none'
          CHECK (verification_level IN ('none', 'two-points', 'three-points-and-declaration')),
        ADD COLUMN matched_points text[] NOT NULL DEFAULT '{}',
        ADD COLUMN verified_at timestamptz,
        ADD COLUMN confirm_by timestamptz,
        ADD COLUMN confirmed_at timestamptz,
        ADD COLUMN answer_by timestamptz,
        ADD COLUMN original_answer_by timestamptz,
        ADD COLUMN extension_allowed boolean NOT NULL DEFAULT false,
        ADD COLUMN extended_at timestamptz,
        ADD COLUMN extension_reasons text,
        ADD COLUMN duplicate_of uuid,
        ADD COLUMN fee jsonb,
        ADD COLUMN fulfilment jsonb,
        ADD COLUMN erasure_id uuid,
        ADD COLUMN report jsonb,
        ADD COLUMN report_hash text,
        ADD COLUMN policy_version text,
        ADD COLUMN overdue_noticed_at timestamptz,
        ADD COLUMN confirm_overdue_noticed_at timestamptz,
        ADD COLUMN retries integer NOT NULL DEFAULT 0,
        ADD COLUMN retry_after timestamptz
    `);
    // Entries the bare log records (consent.requests.record, issue 7) have no deadlines
    // (answer_by NULL) and no requester details; those of the rights flow always have both.
    // Entries the log held before this feature keep their answer: their state says so. The
    // answer-once trigger would refuse this one update of answered rows: it is off meanwhile.
    await queryRunner.query(
      'ALTER TABLE consent.rights_requests DISABLE TRIGGER rights_requests_answer_once',
    );
    await queryRunner.query(
      "UPDATE consent.rights_requests SET state = 'answered' WHERE answered_at IS NOT NULL",
    );
    await queryRunner.query(
      'ALTER TABLE consent.rights_requests ENABLE TRIGGER rights_requests_answer_once',
    );
    await queryRunner.query(`
      ALTER TABLE consent.rights_requests
        ADD CONSTRAINT rights_requests_answered_state
          CHECK (state IN ('answered', 'duplicate') OR answered_at IS NULL),
        ADD CONSTRAINT rights_requests_one_extension
          CHECK ((extended_at IS NULL) = (extension_reasons IS NULL)),
        ADD CONSTRAINT rights_requests_agent
          CHECK (answer_by IS NULL OR (requester = 'authorised-agent') = (agent IS NOT NULL)),
        ADD CONSTRAINT rights_requests_guardian
          CHECK (answer_by IS NULL OR (requester = 'guardian') = (guardian_id IS NOT NULL))
    `);
    await queryRunner.query(`
      CREATE INDEX rights_requests_open_idx ON consent.rights_requests (answer_by)
        WHERE answered_at IS NULL`);
    await queryRunner.query(`
      CREATE INDEX rights_requests_erasure_idx ON consent.rights_requests (erasure_id)
        WHERE erasure_id IS NOT NULL`);
    await queryRunner.query(
      'CREATE INDEX rights_requests_received_idx ON consent.rights_requests (received_at, id)',
    );
    // The answer comes once; the receipt never changes; after the answer only a confirmation's
    // delivery time may still be filled in.
    await queryRunner.query(`
      CREATE OR REPLACE FUNCTION consent.rights_requests_answer_once() RETURNS trigger
      LANGUAGE plpgsql AS $fn$
      BEGIN
        IF (NEW.id, NEW.client_id, NEW."right", NEW.channel, NEW.requester, NEW.received_at, NEW.recorded_at,
            NEW.recorded_by, NEW.idempotency_key, NEW.request_hash, NEW.guardian_id, NEW.agent, NEW.scope, NEW.policy_version)
           IS DISTINCT FROM
           (OLD.id, OLD.client_id, OLD."right", OLD.channel, OLD.requester, OLD.received_at, OLD.recorded_at,
            OLD.recorded_by, OLD.idempotency_key, OLD.request_hash, OLD.guardian_id, OLD.agent, OLD.scope, OLD.policy_version) THEN
          RAISE EXCEPTION 'a rights request''s receipt is never changed' USING ERRCODE = 'check_violation';
        END IF;
        IF OLD.answered_at IS NOT NULL THEN
          IF OLD.confirmed_at IS NULL AND NEW.confirmed_at IS NOT NULL
             AND (to_jsonb(NEW) - 'confirmed_at') = (to_jsonb(OLD) - 'confirmed_at') THEN
            RETURN NEW;
          END IF;
          RAISE EXCEPTION 'rights request % is answered already', OLD.id USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
      END
      $fn$`);
    await queryRunner.query(
      `GRANT UPDATE (state, verification_level, matched_points, verified_at, confirm_by, confirmed_at,
                     answer_by, original_answer_by, extension_allowed, extended_at, extension_reasons,
                     duplicate_of, fee, fulfilment, erasure_id, report, report_hash, overdue_noticed_at,
                     confirm_overdue_noticed_at, retries, retry_after)
         ON consent.rights_requests TO consent_runtime`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE OR REPLACE FUNCTION consent.rights_requests_answer_once() RETURNS trigger
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
      ALTER TABLE consent.rights_requests
        DROP COLUMN state, DROP COLUMN guardian_id, DROP COLUMN agent, DROP COLUMN reply_to,
        DROP COLUMN scope, DROP COLUMN verification_level, DROP COLUMN matched_points,
        DROP COLUMN verified_at, DROP COLUMN confirm_by, DROP COLUMN confirmed_at,
        DROP COLUMN answer_by, DROP COLUMN original_answer_by, DROP COLUMN extension_allowed,
        DROP COLUMN extended_at, DROP COLUMN extension_reasons, DROP COLUMN duplicate_of,
        DROP COLUMN fee, DROP COLUMN fulfilment, DROP COLUMN erasure_id, DROP COLUMN report,
        DROP COLUMN report_hash, DROP COLUMN overdue_noticed_at, DROP COLUMN policy_version,
        DROP COLUMN confirm_overdue_noticed_at, DROP COLUMN retries, DROP COLUMN retry_after`);
  }
}
