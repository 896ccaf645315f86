// npm run migrate: applies every service's pending migrations to DATABASE_URL.
import { DEFAULT_DATABASE_URL, ensureDatabase } from './lib/infra.mjs';
import { migrateAll, run } from './lib/services.mjs';

const env = { ...process.env, DATABASE_URL: process.env.DATABASE_URL || DEFAULT_DATABASE_URL };
try {
  await run('npm', ['run', '--silent', 'build']);
  await ensureDatabase(env.DATABASE_URL);
  await migrateAll(env);
} catch (err) {
  console.error(err.message);
  process.exit(1);
}
