import { SERVICES, SERVICE_NAMES, type ServiceName } from '@dsg/contracts';
import type { MigrationClass } from '@dsg/platform';
import { spawn } from 'node:child_process';
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { join } from 'node:path';
import { Client } from 'pg';
import { migrations as consent } from '../apps/consent/src/migrations';
import { migrations as disclosureRegister } from '../apps/disclosure-register/src/migrations';
import { migrations as gateway } from '../apps/gateway/src/migrations';
import { migrations as retention } from '../apps/retention/src/migrations';
import { e2eEnv } from './support/e2e-env';

const root = join(__dirname, '..');

const MIGRATIONS: Record<ServiceName, MigrationClass[]> = {
  consent,
  'disclosure-register': disclosureRegister,
  retention,
  gateway,
};

interface Run {
  code: number | null;
  output: string;
}

/**
 * `npm run migrate -- --service <name>`, exactly as a migration Job runs it, except --no-build:
 * the global setup has built dist/ already, and two runs building at once would race on it.
 */
function migrate(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', 'migrate', '--', ...args, '--no-build'], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

/** The URL of the same server with another database (the maintenance one by default). */
function databaseAt(name = 'postgres'): string {
  const url = new URL(e2eEnv().databaseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function withClient<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Whether a SCRAM-SHA-256 verifier as PostgreSQL stores it (pg_authid.rolpassword) was made from
 * this password (RFC 5802: StoredKey = H(HMAC(SaltedPassword, "Client Key"))). A local server
 * that trusts loopback connections would let the role in with any password; this proves the
 * migration set the one it was given.
 */
function scramMatches(verifier: string, password: string): boolean {
  const match = /^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):/.exec(verifier);
  if (!match) return false;
  const [, iterations, salt, storedKey] = match;
  const salted = pbkdf2Sync(
    password,
    Buffer.from(salt, 'base64'),
    Number(iterations),
    32,
    'sha256',
  );
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const expected = createHash('sha256').update(clientKey).digest();
  const stored = Buffer.from(storedKey, 'base64');
  return stored.length === expected.length && timingSafeEqual(stored, expected);
}

/**
 * The migration Job of each service may run twice, and two of its runs may overlap (a retried
 * Job, two releases): both must succeed, and the schema must end up exactly as after one run.
 * On a database of this test's own, created by the runs themselves.
 */
describe('npm run migrate -- --service <name>: twice at once, then once more', () => {
  const name = `dsg_migrate_${e2eEnv().runId}_${randomBytes(3).toString('hex')}`;
  const databaseUrl = databaseAt(name);
  // Roles are cluster-wide: where the runner sets no password (a server that trusts loopback),
  // the runtime roles get one for this test only, and lose it again at the end.
  const ownPassword = !process.env.DATABASE_RUNTIME_PASSWORD;
  const runtimePassword = process.env.DATABASE_RUNTIME_PASSWORD || randomBytes(24).toString('hex');
  const env = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    DATABASE_RUNTIME_PASSWORD: runtimePassword,
    LOG_LEVEL: 'warn',
  };

  afterAll(async () => {
    await withClient(databaseAt(), async (client) => {
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      if (!ownPassword) return;
      for (const service of SERVICE_NAMES) {
        await client.query(`ALTER ROLE "${SERVICES[service].runtimeRole}" PASSWORD NULL`);
      }
    });
  });

  it('refuses an unknown service with exit code 2 and names the valid ones', async () => {
    const run = await migrate(['--service', 'billing'], env);
    expect(run.code).toBe(2);
    expect(run.output).toContain('unknown service "billing"');
    for (const service of SERVICE_NAMES) expect(run.output).toContain(service);
  });

  it("runs a release's four Jobs at once, each twice, on a database none of them found", async () => {
    const all = `${name}_all`;
    const url = databaseAt(all);
    try {
      const runs = await Promise.all(
        SERVICE_NAMES.flatMap((service) =>
          [1, 2].map(() => migrate(['--service', service], { ...env, DATABASE_URL: url })),
        ),
      );
      for (const run of runs) expect(run).toMatchObject({ code: 0 });
      for (const service of SERVICE_NAMES) {
        const recorded = await withClient(url, (client) =>
          client.query<{ name: string }>(
            `SELECT name FROM "${SERVICES[service].schema}".migrations ORDER BY name`,
          ),
        );
        expect({ service, migrations: recorded.rows.map((r) => r.name) }).toEqual({
          service,
          migrations: MIGRATIONS[service].map((M) => new M().name ?? M.name).sort(),
        });
      }
    } finally {
      await withClient(databaseAt(), (client) =>
        client.query(`DROP DATABASE IF EXISTS "${all}" WITH (FORCE)`),
      );
    }
  }, 240_000);

  it.each(SERVICE_NAMES.map((s) => [s]))(
    '%s: every run exits 0, each migration is recorded once, the runtime role logs in',
    async (service) => {
      const { schema, runtimeRole } = SERVICES[service];
      const runs = await Promise.all([
        migrate(['--service', service], env),
        migrate([`--service=${service}`], env),
      ]);
      runs.push(await migrate(['--service', service], env));
      for (const run of runs) expect({ service, ...run }).toMatchObject({ code: 0 });

      const expected = MIGRATIONS[service].map((M) => new M().name ?? M.name).sort();
      const recorded = await withClient(databaseUrl, (client) =>
        client.query<{ name: string }>(`SELECT name FROM "${schema}".migrations ORDER BY name`),
      );
      expect(recorded.rows.map((r) => r.name)).toEqual(expected);

      const role = await withClient(databaseUrl, (client) =>
        client.query<{ rolcanlogin: boolean; rolpassword: string | null }>(
          'SELECT rolcanlogin, rolpassword FROM pg_authid WHERE rolname = $1',
          [runtimeRole],
        ),
      );
      expect(role.rows).toHaveLength(1);
      expect(role.rows[0].rolcanlogin).toBe(true);
      expect(scramMatches(role.rows[0].rolpassword ?? '', runtimePassword)).toBe(true);

      const asRuntime = new URL(databaseUrl);
      asRuntime.username = runtimeRole;
      asRuntime.password = runtimePassword;
      const searchPath = await withClient(asRuntime.toString(), (client) =>
        client.query<{ search_path: string }>('SHOW search_path'),
      );
      expect(searchPath.rows[0].search_path).toBe(schema);
    },
    120_000,
  );
});
