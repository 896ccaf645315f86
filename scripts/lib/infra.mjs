// Makes sure PostgreSQL and NATS (with JetStream) are reachable for `npm start` and `npm test`.
// Where they are not, but Debian's postgresql and nats-server binaries are installed, private
// throwaway instances are started in a data folder. Otherwise it stops with what to install.
import { execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { DEFAULT_DATABASE_URL, ensureDatabase } from './database.mjs';
import { NATS_CONFIG, natsPasswordEnv } from './nats-users.cjs';

export { DEFAULT_DATABASE_URL, dropDatabase, ensureDatabase } from './database.mjs';
export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);
const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

function canConnect(host, port, timeoutMs = 1500) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function waitFor(check, what, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not come up within ${timeoutMs / 1000}s`);
}

function postgresBinDir() {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(root, versions[0], 'bin') : undefined;
}

function natsServerBinary() {
  for (const candidate of [
    '/usr/sbin/nats-server',
    '/usr/bin/nats-server',
    '/usr/local/bin/nats-server',
  ]) {
    if (existsSync(candidate)) return candidate;
  }
  try {
    return (
      execFileSync('sh', ['-c', 'command -v nats-server'], { encoding: 'utf8' }).trim() || undefined
    );
  } catch {
    return undefined;
  }
}

const INSTALL_HINT =
  'Install PostgreSQL 15+ and nats-server 2.9+ (Debian: apt-get install postgresql nats-server), ' +
  'point DATABASE_URL and NATS_URL at running servers, or run the whole stack with `docker compose up`.';

/** initdb and postgres refuse to run as root: as root, run them as the postgres user. */
function asPostgresUser(bin, args) {
  return isRoot() ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
}

async function startPrivatePostgres(url, dataRoot, log) {
  const bin = postgresBinDir();
  if (!bin) {
    throw new Error(
      `PostgreSQL is not reachable at ${url.hostname}:${url.port || 5432} and no PostgreSQL binaries are installed. ${INSTALL_HINT}`,
    );
  }
  const port = Number(url.port || 5432);
  const dir = join(dataRoot, `postgres-${port}`);
  mkdirSync(dir, { recursive: true });
  if (isRoot()) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
    chownSync(dataRoot, uid, gid);
    chownSync(dir, uid, gid);
  }
  if (!existsSync(join(dir, 'PG_VERSION'))) {
    log(`initialising a private PostgreSQL cluster in ${dir}`);
    const [cmd, args] = asPostgresUser(join(bin, 'initdb'), [
      '-D',
      dir,
      '-U',
      url.username || 'postgres',
      '--auth=trust',
      '-E',
      'UTF8',
    ]);
    try {
      execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (err) {
      const why = err.stderr?.toString().trim() || err.message;
      throw new Error(
        `initdb failed in ${dir}: ${why}` +
          (isRoot() ? ' (the postgres user must be able to reach that folder)' : ''),
      );
    }
  }
  log(`starting a private PostgreSQL on 127.0.0.1:${port}`);
  const [cmd, args] = asPostgresUser(join(bin, 'postgres'), [
    '-D',
    dir,
    '-k',
    dir,
    '-p',
    String(port),
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'fsync=on',
  ]);
  // Own process group: Ctrl-C on `npm start` must reach the services first, not the database.
  const child = spawn(cmd, args, { stdio: 'ignore', detached: true });
  // The port opens before recovery ends ("the database system is starting up"): wait for a query.
  await waitFor(() => answersQuery(url, port), 'private PostgreSQL');
  return () => stopChild(child);
}

async function startPrivateNats(url, dataRoot, log) {
  const bin = natsServerBinary();
  if (!bin) {
    throw new Error(
      `NATS is not reachable at ${url.hostname}:${url.port || 4222} and nats-server is not installed. ${INSTALL_HINT}`,
    );
  }
  const port = Number(url.port || 4222);
  const dir = join(dataRoot, `nats-${port}`);
  mkdirSync(dir, { recursive: true });
  log(`starting a private nats-server with JetStream on 127.0.0.1:${port}`);
  // The repository's users and permissions (deploy/nats/nats-server.conf), passwords from the
  // environment or their development defaults.
  const child = spawn(
    bin,
    ['-c', NATS_CONFIG, '-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir],
    { stdio: 'ignore', detached: true, env: { ...process.env, ...natsPasswordEnv() } },
  );
  await waitFor(() => canConnect('127.0.0.1', port), 'private nats-server');
  return () => stopChild(child);
}

async function answersQuery(url, port) {
  const client = new pg.Client({
    host: '127.0.0.1',
    port,
    user: url.username || 'postgres',
    database: 'postgres',
  });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

function stopChild(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    // postgres runs under runuser: SIGTERM to runuser is forwarded to it (a "smart" shutdown).
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 15000).unref();
  });
}

/**
 * Returns a function that stops whatever was started here (nothing, when both servers were
 * already running).
 */
export async function ensureInfrastructure({
  databaseUrl = DEFAULT_DATABASE_URL,
  natsUrl = DEFAULT_NATS_URL,
  dataRoot = join(process.cwd(), '.data'),
  log = (m) => console.error(`[infra] ${m}`),
} = {}) {
  const stops = [];
  const servers = [
    { what: 'PostgreSQL', url: new URL(databaseUrl), port: 5432, start: startPrivatePostgres },
    { what: 'NATS', url: new URL(natsUrl.split(',')[0]), port: 4222, start: startPrivateNats },
  ];
  for (const { what, url, port, start } of servers) {
    if (await canConnect(url.hostname, Number(url.port || port))) continue;
    if (!LOOPBACK.has(url.hostname)) {
      throw new Error(
        `${what} at ${url.hostname}:${url.port || port} is not reachable. ${INSTALL_HINT}`,
      );
    }
    mkdirSync(dataRoot, { recursive: true });
    stops.push(await start(url, dataRoot, log));
  }
  await ensureDatabase(databaseUrl);
  return async () => {
    for (const stop of stops.reverse()) await stop();
  };
}

export function writeJson(path, value) {
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}
