import type { DsgClient } from '@dsg/contracts';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { PrivateStack } from './support/private-stack';
import type { ServiceProcess } from './support/service-process';
import { waitUntil } from './support/wait';

const seededPath = join(__dirname, '..', 'apps', 'consent', 'policy', 'him-medspa.policy.yaml');

/**
 * A new policy version dates every holding again (issue 7, RET-5): nothing computed under an old
 * schedule is kept. Publishing a version in effect changes the policy of everything that runs on
 * the database, so this suite has a database and a subject prefix of its own.
 */
describe('retention: a new policy version dates the holdings again', () => {
  const run = Date.now().toString(36);
  let stack: PrivateStack;
  let booking: DsgClient;
  let consent: ServiceProcess;

  beforeAll(async () => {
    stack = await PrivateStack.create('sched', ['consent', 'retention']);
    consent = await stack.start('consent');
    await stack.start('retention');
    booking = await stack.client('booking');
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
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
    await consent.stop();
    await stack.start('consent', { POLICY_BUNDLE_PATH: path });

    const redated = await waitUntil(async () => {
      const { rows } = await stack.db.query(
        'SELECT due_at, policy_version FROM retention.holdings WHERE client_id = $1',
        [clientId],
      );
      return rows[0]?.policy_version === '2026.7';
    }, 20_000);
    expect(redated).toBe(true);
    const { rows } = await stack.db.query(
      'SELECT due_at, rule, reason FROM retention.holdings WHERE client_id = $1',
      [clientId],
    );
    expect(rows[0].due_at).toEqual(new Date('2026-01-31T00:00:00Z'));
    expect(rows[0].reason).toContain('P30D');
  });
});
