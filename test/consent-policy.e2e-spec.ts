import { DsgClient, type DsgError, ErrorCodes, SERVICES } from '@dsg/contracts';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { parse, stringify } from 'yaml';
import { connectClient } from './support/clients';
import { e2eEnv, runtimeDataSource, sqlErrorCode } from './support/e2e-env';
import { GrpcTestClient } from './support/grpc';
import { ServiceProcess } from './support/service-process';

const seededPath = join(__dirname, '..', 'apps', 'consent', 'policy', 'him-medspa.policy.yaml');

/** Writes a variant of the seeded bundle to a file of its own. */
function variant(
  change: (bundle: { policy: Record<string, unknown>; purposes: { label: string }[] }) => void,
): string {
  const bundle = parse(readFileSync(seededPath, 'utf8'));
  change(bundle);
  const path = join(mkdtempSync(join(tmpdir(), 'dsg-policy-')), 'policy.yaml');
  writeFileSync(path, stringify(bundle));
  return path;
}

describe('consent: the policy as code, published as immutable versions (POL-6)', () => {
  const env = e2eEnv();
  let consent: ServiceProcess;
  let client: DsgClient;
  let owner: Client;

  beforeAll(async () => {
    consent = await ServiceProcess.start('consent');
    await consent.waitReady();
    client = await connectClient('ops');
    owner = new Client({ connectionString: env.databaseUrl });
    await owner.connect();
  }, 60_000);

  afterAll(async () => {
    await client?.close();
    await owner?.end();
    await consent?.stop();
  });

  it('serves the seeded bundle as the version in effect, over NATS and gRPC alike', async () => {
    const policy = await client.consent.policyGet({});
    expect(policy).toMatchObject({
      policyId: 'him-medspa',
      version: '2026.1',
      current: true,
      material: false,
    });
    expect(policy.contentHash).toMatch(/^[0-9a-f]{64}$/);
    const bundle = policy.bundle as { purposes: { id: string }[]; recipientKinds: unknown[] };
    expect(bundle.purposes.map((p) => p.id)).toContain('offers-and-marketing');
    expect(bundle.recipientKinds).toHaveLength(6);

    const grpc = new GrpcTestClient(SERVICES.consent, consent.grpcPort);
    try {
      const reply = await grpc.call<{ version: string; bundleJson: string }>('GetPolicy', {});
      expect(reply.ok).toBe(true);
      if (reply.ok) {
        expect(reply.value.version).toBe('2026.1');
        expect(JSON.parse(reply.value.bundleJson)).toEqual(policy.bundle);
      }
    } finally {
      grpc.close();
    }
  });

  it('announces a published version as an event through the outbox', async () => {
    const { rows } = await owner.query(
      `SELECT envelope FROM consent.outbox WHERE type = 'policy.published' AND envelope->'data'->>'version' = '2026.1'`,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0].envelope).toMatchObject({
      source: 'consent',
      schemaVersion: 1,
      data: { material: false },
    });
  });

  it('refuses an unknown version as not found and a malformed one as invalid', async () => {
    const missing = (await client.consent
      .policyGet({ version: '1999.1' })
      .catch((e: unknown) => e)) as DsgError;
    expect(missing.code).toBe(ErrorCodes.NOT_FOUND);
    const malformed = (await client.consent
      .policyGet({ version: 'v 1; drop' }, { retries: 0 })
      .catch((e: unknown) => e)) as DsgError;
    expect(malformed).toMatchObject({
      code: ErrorCodes.VALIDATION_FAILED,
      fields: [expect.objectContaining({ field: 'version' })],
    });
  });

  it('will not start with other content under a published version', async () => {
    const path = variant((b) => (b.purposes[0].label = 'Scheduling, quietly changed'));
    const proc = await ServiceProcess.start('consent', { POLICY_BUNDLE_PATH: path });
    expect((await proc.exited).code).toBe(1);
    expect(proc.lines.join('\n')).toContain('already published with other content');
  });

  it('keeps past versions retrievable; a future version is stored but not yet in effect; a material one is told to active clients (POL-6)', async () => {
    const path = variant((b) =>
      Object.assign(b.policy, { version: '2026.2', effectiveDate: '2099-01-01', material: true }),
    );
    // Two clients of the spa: one active, one not (POL-6: only active clients are told).
    const run = Date.now().toString(36);
    await client.consent.subjectUpsert({ clientId: `active-${run}`, status: 'active' });
    await client.consent.subjectUpsert({ clientId: `former-${run}`, status: 'inactive' });
    const next = await ServiceProcess.start('consent', { POLICY_BUNDLE_PATH: path });
    try {
      await next.waitReady();
      const versions = await client.consent.policyVersions({});
      expect(versions.current).toBe('2026.1');
      expect(versions.versions.map((v) => v.version)).toEqual(
        expect.arrayContaining(['2026.1', '2026.2']),
      );
      await expect(client.consent.policyGet({ version: '2026.2' })).resolves.toMatchObject({
        current: false,
        material: true,
        effectiveDate: '2099-01-01',
      });
      const { rows } = await owner.query(
        `SELECT client_id FROM consent.notification_tasks WHERE policy_version = '2026.2' AND client_id = ANY($1)`,
        [[`active-${run}`, `former-${run}`]],
      );
      expect(rows).toEqual([{ client_id: `active-${run}` }]);
      const events = await owner.query(
        `SELECT 1 FROM consent.outbox WHERE type = 'notification.requested' AND envelope->'data'->>'clientId' = $1`,
        [`active-${run}`],
      );
      expect(events.rowCount).toBe(1);
    } finally {
      await next.stop();
    }
  });

  it('the runtime role cannot rewrite or delete a published version', async () => {
    const runtime = await runtimeDataSource('consent', 1).initialize();
    try {
      const code = (sql: string) => sqlErrorCode(runtime, sql);
      await expect(code(`UPDATE consent.policy_versions SET material = true`)).resolves.toBe(
        '42501',
      );
      await expect(code(`DELETE FROM consent.policy_versions`)).resolves.toBe('42501');
    } finally {
      await runtime.destroy();
    }
  });
});
