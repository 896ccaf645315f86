import { type DisclosureReceipt, type DsgClient, verifyConsistency } from '@dsg/contracts';
import { Client } from 'pg';
import { connectClient } from './support/clients';
import { e2eEnv } from './support/e2e-env';
import { ServiceProcess } from './support/service-process';
import { waitUntil } from './support/wait';

/**
 * Sealing a tree head does not hold up appends: a seal takes a lock of its own, not the log's
 * append lock, so an optimistic append (which never waits for that lock) does not fail because a
 * seal holds it and fall back to the slower locked path. Under load that was one batch in fifty.
 */
describe('disclosure register: sealing beside appends', () => {
  const run = Date.now().toString(36);
  const clientId = `seal-${run}`;
  let consent: ServiceProcess;
  let register: ServiceProcess;
  let booking: DsgClient;
  let owner: Client;

  const disclose = (n: number) =>
    booking.disclosureRegister.disclose(
      {
        clientId,
        recipientId: 'cherry',
        purpose: 'payments-and-memberships',
        legalBasis: 'payment',
        categories: ['identifiers.name', 'payment.financing'],
        description: `Financing application ${run}-${n}`,
      },
      { idempotencyKey: `${run}-${n}`, retries: 0, timeoutMs: 5000 },
    );

  /** The size of the newest sealed tree head. */
  const sealedSize = async () =>
    Number(
      (
        await owner.query(
          'SELECT coalesce(max(tree_size), 0) AS n FROM disclosure_register.tree_heads',
        )
      ).rows[0].n,
    );
  /** A connection holding one of the register's advisory locks until `release()`. */
  const hold = async (lock: 'dsg-register-seal' | 'dsg-register-append') => {
    const c = new Client({ connectionString: e2eEnv().databaseUrl });
    await c.connect();
    await c.query('BEGIN');
    await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [lock]);
    return {
      release: async () => {
        await c.query('COMMIT');
        await c.end();
      },
    };
  };

  beforeAll(async () => {
    // Heads sealed by the timer, every 100 ms, of at most four entries more than the one before;
    // the log verified on its own every 300 ms.
    const env = { SEAL_EVERY_MS: '100', SEAL_MAX_ENTRIES: '4', VERIFY_EVERY_MS: '300' };
    [consent, register] = await Promise.all([
      ServiceProcess.start('consent'),
      ServiceProcess.start('disclosure-register', env),
    ]);
    await Promise.all([consent.waitReady(), register.waitReady()]);
    booking = await connectClient('booking');
    owner = new Client({ connectionString: e2eEnv().databaseUrl });
    await owner.connect();
    await booking.consent.subjectUpsert({ clientId, dateOfBirth: '1981-03-03' });
  }, 60_000);

  afterAll(async () => {
    await booking?.close();
    await owner?.end();
    await Promise.all([register, consent].map((p) => p?.stop()));
  });

  it('seals under a lock of its own, and not the append lock (appends are not held up by a seal)', async () => {
    // While the seal lock is held elsewhere (another instance sealing), nothing is sealed, and
    // appends go on.
    const sealLock = await hold('dsg-register-seal');
    let appendLock: Awaited<ReturnType<typeof hold>> | undefined;
    try {
      const before = await sealedSize();
      const receipts: DisclosureReceipt[] = [];
      for (let n = 0; n < 5; n++) receipts.push(await disclose(n));
      const end = Math.max(...receipts.map((r) => r.position)) + 1;
      await new Promise((r) => setTimeout(r, 500)); // five seal intervals
      expect(await sealedSize()).toBe(before);
      // With the append lock held (an append committing), a seal goes through all the same.
      appendLock = await hold('dsg-register-append');
      await sealLock.release();
      await waitUntil(async () => (await sealedSize()) >= end, 5000);
      expect(await sealedSize()).toBeGreaterThanOrEqual(end);
    } finally {
      await sealLock.release().catch(() => undefined);
      await appendLock?.release();
    }
    await expect(disclose(5)).resolves.toMatchObject({ decision: 'ALLOW' });
    await expect(booking.disclosureRegister.verify()).resolves.toMatchObject({ result: 'valid' });
  }, 30_000);

  it('seals a backlog as a run of heads of at most SEAL_MAX_ENTRIES entries, each extending the one before', async () => {
    const entries = async () =>
      Number(
        (await owner.query('SELECT count(*) AS n FROM disclosure_register.entries')).rows[0].n,
      );
    // Everything before this test sealed first, then a backlog of ten entries held back.
    await waitUntil(async () => (await sealedSize()) >= (await entries()), 5000);
    const before = await sealedSize();
    expect(before).toBe(await entries());
    const sealLock = await hold('dsg-register-seal');
    let end: number;
    try {
      const receipts: DisclosureReceipt[] = [];
      for (let n = 0; n < 10; n++) receipts.push(await disclose(100 + n));
      end = Math.max(...receipts.map((r) => r.position)) + 1;
      expect(end).toBe(before + 10);
    } finally {
      await sealLock.release();
    }
    await waitUntil(async () => (await sealedSize()) >= end, 5000);
    const { rows } = await owner.query(
      'SELECT tree_size FROM disclosure_register.tree_heads WHERE tree_size > $1 ORDER BY tree_size',
      [before],
    );
    expect(rows.map((r) => Number(r.tree_size))).toEqual([before + 4, before + 8, before + 10]);
    // Each head is a prefix of the next, as a copy that holds only the heads can check.
    const hex = (h: string) => Buffer.from(h, 'hex');
    const sizes = [before, before + 4, before + 8, before + 10].filter((s) => s > 0);
    for (let i = 1; i < sizes.length; i++) {
      const proof = await booking.disclosureRegister.consistencyProof({
        fromSize: sizes[i - 1],
        toSize: sizes[i],
      });
      expect(
        verifyConsistency(
          sizes[i - 1],
          sizes[i],
          hex(proof.from.rootHash),
          hex(proof.to.rootHash),
          proof.proof.map(hex),
        ),
      ).toBe(true);
    }
    await expect(booking.disclosureRegister.verify()).resolves.toMatchObject({ result: 'valid' });
  }, 30_000);

  it('verifies the log on its own every VERIFY_EVERY_MS and tells operators of a mismatch, in its metrics and its log', async () => {
    const metric = async (name: string) => {
      const text = await (await fetch(register.url('/metrics'))).text();
      const found = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
      return found ? Number(found[1]) : undefined;
    };
    await disclose(200);
    // Nobody asks: the register verifies its log all the same.
    const since = Date.now() / 1000;
    expect(
      await waitUntil(
        async () => ((await metric('dsg_register_verify_last_run_timestamp_seconds')) ?? 0) > since,
      ),
    ).toBe(true);
    expect(await metric('dsg_register_verify_valid')).toBe(1);
    expect(await metric('dsg_register_verify_entries')).toBeGreaterThan(0);

    // A superuser changes one byte of an entry: a run that starts after it says so.
    const victim = (
      await owner.query(
        'SELECT position, leaf FROM disclosure_register.entries ORDER BY position LIMIT 1',
      )
    ).rows[0] as { position: string; leaf: string };
    const changed = Date.now() / 1000;
    await owner.query('UPDATE disclosure_register.entries SET leaf = $2 WHERE position = $1', [
      victim.position,
      victim.leaf.replace('"v":1', '"v":2'),
    ]);
    try {
      expect(
        await waitUntil(
          async () =>
            ((await metric('dsg_register_verify_last_run_timestamp_seconds')) ?? 0) > changed &&
            (await metric('dsg_register_verify_valid')) === 0,
        ),
      ).toBe(true);
      const alarm = register.lines.find((l) => l.includes('register verify found the log'));
      expect(alarm).toContain(`"firstBadPosition":${Number(victim.position)}`);
      expect(alarm).toContain('"level":"error"');
    } finally {
      await owner.query('UPDATE disclosure_register.entries SET leaf = $2 WHERE position = $1', [
        victim.position,
        victim.leaf,
      ]);
    }
    expect(await waitUntil(async () => (await metric('dsg_register_verify_valid')) === 1)).toBe(
      true,
    );
  }, 30_000);
});
