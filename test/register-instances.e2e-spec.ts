import { type DiscloseRequest, type DisclosureReceipt, type DsgClient } from '@dsg/contracts';
import { Client } from 'pg';
import { connectClient } from './support/clients';
import { e2eEnv } from './support/e2e-env';
import { ServiceProcess } from './support/service-process';

/**
 * The register run as production runs it: several instances behind one NATS queue group, one of
 * which may die at any moment. One log across them, and no receipted entry lost.
 */
describe('disclosure register: two instances, one killed mid-load', () => {
  const run = Date.now().toString(36);
  const clientId = `inst-${run}`;
  let consent: ServiceProcess;
  let a: ServiceProcess;
  let b: ServiceProcess;
  let booking: DsgClient;
  let owner: Client;

  const request = (n: number): DiscloseRequest => ({
    clientId,
    recipientId: 'cherry',
    purpose: 'payments-and-memberships',
    legalBasis: 'payment',
    categories: ['identifiers.name', 'payment.financing'],
    description: `Financing application ${run}-${n}`,
  });
  const disclose = (n: number, timeoutMs = 3000) =>
    booking.disclosureRegister.disclose(request(n), {
      idempotencyKey: `${run}-${n}`,
      retries: 0,
      timeoutMs,
    });

  /** Every position from 0 to the newest is there exactly once: the instances kept one log. */
  async function expectOneLog(): Promise<void> {
    const { rows } = await owner.query(
      `SELECT count(*)::int AS n, coalesce(max(position), -1)::int AS max,
              count(DISTINCT position)::int AS distinct_positions
         FROM disclosure_register.entries`,
    );
    expect(rows[0].n).toBe(rows[0].max + 1);
    expect(rows[0].distinct_positions).toBe(rows[0].n);
  }

  /** The receipt's entry is in the log, where and as the receipt says. */
  async function expectRecorded(receipts: DisclosureReceipt[]): Promise<void> {
    const { rows } = await owner.query(
      `SELECT entry_id, position::int AS position, encode(leaf_hash, 'hex') AS leaf_hash
         FROM disclosure_register.entries WHERE entry_id = ANY($1)`,
      [receipts.map((r) => r.entryId)],
    );
    const byId = new Map(rows.map((r) => [r.entry_id as string, r]));
    for (const receipt of receipts) {
      expect(byId.get(receipt.entryId)).toEqual({
        entry_id: receipt.entryId,
        position: receipt.position,
        leaf_hash: receipt.leafHash,
      });
    }
  }

  const handled = async (instance: ServiceProcess) => {
    const text = await (await fetch(instance.url('/metrics'))).text();
    const line = text
      .split('\n')
      .find(
        (l) =>
          l.startsWith('dsg_rpc_requests_total{') &&
          l.includes('operation="disclosure-register.disclosures.disclose"') &&
          l.includes('outcome="ok"'),
      );
    return line ? Number(line.split(' ').at(-1)) : 0;
  };

  /** Batches an instance committed by `path` (optimistic: one statement; locked). */
  const batches = async (instance: ServiceProcess, path: 'optimistic' | 'locked') => {
    const text = await (await fetch(instance.url('/metrics'))).text();
    const line = text
      .split('\n')
      .find((l) => l.startsWith(`dsg_register_batches_total{path="${path}"}`));
    return line ? Number(line.split(' ').at(-1)) : 0;
  };
  const allBatches = async (path: 'optimistic' | 'locked') =>
    (await batches(a, path)) + (await batches(b, path));

  beforeAll(async () => {
    const env = { SEAL_EVERY_MS: '200' };
    [consent, a, b] = await Promise.all([
      ServiceProcess.start('consent'),
      ServiceProcess.start('disclosure-register', env),
      ServiceProcess.start('disclosure-register', env),
    ]);
    await Promise.all([consent.waitReady(), a.waitReady(), b.waitReady()]);
    booking = await connectClient('booking');
    owner = new Client({ connectionString: e2eEnv().databaseUrl });
    await owner.connect();
    await booking.consent.subjectUpsert({ clientId, dateOfBirth: '1979-09-09' });
  }, 60_000);

  afterAll(async () => {
    await booking?.close();
    await owner?.end();
    await Promise.all([a, b, consent].map((p) => p?.stop()));
  });

  it('two instances appending at once keep one log with no gap or repeat', async () => {
    const receipts: DisclosureReceipt[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < 240) receipts.push(await disclose(next++));
      }),
    );
    expect(receipts).toHaveLength(240);
    expect(new Set(receipts.map((r) => r.position)).size).toBe(240);
    // Both instances took part (NATS spreads the queue group's requests between them).
    expect(await handled(a)).toBeGreaterThan(0);
    expect(await handled(b)).toBeGreaterThan(0);
    // Most batches went in one statement; those that found the other instance's appends first
    // went under the lock.
    expect(await allBatches('optimistic')).toBeGreaterThan(0);
    expect(await allBatches('locked')).toBeGreaterThan(0);
    await expectOneLog();
    await expectRecorded(receipts);
    await expect(booking.disclosureRegister.verify()).resolves.toMatchObject({ result: 'valid' });
  });

  it('decides on the recipient as it is now, though another instance changed it since this one last read it', async () => {
    // Both instances append for cherry, and so remember its version. Then a new version
    // committed elsewhere (here by SQL, as another instance's change would be) makes cherry
    // inactive: a disclosure to it must be denied (POL-2), by whichever instance takes it, and
    // recorded against the new version.
    const [handledByA, handledByB] = [await handled(a), await handled(b)];
    for (let n = 900; (await handled(a)) === handledByA || (await handled(b)) === handledByB; n++) {
      expect(n).toBeLessThan(1000);
      await Promise.all([disclose(n), disclose(n + 1000)]);
      n++;
    }
    const { rows } = await owner.query(
      `INSERT INTO disclosure_register.recipient_versions
         (recipient_id, version, name, kind, legal_role, address, baa, allowances, active, reason, changed_by)
       SELECT recipient_id, version + 1, name, kind, legal_role, address, baa, allowances, false,
              'suspended by the test', 'test'
         FROM disclosure_register.recipient_versions WHERE recipient_id = 'cherry'
        ORDER BY version DESC LIMIT 1
       RETURNING version`,
    );
    const suspended = rows[0].version as number;
    const lockedBefore = await allBatches('locked');
    try {
      for (let n = 3000; n < 3004; n++) {
        const receipt = await disclose(n);
        expect(receipt).toMatchObject({ decision: 'DENY', reasons: ['POL-2'] });
        const { rows: leaf } = await owner.query(
          'SELECT leaf FROM disclosure_register.entries WHERE entry_id = $1',
          [receipt.entryId],
        );
        expect(JSON.parse(leaf[0].leaf as string).recipient).toEqual({
          id: 'cherry',
          version: suspended,
        });
      }
      // Its optimistic statement refused (the recipient, or the log, had changed since the
      // instance last read them), the batch was appended under the lock, on the new version.
      expect(await allBatches('locked')).toBeGreaterThan(lockedBefore);
    } finally {
      await owner.query(
        `INSERT INTO disclosure_register.recipient_versions
           (recipient_id, version, name, kind, legal_role, address, baa, allowances, active, reason, changed_by)
         SELECT recipient_id, version + 1, name, kind, legal_role, address, baa, allowances, true,
                'restored by the test', 'test'
           FROM disclosure_register.recipient_versions WHERE recipient_id = 'cherry' AND version = $1`,
        [suspended],
      );
    }
    await expectOneLog();
  });

  it('an instance killed mid-load loses no entry whose receipt was sent; retries neither lose nor duplicate', async () => {
    const receipts = new Map<number, DisclosureReceipt>();
    const failed: number[] = [];
    let next = 1000;
    const stopAt = 1400;
    const load = Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < stopAt) {
          const n = next++;
          try {
            receipts.set(n, await disclose(n, 1500));
          } catch {
            failed.push(n); // in flight at the instance that died: outcome unknown to the caller
          }
        }
      }),
    );
    // Kill one instance outright once the load is under way.
    while (receipts.size < 60) await new Promise((r) => setTimeout(r, 5));
    await a.stop('SIGKILL');
    await load;

    expect(receipts.size + failed.length).toBe(stopAt - 1000);
    // The kill did catch requests in flight (the case this test is about).
    expect(failed.length).toBeGreaterThan(0);
    await expectRecorded([...receipts.values()]);

    // Retried with the same keys against the survivor: the committed ones answer their receipt,
    // the others are recorded now; none twice.
    for (const n of failed) receipts.set(n, await disclose(n));
    const { rows } = await owner.query(
      `SELECT details->>'description' AS description, count(*)::int AS n
         FROM disclosure_register.entries
        WHERE details->>'description' LIKE $1
        GROUP BY 1 HAVING count(*) > 1`,
      [`Financing application ${run}-%`],
    );
    expect(rows).toEqual([]);
    await expectRecorded([...receipts.values()]);
    await expectOneLog();
    await expect(booking.disclosureRegister.verify()).resolves.toMatchObject({ result: 'valid' });
  }, 60_000);
});
