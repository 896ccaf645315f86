// npm run migrate [-- --service <name>] [--no-build]: applies pending migrations to DATABASE_URL,
// for one service or (without --service) for every service in turn.
//
// Build rule: the code is built first only where there is something to build, that is in a
// checkout (tsconfig.build.json present) and unless --no-build is given. The image ships dist/
// without tsconfig.build.json or TypeScript, so there it never builds.
//
// The database is created only when it does not exist; when it does (CloudNativePG creates it
// with its owner), neither the `postgres` maintenance database nor CREATEDB is needed.
// Safe to run twice, and concurrently: each service's migrations take an advisory lock.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_DATABASE_URL, ensureDatabase } from './lib/database.mjs';
import { descriptors, migrateServices, run } from './lib/services.mjs';

const root = new URL('..', import.meta.url).pathname;
const USAGE = 'usage: npm run migrate [-- --service <name>] [--no-build]';

/** Exit code 2: the command line is wrong (nothing was touched). */
class UsageError extends Error {}

function parseCommandLine(argv) {
  try {
    const { values } = parseArgs({
      args: argv,
      options: { service: { type: 'string' }, 'no-build': { type: 'boolean' } },
      strict: true,
      allowPositionals: false,
    });
    return { service: values.service, build: !values['no-build'] };
  } catch (err) {
    throw new UsageError(`${err.message}\n${USAGE}`);
  }
}

/** The services to migrate: the one asked for, or all of them. */
function servicesToMigrate(requested) {
  const names = descriptors().map(({ name }) => name);
  if (requested === undefined) return names;
  if (!names.includes(requested)) {
    throw new UsageError(`unknown service "${requested}"; valid services: ${names.join(', ')}`);
  }
  return [requested];
}

async function main() {
  const { service, build } = parseCommandLine(process.argv.slice(2));
  if (build && existsSync(join(root, 'tsconfig.build.json'))) {
    await run('npm', ['run', '--silent', 'build']);
  }
  const names = servicesToMigrate(service);
  const env = { ...process.env, DATABASE_URL: process.env.DATABASE_URL || DEFAULT_DATABASE_URL };
  await ensureDatabase(env.DATABASE_URL);
  await migrateServices(env, names);
}

try {
  await main();
} catch (err) {
  // The message only: errors from pg and from URL parsing name the host, never the password.
  console.error(err.message);
  process.exit(err instanceof UsageError ? 2 : 1);
}
