import { DataSource, type MigrationInterface } from 'typeorm';
import type { PlatformConfig } from '../config/platform.config';
import type { Logger } from '../logging/logger';
import { ident } from './migration-helpers';

export type MigrationClass = new () => MigrationInterface;

/**
 * Applies the service's pending migrations as the owner role (DATABASE_URL): the schema, its
 * own `migrations` table, and the runtime role. Replicas or init containers that start together
 * are serialised by an advisory lock. Returns the names of the migrations applied.
 */
export async function runMigrations(
  config: PlatformConfig,
  migrations: MigrationClass[],
  logger: Logger,
): Promise<string[]> {
  const { schema, runtimeRole, name } = config.service;
  const dataSource = new DataSource({
    type: 'postgres',
    url: config.database.adminUrl,
    schema,
    migrations,
    migrationsTableName: 'migrations',
    synchronize: false,
    // never log SQL here: ALTER ROLE ... PASSWORD would reach the log
    logging: false,
    applicationName: `${name}-migrate`,
    poolSize: 2,
  });
  await dataSource.initialize();
  const lock = dataSource.createQueryRunner();
  try {
    await lock.connect();
    await lock.query('SELECT pg_advisory_lock(hashtext($1))', [`dsg-migrate:${schema}`]);
    await lock.query(`CREATE SCHEMA IF NOT EXISTS ${ident(schema)}`);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    if (config.database.runtimePassword) {
      // ALTER ROLE takes no bind parameters; format() quotes the literal server-side.
      const [{ sql }] = (await lock.query(
        `SELECT format('ALTER ROLE %I PASSWORD %L', $1::text, $2::text) AS sql`,
        [runtimeRole, config.database.runtimePassword],
      )) as { sql: string }[];
      await lock.query(sql);
    }
    const names = applied.map((m) => m.name);
    logger.info(
      { schema, applied: names },
      names.length ? 'migrations applied' : 'schema up to date',
    );
    return names;
  } finally {
    await lock
      .query('SELECT pg_advisory_unlock(hashtext($1))', [`dsg-migrate:${schema}`])
      .catch(() => undefined);
    await lock.release();
    await dataSource.destroy();
  }
}
