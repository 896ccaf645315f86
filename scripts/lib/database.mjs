// Creating and dropping the database named in a URL. Kept apart from infra.mjs (which starts
// private servers for development) because the image ships it: `npm run migrate` needs only `pg`.
import pg from 'pg';

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/dsg';

// SQLSTATEs: the database named in the URL does not exist; another session created it first
// (42P04, or a unique violation on pg_database when two CREATE DATABASE race).
const INVALID_CATALOG_NAME = '3D000';
const ALREADY_CREATED = new Set(['42P04', '23505']);

const databaseName = (databaseUrl) =>
  decodeURIComponent(new URL(databaseUrl).pathname.slice(1)) || 'postgres';
const quoted = (name) => `"${name.replace(/"/g, '""')}"`;

/** Runs `fn(client)` on the server's maintenance database `postgres`. */
async function onMaintenanceDb(databaseUrl, fn) {
  const admin = new URL(databaseUrl);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** True when the database in the URL accepts a connection; false only when it does not exist. */
async function databaseExists(databaseUrl) {
  const client = new pg.Client({ connectionString: databaseUrl });
  try {
    await client.connect();
    return true;
  } catch (err) {
    if (err.code === INVALID_CATALOG_NAME) return false;
    throw err;
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Creates the database named in the URL if it does not exist yet. The database itself is tried
 * first, so a role that may not create databases, or may not reach `postgres` (CloudNativePG
 * creates the database and its owner), never needs the maintenance database.
 */
export async function ensureDatabase(databaseUrl) {
  if (await databaseExists(databaseUrl)) return;
  await onMaintenanceDb(databaseUrl, async (client) => {
    try {
      await client.query(`CREATE DATABASE ${quoted(databaseName(databaseUrl))}`);
    } catch (err) {
      // Two migration runs started together: one of them creates it, both go on.
      if (!ALREADY_CREATED.has(err.code)) throw err;
    }
  });
}

export function dropDatabase(databaseUrl) {
  return onMaintenanceDb(databaseUrl, (client) =>
    client.query(`DROP DATABASE IF EXISTS ${quoted(databaseName(databaseUrl))} WITH (FORCE)`),
  );
}
