// Once per `jest --selectProjects e2e` run: PostgreSQL and NATS up (private instances if needed),
// the code built, a database of this run's own with every service's migrations applied, and a
// NATS subject prefix of its own. Nothing here is shared with `npm start` or another run: the
// settings reach the tests through an environment variable naming this run's own file.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  DEFAULT_DATABASE_URL,
  DEFAULT_NATS_URL,
  dropDatabase,
  ensureDatabase,
  ensureInfrastructure,
  writeJson,
} from '../../scripts/lib/infra.mjs';
import { migrateAll, run } from '../../scripts/lib/services.mjs';

const root = new URL('../..', import.meta.url).pathname;

export default async function globalSetup() {
  const serverUrl = process.env.DATABASE_URL || DEFAULT_DATABASE_URL;
  const natsUrl = process.env.NATS_URL || DEFAULT_NATS_URL;
  const stopInfra = await ensureInfrastructure({ databaseUrl: serverUrl, natsUrl });

  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const url = new URL(serverUrl);
  url.pathname = `/dsg_test_${runId}`;
  const databaseUrl = url.toString();
  try {
    await run('npm', ['run', '--silent', 'build']);
    await ensureDatabase(databaseUrl);
    await migrateAll({ ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' });
  } catch (err) {
    await dropDatabase(databaseUrl).catch(() => {});
    await stopInfra();
    throw err;
  }

  const tmp = join(root, '.tmp');
  const env = {
    runId,
    databaseUrl,
    natsUrl,
    subjectPrefix: `t${runId}`,
    logDir: join(tmp, `logs-${runId}`),
  };
  mkdirSync(env.logDir, { recursive: true });
  const file = join(tmp, `e2e-env-${runId}.json`);
  writeJson(file, env);
  process.env.DSG_E2E_ENV = file;
  globalThis.__dsgE2e = { env, file, stopInfra };
}
