import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Sweeps, the purge items they and erasures issue, and erasure requests (issue 7).
 * - purge_items: one row per category of one subject's data to purge in one system, from issue
 *   to its end (done, held, superseded, dead-lettered). At most one open item per holding (the
 *   partial unique index): two sweepers, or a sweep and an erasure, never issue it twice. The
 *   retry check reads the open items through that index too: an index of their own on retry_at
 *   would be written at every step of every item (measured: a fifth of a sweep's time).
 * - sweeps: each run, its cursor and counts; an interrupted one is resumed by the next.
 * - erasures: the request, each holding's decision and rule, the notices, the signed certificate.
 */
export class RetentionSweepsPurgesErasures1766200000000 implements MigrationInterface {
  name = 'RetentionSweepsPurgesErasures1766200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE retention.sweeps (
        id           uuid PRIMARY KEY,
        due_by       timestamptz NOT NULL,
        state        text NOT NULL CHECK (state IN ('running', 'completed', 'interrupted')),
        instance     text NOT NULL,
        started_at   timestamptz NOT NULL DEFAULT now(),
        finished_at  timestamptz,
        issued       integer NOT NULL DEFAULT 0,
        held         integer NOT NULL DEFAULT 0,
        resumes      uuid REFERENCES retention.sweeps (id)
      )`);
    await queryRunner.query('CREATE INDEX sweeps_started ON retention.sweeps (started_at DESC)');
    await queryRunner.query(`
      CREATE TABLE retention.erasures (
        id              uuid PRIMARY KEY,
        caller          text NOT NULL,
        idempotency_key text NOT NULL,
        request_hash    text NOT NULL,
        client_id       text COLLATE "C" NOT NULL,
        basis           text NOT NULL,
        request_ref     text,
        reason          text NOT NULL,
        requested_by    text NOT NULL,
        requested_at    timestamptz NOT NULL DEFAULT now(),
        state           text NOT NULL CHECK (state IN ('in-progress', 'completed')),
        decisions       jsonb NOT NULL,
        notices         jsonb,
        -- Set once the register has recorded the notices (CCP-4); the erasure completes after.
        notices_at      timestamptz,
        certificate     jsonb,
        completed_at    timestamptz,
        UNIQUE (caller, idempotency_key)
      )`);
    await queryRunner.query(
      "CREATE INDEX erasures_open ON retention.erasures (requested_at) WHERE state = 'in-progress'",
    );
    await queryRunner.query(`
      CREATE TABLE retention.purge_items (
        id           uuid PRIMARY KEY,
        system       text COLLATE "C" NOT NULL,
        client_id    text COLLATE "C" NOT NULL,
        category     text COLLATE "C" NOT NULL,
        action       text NOT NULL,
        rule         text NOT NULL,
        through      timestamptz,
        source       text NOT NULL CHECK (source IN ('sweep', 'erasure')),
        sweep_id     uuid REFERENCES retention.sweeps (id),
        erasure_id   uuid REFERENCES retention.erasures (id),
        -- 'confirmed' is an issued item with confirmed_at set: confirming changes no indexed
        -- column, so the row is updated in place (HOT, room kept by the fill factor).
        state        text NOT NULL CHECK (state IN
                       ('issued', 'failed', 'done', 'held', 'superseded', 'dead-lettered')),
        attempts     integer NOT NULL DEFAULT 1,
        issued_at    timestamptz NOT NULL DEFAULT now(),
        retry_at     timestamptz,
        confirmed_at timestamptz,
        finished_at  timestamptz,
        detail       text,
        held_by      text[],
        CHECK ((state IN ('issued', 'failed')) = (retry_at IS NOT NULL))
      ) WITH (fillfactor = 60)`);
    await queryRunner.query(`
      CREATE UNIQUE INDEX purge_items_open ON retention.purge_items (system, client_id, category)
        WHERE state IN ('issued', 'failed')`);
    // Operators list the dead letter; other states are read by item, erasure or the retry index
    // (an index on every state would be rewritten at each step of every item).
    await queryRunner.query(
      "CREATE INDEX purge_items_dead ON retention.purge_items (id) WHERE state = 'dead-lettered'",
    );
    await queryRunner.query(
      'CREATE INDEX purge_items_erasure ON retention.purge_items (erasure_id) WHERE erasure_id IS NOT NULL',
    );
    await queryRunner.query(
      'GRANT SELECT, INSERT, UPDATE ON retention.sweeps, retention.erasures, retention.purge_items TO retention_runtime',
    );
    // An erasure reads every holding of one subject.
    await queryRunner.query('CREATE INDEX holdings_client ON retention.holdings (client_id)');
    // A purged holding is no longer held: the acknowledgement removes it.
    await queryRunner.query('GRANT DELETE ON retention.holdings TO retention_runtime');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('REVOKE DELETE ON retention.holdings FROM retention_runtime');
    await queryRunner.query('DROP INDEX retention.holdings_client');
    await queryRunner.query(
      'DROP TABLE retention.purge_items, retention.erasures, retention.sweeps',
    );
  }
}
