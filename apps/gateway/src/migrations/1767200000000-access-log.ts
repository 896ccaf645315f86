import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The access log (POL-7): every access to register data, reports or exports through the gateway
 * — who (the person's subject at the identity provider and the roles used), what (the route),
 * which filter (path and query members, never a request body), when, how many entries, and how
 * it ended. Append-only: the runtime role may INSERT and SELECT only, and a trigger refuses any
 * UPDATE, DELETE or TRUNCATE by anyone, the owner included, so an entry once written stays as
 * written (the owner could still disable the trigger: that needs the migrating role, which the
 * running gateway does not hold). Its time comes from the database, never from the gateway.
 */
export class GatewayAccessLog1767200000000 implements MigrationInterface {
  name = 'GatewayAccessLog1767200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE gateway.access_log (
        id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at          timestamptz NOT NULL DEFAULT clock_timestamp(),
        actor       text NOT NULL CHECK (length(actor) BETWEEN 1 AND 256),
        roles       text[] NOT NULL,
        action      text NOT NULL CHECK (action ~ '^[a-z.-]{1,64}$'),
        filter      jsonb NOT NULL DEFAULT '{}'::jsonb,
        entries     integer NOT NULL CHECK (entries >= 0),
        outcome     text NOT NULL CHECK (outcome IN ('served', 'refused', 'failed')),
        status      smallint NOT NULL CHECK (status BETWEEN 100 AND 599),
        error_code  text,
        request_id  text,
        CHECK ((outcome = 'served') = (error_code IS NULL))
      )`);
    await queryRunner.query('CREATE INDEX access_log_at_idx ON gateway.access_log (at, id)');
    await queryRunner.query(
      'CREATE INDEX access_log_actor_idx ON gateway.access_log (actor, at, id)',
    );
    await queryRunner.query(`
      CREATE FUNCTION gateway.access_log_is_append_only() RETURNS trigger
      LANGUAGE plpgsql AS $fn$
      BEGIN
        RAISE EXCEPTION 'the access log is append-only (POL-7): % refused', TG_OP
          USING ERRCODE = 'insufficient_privilege';
      END
      $fn$`);
    await queryRunner.query(`
      CREATE TRIGGER access_log_append_only
        BEFORE UPDATE OR DELETE ON gateway.access_log
        FOR EACH ROW EXECUTE FUNCTION gateway.access_log_is_append_only()`);
    await queryRunner.query(`
      CREATE TRIGGER access_log_no_truncate
        BEFORE TRUNCATE ON gateway.access_log
        FOR EACH STATEMENT EXECUTE FUNCTION gateway.access_log_is_append_only()`);
    // The time is the database's: the runtime role may not write `at` (nor the id), so a
    // compromised gateway cannot backdate an entry.
    await queryRunner.query('GRANT SELECT ON gateway.access_log TO gateway_runtime');
    await queryRunner.query(
      'GRANT INSERT (actor, roles, action, filter, entries, outcome, status, error_code, request_id) ON gateway.access_log TO gateway_runtime',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE gateway.access_log');
    await queryRunner.query('DROP FUNCTION gateway.access_log_is_append_only()');
  }
}
