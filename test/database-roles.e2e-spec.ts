import { SERVICES, SERVICE_NAMES } from '@dsg/contracts';
import { Client } from 'pg';
import { e2eEnv } from './support/e2e-env';

/** Connects as a service's runtime role, exactly as the service does (no password locally). */
async function connectAs(role: string): Promise<Client> {
  const url = new URL(e2eEnv().databaseUrl);
  url.username = role;
  url.password = '';
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  return client;
}

const errorCode = (promise: Promise<unknown>) =>
  promise.then(
    () => 'no error',
    (err: { code?: string }) => err.code,
  );

describe('per-service schemas and runtime roles', () => {
  const pairs = SERVICE_NAMES.flatMap((own) =>
    SERVICE_NAMES.filter((other) => other !== own).map((other) => [own, other] as const),
  );

  it.each(pairs)("%s's runtime role cannot touch %s's schema", async (own, other) => {
    const client = await connectAs(SERVICES[own].runtimeRole);
    const schema = SERVICES[other].schema;
    try {
      // 42501 = insufficient_privilege
      await expect(errorCode(client.query(`SELECT * FROM "${schema}".migrations`))).resolves.toBe(
        '42501',
      );
      await expect(
        errorCode(client.query(`CREATE TABLE "${schema}".intruder (id int)`)),
      ).resolves.toBe('42501');
      await expect(errorCode(client.query(`DROP TABLE "${schema}".migrations`))).resolves.toBe(
        '42501',
      );
    } finally {
      await client.end();
    }
  });

  it.each(SERVICE_NAMES.map((s) => [s]))(
    "%s's runtime role uses its own schema but owns nothing: no DDL, no migration history",
    async (service) => {
      const { schema, runtimeRole } = SERVICES[service];
      const client = await connectAs(runtimeRole);
      try {
        const { rows } = await client.query<{ search_path: string }>('SHOW search_path');
        expect(rows[0].search_path).toBe(schema);
        const usage = await client.query<{ usage: boolean }>(
          `SELECT has_schema_privilege($1, 'USAGE') AS usage`,
          [schema],
        );
        expect(usage.rows[0].usage).toBe(true);
        await expect(
          errorCode(client.query(`CREATE TABLE "${schema}".scratch (id int)`)),
        ).resolves.toBe('42501');
        await expect(errorCode(client.query(`SELECT * FROM "${schema}".migrations`))).resolves.toBe(
          '42501',
        );
        const owned = await client.query(
          `SELECT 1 FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname = current_user
           UNION ALL SELECT 1 FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner WHERE r.rolname = current_user`,
        );
        expect(owned.rowCount).toBe(0);
      } finally {
        await client.end();
      }
    },
  );

  it.each(SERVICE_NAMES.map((s) => [s]))(
    "%s's runtime role may append to its outbox and mark rows published, but not rewrite or delete events",
    async (service) => {
      const { schema, runtimeRole } = SERVICES[service];
      const client = await connectAs(runtimeRole);
      try {
        await client.query('BEGIN');
        await client.query(
          `INSERT INTO "${schema}".outbox (id, subject, type, schema_version, envelope)
           VALUES (gen_random_uuid(), 's', 't.x', 1, '{}')`,
        );
        await client.query(`UPDATE "${schema}".outbox SET published_at = now()`);
        await expect(
          errorCode(client.query(`UPDATE "${schema}".outbox SET envelope = '{"forged":1}'`)),
        ).resolves.toBe('42501');
      } finally {
        await client.query('ROLLBACK');
      }
      try {
        await expect(errorCode(client.query(`DELETE FROM "${schema}".outbox`))).resolves.toBe(
          '42501',
        );
        await expect(errorCode(client.query(`DELETE FROM "${schema}".inbox`))).resolves.toBe(
          '42501',
        );
      } finally {
        await client.end();
      }
    },
  );

  it('the owner role applied every service migration into that service schema', async () => {
    const client = new Client({ connectionString: e2eEnv().databaseUrl });
    await client.connect();
    try {
      for (const service of SERVICE_NAMES) {
        const { rows } = await client.query<{ name: string }>(
          `SELECT name FROM "${SERVICES[service].schema}".migrations`,
        );
        expect(rows.length).toBeGreaterThan(0);
      }
    } finally {
      await client.end();
    }
  });
});
