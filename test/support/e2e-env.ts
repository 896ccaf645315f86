import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface E2eEnv {
  runId: string;
  /** This run's own database (owner role), migrated. */
  databaseUrl: string;
  natsUrl: string;
  /** This run's own subject prefix: no other run or `npm start` sees its traffic. */
  subjectPrefix: string;
  logDir: string;
}

export function e2eEnv(): E2eEnv {
  return JSON.parse(
    readFileSync(join(__dirname, '..', '..', '.tmp', 'e2e-env.json'), 'utf8'),
  ) as E2eEnv;
}
