import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Subjects: the spa's client id, date of birth, status, guardian links. Direct identifiers used
 * to link web visitors are stored only as keyed hashes. Every change is recorded (CMI-6: who,
 * when, what); the change log is append-only for the runtime role.
 */
export class ConsentSubjects1764500000000 implements MigrationInterface {
  name = 'ConsentSubjects1764500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE consent.subjects (
        client_id     text PRIMARY KEY,
        date_of_birth date,
        status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive')),
        created_at    timestamptz NOT NULL DEFAULT now(),
        updated_at    timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE consent.subject_identifiers (
        kind      text NOT NULL CHECK (kind IN ('email', 'phone', 'device')),
        hash      text NOT NULL,
        client_id text NOT NULL REFERENCES consent.subjects (client_id),
        linked_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (kind, hash)
      )`);
    await queryRunner.query(
      'CREATE INDEX subject_identifiers_client_idx ON consent.subject_identifiers (client_id)',
    );
    await queryRunner.query(`
      CREATE TABLE consent.guardianships (
        minor_client_id    text NOT NULL REFERENCES consent.subjects (client_id),
        guardian_client_id text NOT NULL REFERENCES consent.subjects (client_id),
        linked_at          timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (minor_client_id, guardian_client_id),
        CHECK (minor_client_id <> guardian_client_id)
      )`);
    await queryRunner.query(`
      CREATE TABLE consent.subject_changes (
        id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        client_id  text NOT NULL,
        changed_by text NOT NULL,
        changed_at timestamptz NOT NULL DEFAULT now(),
        fields     text[] NOT NULL
      )`);
    await queryRunner.query(
      'CREATE INDEX subject_changes_client_idx ON consent.subject_changes (client_id, changed_at)',
    );
    await queryRunner.query(
      'GRANT SELECT, INSERT, UPDATE (date_of_birth, status, updated_at) ON consent.subjects TO consent_runtime',
    );
    await queryRunner.query(
      'GRANT SELECT, INSERT ON consent.subject_identifiers TO consent_runtime',
    );
    await queryRunner.query(
      'GRANT SELECT, INSERT, DELETE ON consent.guardianships TO consent_runtime',
    );
    await queryRunner.query('GRANT SELECT, INSERT ON consent.subject_changes TO consent_runtime');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'DROP TABLE consent.subject_changes, consent.guardianships, consent.subject_identifiers, consent.subjects',
    );
  }
}
