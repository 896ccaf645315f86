import type { QueryRunner } from 'typeorm';

/**
 * Building blocks for migrations. A migration that has run must mean the same thing forever, so
 * these helpers are append-only: change behaviour by adding a new helper, never by editing one.
 */

/**
 * Creates the service's runtime role (LOGIN, owns nothing) and gives it USAGE on the service's
 * schema only. Objects stay owned by the migrating role, so the runtime role cannot ALTER or
 * DROP them, and privileges such as "append-only" are enforced by GRANTs per table.
 */
export async function createRuntimeRole(
  queryRunner: QueryRunner,
  schema: string,
  role: string,
): Promise<void> {
  // Roles are cluster-wide: another database on the same server may have created it already,
  // possibly at this very moment (hence both error codes).
  await queryRunner.query(`
    DO $$
    BEGIN
      CREATE ROLE ${ident(role)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      NULL;
    END
    $$`);
  await queryRunner.query(`REVOKE ALL ON SCHEMA ${ident(schema)} FROM PUBLIC`);
  await queryRunner.query(`GRANT USAGE ON SCHEMA ${ident(schema)} TO ${ident(role)}`);
  await queryRunner.query(`
    DO $$
    BEGIN
      EXECUTE format('GRANT CONNECT ON DATABASE %I TO ${role}', current_database());
      EXECUTE format('ALTER ROLE ${role} IN DATABASE %I SET search_path = ${schema}', current_database());
    END
    $$`);
}

/** Quotes an identifier we control (service schema and role names); refuses anything else. */
export function ident(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`unsafe SQL identifier: ${name}`);
  return `"${name}"`;
}
