import { DsgClient } from '@dsg/contracts';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { parse, stringify } from 'yaml';
import { e2eEnv } from './support/e2e-env';
import { deleteStreams, natsPassword } from './support/nats-users';
import { ServiceProcess } from './support/service-process';
import { waitUntil } from './support/wait';

const seededPath = join(__dirname, '..', 'apps', 'consent', 'policy', 'him-medspa.policy.yaml');

/**
 * A new policy version dates every holding again (issue 7, RET-5): nothing computed under an old
 * schedule is kept. Publishing a version in effect changes the policy of everything that runs on
 * the database, so this suite has a database and a subject prefix of its own.
 */
describe('retention: a new policy version dates the holdings again', () => {
  const run = Date.now().toString(36);
  const database = `dsg_e2e_sched_${run}`;
  const prefix = `sched${run}`;
  let databaseUrl: string;
  let owner: Client;
  let db: Client;
  let booking: DsgClient;
  const processes: ServiceProcess[] = [];
  const start = async (service: 'consent' | 'retention', env: Record<string, string> = {}) => {
    const proc = await ServiceProcess.start(service, {
      DATABASE_URL: databaseUrl,
      NATS_SUBJECT_PREFIX: prefix,
      ...env,
    });
    processes.push(proc);
    await proc.waitReady();
    return proc;
  };

  beforeAll(async () => {
    owner = new Client({ connectionString: e2eEnv().databaseUrl });
    await owner.connect();
    await owner.query(`CREATE DATABASE ${database}`);
    const url = new URL(e2eEnv().databaseUrl);
    url.pathname = `/${database}`;
    databaseUrl = url.toString();
    for (const service of ['consent', 'retention'] as const) {
      const migrate = await ServiceProcess.start(service, { DATABASE_URL: databaseUrl }, [
        'migrate',
      ]);
      expect((await migrate.exited).code).toBe(0);
    }
    await start('consent');
    await start('retention');
    db = new Client({ connectionString: databaseUrl });
    await db.connect();
    booking = await DsgClient.connect({
      caller: 'booking',
      password: natsPassword('booking'),
      natsUrl: e2eEnv().natsUrl,
      subjectPrefix: prefix,
    });
  }, 120_000);

  afterAll(async () => {
    await booking?.close();
    await db?.end();
    await Promise.all(processes.map((p) => p.stop()));
    await owner?.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await owner?.end();
    await deleteStreams(e2eEnv().natsUrl, prefix);
  });

  it('dates each holding under the version in effect once it is published', async () => {
    const clientId = `sched-${run}`;
    const declared = await booking.retention.holdingsDeclare({
      system: 'booking',
      holdings: [
        { clientId, category: 'website.device', clocks: { creation: '2026-01-01T00:00:00Z' } },
      ],
    });
    expect(declared.holdings[0]).toMatchObject({
      dueAt: '2026-04-01T00:00:00.000Z',
      policyVersion: '2026.1',
    });

    // A new version, in effect today, shortens website device data to 30 days.
    const bundle = parse(readFileSync(seededPath, 'utf8')) as {
      policy: Record<string, unknown>;
      retention: { category: string; period: string }[];
    };
    Object.assign(bundle.policy, {
      version: '2026.7',
      effectiveDate: new Date().toISOString().slice(0, 10),
    });
    bundle.retention.find((r) => r.category === 'website.device')!.period = 'P30D';
    const path = join(mkdtempSync(join(tmpdir(), 'dsg-policy-')), 'policy.yaml');
    writeFileSync(path, stringify(bundle));
    // Deployed as a new release would be: the consent replica on the old bundle goes first.
    await processes.shift()!.stop();
    await start('consent', { POLICY_BUNDLE_PATH: path });

    const redated = await waitUntil(async () => {
      const { rows } = await db.query(
        'SELECT due_at, policy_version FROM retention.holdings WHERE client_id = $1',
        [clientId],
      );
      return rows[0]?.policy_version === '2026.7';
    }, 20_000);
    expect(redated).toBe(true);
    const { rows } = await db.query(
      'SELECT due_at, rule, reason FROM retention.holdings WHERE client_id = $1',
      [clientId],
    );
    expect(rows[0].due_at).toEqual(new Date('2026-01-31T00:00:00Z'));
    expect(rows[0].reason).toContain('P30D');
  });
});
