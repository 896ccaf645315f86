import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Legal requests (HIP-6, CMI-3) with their history and the register entries that fulfilled
 * them; accounting suspensions (ACC-8); every accounting produced (ACC-9: kept six years, so the
 * runtime role may only add them). And the indexes auditors' queries and accountings use: by
 * period, by recipient and by subject, each in position order for keyset pagination.
 */
export class RegisterLegalRequestsAndAccounting1765900000000 implements MigrationInterface {
  name = 'RegisterLegalRequestsAndAccounting1765900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE disclosure_register.legal_requests (
        id                 uuid PRIMARY KEY,
        caller             text NOT NULL,
        idempotency_key    text NOT NULL,
        request_hash       text NOT NULL,
        state              text NOT NULL CHECK (state IN
                             ('refused', 'in-review', 'accepted', 'approved', 'denied', 'fulfilled')),
        requester_kind     text NOT NULL,
        agency             text NOT NULL,
        official           jsonb NOT NULL,
        instrument         text NOT NULL,
        reference          text NOT NULL,
        recipient_id       text NOT NULL,
        received_at        timestamptz NOT NULL,
        requested_scope    jsonb NOT NULL,
        scope              jsonb NOT NULL,
        attestations       jsonb,
        identify_or_locate boolean NOT NULL,
        validation         jsonb NOT NULL,
        decision_reasons   text,
        UNIQUE (caller, idempotency_key)
      )`);
    await queryRunner.query(
      'CREATE INDEX legal_requests_state ON disclosure_register.legal_requests (state, received_at)',
    );
    await queryRunner.query(`
      CREATE TABLE disclosure_register.legal_request_history (
        id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        request_id uuid NOT NULL REFERENCES disclosure_register.legal_requests (id),
        action     text NOT NULL,
        at         timestamptz NOT NULL DEFAULT now(),
        by         text NOT NULL,
        note       text
      )`);
    await queryRunner.query(
      'CREATE INDEX legal_request_history_request ON disclosure_register.legal_request_history (request_id, id)',
    );
    await queryRunner.query(`
      CREATE TABLE disclosure_register.legal_request_disclosures (
        request_id uuid NOT NULL REFERENCES disclosure_register.legal_requests (id),
        entry_id   uuid NOT NULL UNIQUE REFERENCES disclosure_register.entries (entry_id),
        position   bigint NOT NULL,
        decision   text NOT NULL,
        PRIMARY KEY (request_id, position)
      )`);
    await queryRunner.query(`
      CREATE TABLE disclosure_register.accounting_suspensions (
        id                uuid PRIMARY KEY,
        form              text NOT NULL CHECK (form IN ('written', 'oral')),
        agency            text NOT NULL,
        official          jsonb NOT NULL,
        recipient_id      text NOT NULL,
        legal_request_ids uuid[] NOT NULL,
        subjects          text[] NOT NULL,
        statement         text NOT NULL,
        reference         text,
        received_at       timestamptz NOT NULL,
        until             timestamptz,
        ends_at           timestamptz NOT NULL,
        follows_oral      uuid REFERENCES disclosure_register.accounting_suspensions (id),
        superseded_by     uuid REFERENCES disclosure_register.accounting_suspensions (id),
        recorded_by       text NOT NULL,
        recorded_at       timestamptz NOT NULL DEFAULT now(),
        CHECK (form = 'oral' OR until IS NOT NULL),
        -- 30 days as 720 hours: '30 days' follows the session's time zone across a DST change.
        CHECK (form = 'written' OR ends_at <= received_at + interval '720 hours')
      )`);
    await queryRunner.query(
      'CREATE INDEX accounting_suspensions_recipient ON disclosure_register.accounting_suspensions (recipient_id, ends_at)',
    );
    await queryRunner.query(`
      CREATE TABLE disclosure_register.accountings (
        id                uuid PRIMARY KEY,
        caller            text NOT NULL,
        idempotency_key   text NOT NULL,
        request_hash      text NOT NULL,
        client_id         text NOT NULL,
        requested_at      timestamptz NOT NULL,
        period_from       timestamptz NOT NULL,
        period_to         timestamptz NOT NULL,
        produced_at       timestamptz NOT NULL,
        produced_by       text NOT NULL,
        staff_title       text NOT NULL,
        rights_request_ref text,
        lines             integer NOT NULL,
        -- Entries the subject's accounting did not show because a suspension covered them (ACC-8):
        -- kept here for auditors, never in what the individual receives.
        suspended_entries integer NOT NULL,
        content           jsonb NOT NULL,
        content_hash      text NOT NULL,
        UNIQUE (caller, idempotency_key)
      )`);
    await queryRunner.query(
      'CREATE INDEX accountings_client ON disclosure_register.accountings (client_id, produced_at)',
    );
    // Auditors' queries and accountings: by period, by recipient, by subject (keyset on
    // position). The recipient and the subject are repeated in columns the append fills, so the
    // indexes cost a few microseconds an entry: expression indexes parsing the leaf and the
    // details as JSON cost about 20 (measured on 200,000 inserted rows: 16 µs an entry without any
    // index, 41 with those, 25 with these). Queries check what the columns find against the leaf
    // and the details themselves.
    await queryRunner.query(
      // COLLATE "C": ids are ASCII, compared byte by byte (no locale rules on every insert).
      `ALTER TABLE disclosure_register.entries
         ADD COLUMN recipient_id text COLLATE "C", ADD COLUMN client_id text COLLATE "C"`,
    );
    await queryRunner.query(`
      UPDATE disclosure_register.entries
         SET recipient_id = (leaf::json -> 'recipient') ->> 'id', client_id = details ->> 'clientId'`);
    await queryRunner.query(
      'CREATE INDEX entries_recorded_at ON disclosure_register.entries (recorded_at, position)',
    );
    await queryRunner.query(
      'CREATE INDEX entries_recipient ON disclosure_register.entries (recipient_id, position)',
    );
    await queryRunner.query(
      'CREATE INDEX entries_subject ON disclosure_register.entries (client_id, position)',
    );
    await queryRunner.query(
      'GRANT SELECT, INSERT, UPDATE ON disclosure_register.legal_requests, disclosure_register.accounting_suspensions TO disclosure_register_runtime',
    );
    await queryRunner.query(
      'GRANT SELECT, INSERT ON disclosure_register.legal_request_history, disclosure_register.legal_request_disclosures, disclosure_register.accountings TO disclosure_register_runtime',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'DROP INDEX disclosure_register.entries_subject, disclosure_register.entries_recipient, disclosure_register.entries_recorded_at',
    );
    await queryRunner.query(
      'ALTER TABLE disclosure_register.entries DROP COLUMN recipient_id, DROP COLUMN client_id',
    );
    await queryRunner.query(
      `DROP TABLE disclosure_register.accountings, disclosure_register.accounting_suspensions,
         disclosure_register.legal_request_disclosures, disclosure_register.legal_request_history,
         disclosure_register.legal_requests`,
    );
  }
}
