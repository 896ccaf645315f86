import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Notices the consent service owes people, as tasks for the notification mechanism to deliver
 * (POL-6: a material policy change is told to every active client).
 */
export class ConsentNotificationTasks1765000000000 implements MigrationInterface {
  name = 'ConsentNotificationTasks1765000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE consent.notification_tasks (
        id             uuid PRIMARY KEY,
        client_id      text NOT NULL REFERENCES consent.subjects (client_id),
        kind           text NOT NULL CHECK (kind IN ('policy-change')),
        policy_version text NOT NULL REFERENCES consent.policy_versions (version),
        created_at     timestamptz NOT NULL DEFAULT now(),
        UNIQUE (client_id, kind, policy_version)
      )`);
    await queryRunner.query(
      'GRANT SELECT, INSERT ON consent.notification_tasks TO consent_runtime',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE consent.notification_tasks');
  }
}
