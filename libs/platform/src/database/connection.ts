import type { PoolClient } from 'pg';
import type { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';

/** A connection of a DataSource's pool, held by the caller until it calls `release`. */
export interface HeldConnection {
  client: PoolClient;
  /** Gives it back to the pool; with a truthy argument, closes it instead (it is broken). */
  release: (destroy?: unknown) => void;
}

/**
 * Takes one connection out of the DataSource's pool, as the raw pg client: for work that needs
 * one connection for a while (a COPY stream, a multi-statement simple query, statements queued
 * one behind another), below TypeORM's query runner.
 */
export async function holdConnection(dataSource: DataSource): Promise<HeldConnection> {
  const driver = dataSource.driver as PostgresDriver;
  const [client, release] = (await driver.obtainMasterConnection()) as [
    PoolClient,
    (destroy?: unknown) => void,
  ];
  return { client, release };
}
