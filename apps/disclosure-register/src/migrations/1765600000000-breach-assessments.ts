import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * HIP-9: breach assessments opened by reported disclosures that failed the checks. The
 * assessment's current state is one row; every step (opened, reviewed, decided, notified, closed)
 * is a row of its history, which the runtime role can only add to.
 */
export class BreachAssessments1765600000000 implements MigrationInterface {
  name = 'BreachAssessments1765600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE disclosure_register.breach_assessments (
        id                 uuid PRIMARY KEY,
        entry_id           uuid NOT NULL UNIQUE REFERENCES disclosure_register.entries (entry_id),
        state              text NOT NULL CHECK (state IN ('open', 'under-review', 'decided', 'closed')),
        reasons            text[] NOT NULL,
        discovered_at      timestamptz NOT NULL,
        individuals_due_by timestamptz NOT NULL,
        regulator_due_by   timestamptz NOT NULL,
        notifiable         boolean,
        decision_reasons   text,
        factors            jsonb,
        CHECK ((state IN ('open', 'under-review')) = (notifiable IS NULL))
      )`);
    await queryRunner.query(
      'CREATE INDEX breach_assessments_state ON disclosure_register.breach_assessments (state, discovered_at)',
    );
    await queryRunner.query(`
      CREATE TABLE disclosure_register.breach_assessment_history (
        id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        assessment_id uuid NOT NULL REFERENCES disclosure_register.breach_assessments (id),
        action        text NOT NULL,
        at            timestamptz NOT NULL DEFAULT now(),
        by            text NOT NULL,
        audience      text,
        notified_at   timestamptz,
        note          text
      )`);
    await queryRunner.query(
      'CREATE INDEX breach_assessment_history_assessment ON disclosure_register.breach_assessment_history (assessment_id, id)',
    );
    await queryRunner.query(
      'GRANT SELECT, INSERT, UPDATE ON disclosure_register.breach_assessments TO disclosure_register_runtime',
    );
    await queryRunner.query(
      'GRANT SELECT, INSERT ON disclosure_register.breach_assessment_history TO disclosure_register_runtime',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'DROP TABLE disclosure_register.breach_assessment_history, disclosure_register.breach_assessments',
    );
  }
}
