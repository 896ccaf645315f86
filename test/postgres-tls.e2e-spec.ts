import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort, ServiceProcess } from './support/service-process';
import { waitUntil } from './support/wait';

/**
 * The connection the Kubernetes manifests give the services (deploy/k8s): PostgreSQL over TLS,
 * verified against the cluster's CA (`sslmode=verify-full&sslrootcert=…`), as CloudNativePG
 * serves it. A private PostgreSQL with TLS on and plain connections refused, its own CA: the
 * migration runs as the migrating role over it, and a service serves as its runtime role over it; a
 * server whose certificate another CA signed is refused.
 */
const root = join(__dirname, '..');
const isRoot = process.getuid?.() === 0;

function postgresBin(): string {
  const base = '/usr/lib/postgresql';
  const [version] = readdirSync(base).sort((a, b) => Number(b) - Number(a));
  return join(base, version, 'bin');
}

/** Runs a PostgreSQL binary as the postgres user when we are root (both refuse root). */
function asPostgres(command: string, args: string[]): [string, string[]] {
  return isRoot ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A CA, and a server certificate for localhost signed by it. */
function makeCertificates(dir: string): void {
  for (const ca of ['ca', 'other-ca']) {
    openssl(
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${ca}`].concat([
        '-keyout',
        `${ca}.key`,
        '-out',
        `${ca}.crt`,
      ]),
      dir,
    );
  }
  openssl(
    ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost'].concat([
      '-keyout',
      'server.key',
      '-out',
      'server.csr',
    ]),
    dir,
  );
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=DNS:localhost\n');
  openssl(
    [
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
    ].concat(['-days', '2', '-extfile', 'san.ext', '-out', 'server.crt']),
    dir,
  );
}

const OWNER_PASSWORD = 'owner-password-0123456789';
const RUNTIME_PASSWORD = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
const SECRETS = {
  NODE_ENV: 'production',
  SIGNING_KEY_SECRET: 'tls-test-signing-key-secret-0123456789abcdef',
  IDENTIFIER_HASH_SECRET: 'tls-test-identifier-hash-secret-0123456789ab',
};

describe('PostgreSQL over verified TLS, as the Kubernetes manifests connect', () => {
  let dir: string;
  let port: number;
  let server: ReturnType<typeof spawn>;

  const url = (user: string, password: string, ca = 'ca.crt') =>
    `postgres://${user}:${password}@localhost:${port}/dsg?sslmode=verify-full&sslrootcert=${join(dir, ca)}`;

  const migrate = (ca = 'ca.crt') =>
    spawnSync(process.execPath, [join(root, 'dist/apps/gateway/src/main.js'), 'migrate'], {
      // Production, as in the image, without the signing and identifier secrets (as the Jobs).
      env: {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'production',
        DATABASE_URL: url('dsg_migrator', OWNER_PASSWORD, ca),
        DATABASE_RUNTIME_PASSWORD: RUNTIME_PASSWORD,
      },
      encoding: 'utf8',
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dsg-pg-tls-'));
    makeCertificates(dir);
    const data = join(dir, 'data');
    if (isRoot) {
      const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
      const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
      chownSync(dir, uid, gid);
      for (const file of ['server.key', 'server.crt']) chownSync(join(dir, file), uid, gid);
    }
    execFileSync('chmod', ['600', join(dir, 'server.key')]);
    const [initdb, initArgs] = asPostgres(join(postgresBin(), 'initdb'), [
      '-D',
      data,
      '-U',
      'postgres',
      '--auth=trust',
    ]);
    execFileSync(initdb, initArgs, { stdio: 'ignore' });
    // Only TLS from the network, with a password; the socket (this test's setup) trusts.
    writeFileSync(
      join(data, 'pg_hba.conf'),
      [
        'local all all trust',
        'hostssl all all 127.0.0.1/32 scram-sha-256',
        'host all all 127.0.0.1/32 reject',
        '',
      ].join('\n'),
    );
    port = await freePort();
    const [postgres, args] = asPostgres(join(postgresBin(), 'postgres'), [
      ...['-D', data, '-k', dir, '-p', String(port)],
      ...['-c', 'listen_addresses=127.0.0.1', '-c', 'ssl=on'],
      ...['-c', `ssl_cert_file=${join(dir, 'server.crt')}`],
      ...['-c', `ssl_key_file=${join(dir, 'server.key')}`],
    ]);
    // Own process group: runuser does not pass signals on, so afterAll signals the group.
    server = spawn(postgres, args, { stdio: 'ignore', detached: true });
    const admin = () => new Client({ host: dir, port, user: 'postgres', database: 'postgres' });
    expect(
      await waitUntil(async () => {
        const client = admin();
        try {
          await client.connect();
          return true;
        } catch {
          return false;
        } finally {
          await client.end().catch(() => undefined);
        }
      }, 30_000),
    ).toBe(true);
    // As deploy/k8s/postgres declares it: the database and its owner (CloudNativePG's
    // bootstrap), and the role migrations run as (a managed role, reachable only over TLS).
    const client = admin();
    await client.connect();
    await client.query(`CREATE ROLE dsg LOGIN PASSWORD '${OWNER_PASSWORD}'`);
    await client.query(`CREATE ROLE dsg_migrator LOGIN SUPERUSER PASSWORD '${OWNER_PASSWORD}'`);
    await client.query('CREATE DATABASE dsg OWNER dsg');
    await client.end();
  });

  afterAll(async () => {
    if (server && server.exitCode === null) {
      process.kill(-server.pid!, 'SIGINT');
      await new Promise((resolve) => server.once('exit', resolve));
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a connection without TLS (the server under test demands it)', async () => {
    const client = new Client({
      connectionString: `postgres://dsg:${OWNER_PASSWORD}@localhost:${port}/dsg?sslmode=disable`,
    });
    await expect(client.connect()).rejects.toThrow(/pg_hba.conf rejects connection/);
    await client.end().catch(() => undefined);
  });

  it('refuses a server whose certificate another CA signed, and names no password', () => {
    const run = migrate('other-ca.crt');
    expect(run.status).toBe(1);
    const output = run.stdout + run.stderr;
    expect(output).toMatch(/self.signed|unable to verify|certificate/i);
    expect(output).not.toContain(OWNER_PASSWORD);
  });

  it('migrates as the migrating role over verified TLS, twice', () => {
    for (const attempt of [1, 2]) {
      const run = migrate();
      expect({ attempt, status: run.status, output: run.status ? run.stderr : '' }).toEqual({
        attempt,
        status: 0,
        output: '',
      });
    }
  });

  it('serves as the runtime role over verified TLS', async () => {
    const service = await ServiceProcess.start('gateway', {
      ...SECRETS,
      DATABASE_URL: '',
      DATABASE_RUNTIME_URL: url('gateway_runtime', RUNTIME_PASSWORD),
    });
    try {
      await service.waitReady();
      // The server's own view (as superuser, over the socket): the runtime role's sessions.
      const client = new Client({ host: dir, port, user: 'postgres', database: 'dsg' });
      await client.connect();
      try {
        const sessions = async () =>
          (
            await client.query<{ ssl: boolean }>(
              `SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
                WHERE a.usename = 'gateway_runtime'`,
            )
          ).rows;
        expect(await waitUntil(async () => (await sessions()).length > 0, 10_000)).toBe(true);
        expect((await sessions()).every((r) => r.ssl)).toBe(true);
      } finally {
        await client.end();
      }
    } finally {
      await service.stop();
    }
  });
});
