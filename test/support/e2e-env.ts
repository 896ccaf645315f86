import { SERVICES, type ServiceName } from '@dsg/contracts';
import { DataSource } from 'typeorm';
import { readFileSync } from 'node:fs';

export interface E2eEnv {
  runId: string;
  /** This run's own database (owner role), migrated. */
  databaseUrl: string;
  natsUrl: string;
  /** This run's own subject prefix: no other run or `npm start` sees its traffic. */
  subjectPrefix: string;
  logDir: string;
}

/** This run's settings, written by global-setup.mjs to a file only this run knows. */
export function e2eEnv(): E2eEnv {
  const file = process.env.DSG_E2E_ENV;
  if (!file) throw new Error('DSG_E2E_ENV is not set: run e2e tests through jest (npm test)');
  return JSON.parse(readFileSync(file, 'utf8')) as E2eEnv;
}

/** A TypeORM connection as a service's runtime role, exactly as the service connects. */
export function runtimeDataSource(service: ServiceName, poolSize = 2): DataSource {
  const url = new URL(e2eEnv().databaseUrl);
  url.username = SERVICES[service].runtimeRole;
  url.password = '';
  return new DataSource({
    type: 'postgres',
    url: url.toString(),
    schema: SERVICES[service].schema,
    poolSize,
  });
}

/** The SQLSTATE a statement fails with (42501: insufficient privilege), or 'no error'. */
export function sqlErrorCode(dataSource: DataSource, sql: string): Promise<string | undefined> {
  return dataSource.query(sql).then(
    () => 'no error',
    (e: { driverError?: { code?: string } }) => e.driverError?.code,
  );
}
