import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The consent service replicas that answer decisions from memory, each with a lease. A writer
 * tells every replica holding a lease about a change before it acknowledges the change; a replica
 * that does not answer is fenced and its lease waited out (README: how the decision stays fresh).
 * Each change is also written, in the transaction that makes it, to decision_changes, which every
 * replica polls: a writer that crashes between its commit and telling the others (so the change
 * was never acknowledged) still reaches every replica's memory within a poll.
 */
export class ConsentDecisionReplicas1765100000000 implements MigrationInterface {
  name = 'ConsentDecisionReplicas1765100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE consent.decision_replicas (
        replica_id    uuid PRIMARY KEY,
        instance      text NOT NULL,
        registered_at timestamptz NOT NULL DEFAULT now(),
        lease_until   timestamptz NOT NULL,
        fenced        boolean NOT NULL DEFAULT false
      )`);
    await queryRunner.query(`
      CREATE TABLE consent.decision_changes (
        seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        client_ids text[] NOT NULL,
        changed_at timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
    await queryRunner.query(
      'CREATE INDEX decision_changes_time_idx ON consent.decision_changes (changed_at)',
    );
    await queryRunner.query(
      'GRANT SELECT, INSERT, UPDATE, DELETE ON consent.decision_replicas TO consent_runtime',
    );
    await queryRunner.query(
      'GRANT SELECT, INSERT, DELETE ON consent.decision_changes TO consent_runtime',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE consent.decision_changes, consent.decision_replicas');
  }
}
