import {
  type DsgClient,
  ErrorCodes,
  type PurgeItem,
  type PurgeOutcome,
  PurgeWorker,
  spaEventSubject,
  type SweepReply,
} from '@dsg/contracts';
import { randomUUID } from 'node:crypto';
import { Client, type Pool } from 'pg';
import type { BookingHolder } from '../apps/reference-holder/src/booking-holder';
import { PrivateStack } from './support/private-stack';
import { refusal } from './support/refusal';
import type { ServiceProcess } from './support/service-process';
import { waitUntil } from './support/wait';

/** Short back-off so that retries and the dead letter happen within a test. */
const RETENTION_ENV = {
  SWEEP_EVERY_MS: '0',
  PURGE_RETRY_BASE_MS: '400',
  PURGE_RETRY_MAX_MS: '800',
  PURGE_RETRY_CHECK_MS: '100',
  PURGE_MAX_ATTEMPTS: '3',
};

/**
 * Sweeps and purge commands (issue 7, items 4 and 7), end to end: holdings declared by the
 * reference holder (the demo booking system) and by clients standing in for other systems; a
 * sweep issues what is due over JetStream; holders confirm, execute and acknowledge. A sweep
 * purges everything due on its database, so this suite has a database and a prefix of its own.
 */
describe('retention: sweeps and purge commands', () => {
  const run = Date.now().toString(36);
  let stack: PrivateStack;
  let retention: ServiceProcess;
  let booking: DsgClient;
  let billing: DsgClient;
  let crm: DsgClient;
  let ops: DsgClient;
  let pool: Pool;
  let holder: BookingHolder;

  const asOperator = () => stack.as(['operator'], 'retention');
  const items = async (clientIds: string[]) =>
    (
      await stack.db.query(
        `SELECT id, system, client_id, category, state, attempts, detail, held_by, sweep_id
           FROM retention.purge_items WHERE client_id = ANY($1) ORDER BY client_id, category`,
        [clientIds],
      )
    ).rows as {
      id: string;
      system: string;
      client_id: string;
      category: string;
      state: string;
      attempts: number;
      detail: string | null;
      held_by: string[] | null;
      sweep_id: string;
    }[];
  const sweep = async (): Promise<SweepReply> => {
    const started = await ops.retention.sweepRun({}, await asOperator());
    expect(started.state).toBe('running');
    let done: SweepReply | undefined;
    await waitUntil(async () => {
      const { sweeps } = await ops.retention.sweepList({}, await asOperator());
      done = sweeps.find((s) => s.sweepId === started.sweepId && s.state !== 'running');
      return !!done;
    }, 30_000);
    expect(done?.state).toBe('completed');
    return done!;
  };
  const appointments = async (clientId: string) =>
    (
      await pool.query(
        'SELECT name, notes FROM reference_holder.appointments WHERE client_id = $1',
        [clientId],
      )
    ).rows as { name: string | null; notes: string | null }[];

  beforeAll(async () => {
    stack = await PrivateStack.create('purge', [
      'gateway',
      'consent',
      'disclosure-register',
      'retention',
    ]);
    await stack.start('gateway');
    await stack.start('consent');
    retention = await stack.start('retention', RETENTION_ENV);
    booking = await stack.client('booking');
    billing = await stack.client('billing');
    crm = await stack.client('crm');
    ops = await stack.client('gateway');
    ({ holder, pool } = await stack.referenceHolder(booking));
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('a sweep purges what is due through the reference holder and records every acknowledgement (RET-1)', async () => {
    const due = `due-${run}`;
    const recent = `recent-${run}`;
    await holder.book([
      { clientId: due, startsAt: '2015-04-01T10:00:00Z', name: 'A', phone: '1', notes: 'n' },
      { clientId: recent, startsAt: '2026-06-01T10:00:00Z', name: 'B', phone: '2' },
    ]);
    await holder.declare([due, recent]);

    const done = await sweep();
    expect(done.issued).toBe(2); // the due client's identifiers and consultation notes
    expect(await waitUntil(async () => (await items([due])).every((i) => i.state === 'done'))).toBe(
      true,
    );
    const settled = await items([due, recent]);
    expect(settled.map((i) => [i.category, i.state, i.detail])).toEqual([
      ['health.consultation-notes', 'done', 'notes removed from 1 appointments'],
      ['identifiers', 'done', 'deleted 1 appointments'],
    ]);
    // RET-1: seven years after the last encounter; the recent client's data is untouched.
    expect(await appointments(due)).toEqual([]);
    expect(await appointments(recent)).toHaveLength(1);
    const held = await stack.db.query(
      'SELECT category FROM retention.holdings WHERE client_id = ANY($1) ORDER BY client_id, category',
      [[due, recent]],
    );
    expect(held.rows).toEqual([{ category: 'identifiers' }]); // only the recent client's
    // The command went out through the outbox, on the holder's subject; each item's end is an event.
    const events = await stack.db.query(
      `SELECT subject, type FROM retention.outbox
        WHERE type IN ('purge.requested', 'purge.acknowledged') ORDER BY created_at`,
    );
    expect(events.rows).toEqual(
      expect.arrayContaining([
        { subject: 'retention.purges.booking', type: 'purge.requested' },
        { subject: 'retention.events.purge.acknowledged.v1', type: 'purge.acknowledged' },
      ]),
    );

    // Done is done: a second sweep finds nothing of it to issue.
    expect((await sweep()).issued).toBe(0);
  });

  it("a minor's record follows the later of its two clocks, and a corrected date of birth dates it again (RET-1, KID-3)", async () => {
    const adult = `adult-${run}`;
    const minor = `minor-${run}`;
    await holder.book([
      {
        clientId: adult,
        startsAt: '2016-01-10T10:00:00Z',
        name: 'C',
        phone: '3',
        dateOfBirth: '1990-01-01',
      },
      {
        clientId: minor,
        startsAt: '2016-01-10T10:00:00Z',
        name: 'D',
        phone: '4',
        dateOfBirth: '2012-01-01',
      },
    ]);
    await holder.declare([adult, minor]);
    await sweep();
    expect(
      await waitUntil(async () => (await items([adult])).every((i) => i.state === 'done')),
    ).toBe(true);
    expect((await items([minor])).length).toBe(0); // due on 2031-01-01, not in 2023
    expect(await appointments(minor)).toHaveLength(1);

    // The spa's systems correct the date of birth (client.updated): the holding is dated again
    // (KID-3) and, an adult's now, swept.
    const id = randomUUID();
    await booking.connection.jetstream().publish(
      `${stack.prefix}.${spaEventSubject('client.updated', 1)}`,
      JSON.stringify({
        id,
        type: 'client.updated',
        schemaVersion: 1,
        source: 'spa',
        occurredAt: new Date().toISOString(),
        data: { clientId: minor, dateOfBirth: '1995-01-01' },
      }),
      { msgID: id },
    );
    expect(
      await waitUntil(async () => {
        const { rows } = await stack.db.query(
          "SELECT due_at FROM retention.holdings WHERE client_id = $1 AND category = 'identifiers'",
          [minor],
        );
        return rows[0]?.due_at?.toISOString() === '2023-01-10T10:00:00.000Z';
      }),
    ).toBe(true);
    await sweep();
    expect(
      await waitUntil(async () => (await items([minor])).every((i) => i.state === 'done')),
    ).toBe(true);
    expect(await appointments(minor)).toEqual([]);
  });

  it('a hold placed after a purge was issued but before it ran stops it (RET-6)', async () => {
    const subject = `hold-${run}`;
    await holder.stop();
    let restarted = false;
    try {
      await holder.book([
        { clientId: subject, startsAt: '2014-02-02T10:00:00Z', name: 'E', phone: '5' },
      ]);
      await holder.declare([subject]);
      await sweep();
      expect((await items([subject])).map((i) => i.state)).toEqual(['issued']);
      const hold = await ops.retention.holdPlace(
        { scope: { subjects: [subject] }, reason: 'Litigation hold: matter 2026-17 (RET-6 test)' },
        { ...(await stack.as(['privacy_officer'], 'retention')), idempotencyKey: `hold-${run}` },
      );
      await holder.start();
      restarted = true;
      expect(await waitUntil(async () => (await items([subject]))[0].state === 'held')).toBe(true);
      expect((await items([subject]))[0].held_by).toEqual([hold.holdId]);
      expect(await appointments(subject)).toHaveLength(1);
      // While the hold is in force a sweep counts the holding as held and issues nothing.
      const next = await sweep();
      expect(next.held).toBeGreaterThanOrEqual(1);
      expect(await items([subject])).toHaveLength(1);
    } finally {
      if (!restarted) await holder.start();
    }
  });

  it('an item that fails is retried with back-off; one never acknowledged ends in the dead letter', async () => {
    const flaky = `flaky-${run}`;
    const silent = `silent-${run}`;
    // Billing fails each item once, then succeeds; the CRM never answers at all.
    const tries = new Map<string, number>();
    const billingWorker = new PurgeWorker({
      client: billing,
      system: 'billing',
      subjectPrefix: stack.prefix,
      execute: async (list: PurgeItem[]) =>
        new Map<string, PurgeOutcome>(
          list.map((item) => {
            const n = (tries.get(item.itemId) ?? 0) + 1;
            tries.set(item.itemId, n);
            return [
              item.itemId,
              n === 1
                ? { outcome: 'failed', detail: 'billing database locked' }
                : { outcome: 'done', detail: 'card token deleted' },
            ];
          }),
        ),
    });
    await billingWorker.start();
    try {
      await billing.retention.holdingsDeclare({
        system: 'billing',
        holdings: [
          {
            clientId: flaky,
            category: 'payment.card',
            clocks: { creation: '2015-01-01T00:00:00Z' },
          },
        ],
      });
      await crm.retention.holdingsDeclare({
        system: 'crm',
        holdings: [
          {
            clientId: silent,
            category: 'website.device',
            clocks: { creation: '2025-01-01T00:00:00Z' },
          },
        ],
      });
      await sweep();
      expect(
        await waitUntil(
          async () =>
            (await items([flaky, silent])).map((i) => i.state).join() === 'done,dead-lettered',
          20_000,
        ),
      ).toBe(true);
      const [paid, dead] = await items([flaky, silent]);
      expect(paid).toMatchObject({ state: 'done', attempts: 2, detail: 'card token deleted' });
      expect(dead).toMatchObject({ system: 'crm', state: 'dead-lettered', attempts: 3 });
      expect(dead.detail).toBe('no acknowledgement (after 3 attempts)');
      // Operators see it.
      const listed = await ops.retention.purgeList(
        { state: 'dead-lettered', system: 'crm' },
        await asOperator(),
      );
      expect(listed.items.map((i) => i.itemId)).toContain(dead.id);
      const failed = await stack.db.query(
        "SELECT envelope FROM retention.outbox WHERE type = 'purge.failed'",
      );
      expect(JSON.stringify(failed.rows)).toContain(dead.id);
    } finally {
      await billingWorker.stop();
    }
  });

  it('bad input gets structured errors and changes nothing', async () => {
    const notUuid = await refusal(booking.retention.purgeConfirm({ itemIds: ['x'] }));
    expect(notUuid.code).toBe(ErrorCodes.VALIDATION_FAILED);
    expect(notUuid.fields.map((f) => f.field)).toEqual(['itemIds']);
    const [one] = (await stack.db.query('SELECT id, state FROM retention.purge_items LIMIT 1'))
      .rows as { id: string; state: string }[];
    const twice = await refusal(
      booking.retention.purgeAck({
        items: [
          { itemId: one.id, outcome: 'done', detail: 'x' },
          { itemId: one.id, outcome: 'failed', detail: 'y' },
        ],
      }),
    );
    expect(twice.code).toBe(ErrorCodes.VALIDATION_FAILED);
    const badOutcome = await refusal(
      booking.retention.purgeAck({
        items: [{ itemId: one.id, outcome: 'shredded' as 'done', detail: 'x' }],
      }),
    );
    expect(badOutcome.code).toBe(ErrorCodes.VALIDATION_FAILED);
    // Another system's item is not found for the caller.
    const [crmItem] = (
      await stack.db.query(
        "SELECT id, state FROM retention.purge_items WHERE system = 'crm' LIMIT 1",
      )
    ).rows as { id: string; state: string }[];
    const foreign = await booking.retention.purgeConfirm({ itemIds: [crmItem.id] });
    expect(foreign.items).toEqual([{ itemId: crmItem.id, proceed: false, code: 'NOT_FOUND' }]);
    const badDate = await refusal(
      ops.retention.sweepRun({ dueBy: '2026-02-30T00:00:00Z' }, await asOperator()),
    );
    expect(badDate.code).toBe(ErrorCodes.VALIDATION_FAILED);
    const forbidden = await refusal(
      ops.retention.sweepRun({}, await stack.as(['auditor'], 'retention')),
    );
    expect(forbidden.code).toBe(ErrorCodes.FORBIDDEN);
    const after = (
      await stack.db.query('SELECT state FROM retention.purge_items WHERE id = $1', [one.id])
    ).rows[0] as { state: string };
    expect(after.state).toBe(one.state);
  });

  it('a confirmation or an acknowledgement that meets a transaction settling its item answers from what that left', async () => {
    const clientId = `race-${run}`;
    const confirmItem = randomUUID();
    const ackItem = randomUUID();
    await stack.db.query(
      `INSERT INTO retention.holdings
         (system, client_id, category, clocks, through, due_at, action, rule, reason,
          policy_version)
       SELECT 'crm', $1, c, '{"lastEncounter": "2015-01-01T00:00:00Z"}', '2015-01-01',
              '2022-01-01', 'delete', 'RET-1', 'RET-1: P7Y after the last-encounter', '2026.1'
         FROM unnest(ARRAY['identifiers', 'marketing']) AS c`,
      [clientId],
    );
    // Issued an hour from their retry; the second already confirmed by its holder.
    await stack.db.query(
      `INSERT INTO retention.purge_items
         (id, system, client_id, category, action, rule, source, state, attempts, retry_at,
          confirmed_at)
       VALUES ($1, 'crm', $3, 'identifiers', 'delete', 'RET-1', 'sweep', 'issued', 1,
               now() + interval '1 hour', NULL),
              ($2, 'crm', $3, 'marketing', 'delete', 'RET-1', 'sweep', 'issued', 1,
               now() + interval '1 hour', now())`,
      [confirmItem, ackItem, clientId],
    );
    // The service's statement has read the item (open, due, confirmed) and waits for its row.
    const waiting = () =>
      waitUntil(async () => {
        const { rows } = await stack.db.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity
            WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        );
        return rows[0].n > 0;
      }, 10_000);
    const other = new Client({ connectionString: stack.databaseUrl });
    await other.connect();
    try {
      // The holder finished the first item meanwhile (as another replica recorded it) …
      await other.query('BEGIN');
      await other.query(
        `UPDATE retention.purge_items SET state = 'done', retry_at = NULL, finished_at = now(),
                detail = 'deleted elsewhere' WHERE id = $1`,
        [confirmItem],
      );
      const confirming = crm.retention.purgeConfirm({ itemIds: [confirmItem] });
      expect(await waiting()).toBe(true);
      await other.query('COMMIT');
      expect((await confirming).items).toEqual([
        { itemId: confirmItem, proceed: false, code: 'ALREADY_DONE' },
      ]);
      // … and the retry check issued the second again while its acknowledgement was on the way.
      await other.query('BEGIN');
      await other.query(
        `UPDATE retention.purge_items SET attempts = attempts + 1, confirmed_at = NULL
          WHERE id = $1`,
        [ackItem],
      );
      const acknowledging = crm.retention.purgeAck({
        items: [{ itemId: ackItem, outcome: 'done', detail: 'deleted' }],
      });
      expect(await waiting()).toBe(true);
      await other.query('COMMIT');
      expect((await acknowledging).items).toEqual([
        { itemId: ackItem, state: 'issued', code: 'NOT_CONFIRMED' },
      ]);
    } finally {
      await other.end();
    }
    // Neither answer overwrote what the other transaction left; the holding stays held.
    const settled = await items([clientId]);
    expect(settled.map((i) => [i.category, i.state, i.attempts, i.detail])).toEqual([
      ['identifiers', 'done', 1, 'deleted elsewhere'],
      ['marketing', 'issued', 2, null],
    ]);
    const held = await stack.db.query(
      'SELECT category FROM retention.holdings WHERE client_id = $1 ORDER BY category',
      [clientId],
    );
    expect(held.rows.map((r: { category: string }) => r.category)).toEqual([
      'identifiers',
      'marketing',
    ]);
  });

  it('two replicas sweeping at once issue each item once, one sweep at a time', async () => {
    const clients = Array.from({ length: 1500 }, (_, i) => `two-${run}-${i}`);
    for (let i = 0; i < clients.length; i += 1000) {
      await billing.retention.holdingsDeclare({
        system: 'billing',
        holdings: clients.slice(i, i + 1000).map((clientId) => ({
          clientId,
          category: 'payment.membership',
          clocks: { creation: '2010-01-01T00:00:00Z' },
        })),
      });
    }
    const since = new Date();
    // Each replica tries about every second (a sweep here takes a small part of that): both
    // sweep, in turn, never together. Their periods differ, so their tries drift apart: with one
    // period, a replica whose tries fell in the other's sweeps found it busy every time (seen
    // once in CI: one replica swept 31 times, the other never).
    const replicas = [
      await stack.start('retention', {
        ...RETENTION_ENV,
        SWEEP_EVERY_MS: '1000',
        SWEEP_BATCH: '100',
        // Nobody takes these commands: no item may reach its dead letter while the test runs
        // (a later sweep would rightly issue the still-due holding again, as a new item).
        PURGE_RETRY_BASE_MS: '60000',
        PURGE_RETRY_MAX_MS: '60000',
      }),
      await stack.start('retention', {
        ...RETENTION_ENV,
        SWEEP_EVERY_MS: '1370',
        SWEEP_BATCH: '100',
        // Nobody takes these commands: no item may reach its dead letter while the test runs
        // (a later sweep would rightly issue the still-due holding again, as a new item).
        PURGE_RETRY_BASE_MS: '60000',
        PURGE_RETRY_MAX_MS: '60000',
      }),
    ];
    try {
      expect(
        await waitUntil(async () => {
          const { rows } = await stack.db.query(
            `SELECT count(DISTINCT instance)::int AS instances, bool_and(state = 'completed') AS done
               FROM retention.sweeps WHERE started_at >= $1`,
            [since],
          );
          return rows[0].instances >= 2 && rows[0].done;
        }, 30_000),
      ).toBe(true);
    } finally {
      await Promise.all(replicas.map((r) => r.stop()));
    }
    const { rows } = await stack.db.query(
      `SELECT count(*)::int AS items, count(DISTINCT client_id)::int AS subjects
         FROM retention.purge_items WHERE client_id = ANY($1)`,
      [clients],
    );
    expect(rows[0]).toEqual({ items: 1500, subjects: 1500 });
    // No two sweeps overlapped in time.
    const sweeps = (
      await stack.db.query(
        `SELECT started_at, finished_at FROM retention.sweeps WHERE started_at >= $1
          ORDER BY started_at`,
        [since],
      )
    ).rows as { started_at: Date; finished_at: Date }[];
    for (let i = 1; i < sweeps.length; i++) {
      expect(sweeps[i].started_at.getTime()).toBeGreaterThanOrEqual(
        sweeps[i - 1].finished_at.getTime(),
      );
    }
  });

  it('a crash in the middle of a sweep resumes without duplicates', async () => {
    const clients = Array.from({ length: 6000 }, (_, i) => `crash-${run}-${i}`);
    for (let i = 0; i < clients.length; i += 1000) {
      await billing.retention.holdingsDeclare({
        system: 'billing',
        holdings: clients.slice(i, i + 1000).map((clientId) => ({
          clientId,
          category: 'payment.financing',
          clocks: { creation: '2011-01-01T00:00:00Z' },
        })),
      });
    }
    // One replica, sweeping small batches, killed mid-sweep.
    await retention.stop();
    const doomed = await stack.start('retention', { ...RETENTION_ENV, SWEEP_BATCH: '20' });
    const started = await ops.retention.sweepRun({}, await asOperator());
    expect(
      await waitUntil(
        async () => {
          const { rows } = await stack.db.query(
            'SELECT issued FROM retention.sweeps WHERE id = $1',
            [started.sweepId],
          );
          return rows[0].issued >= 200;
        },
        20_000,
        10,
      ),
    ).toBe(true);
    await doomed.stop('SIGKILL');
    const [cut] = (
      await stack.db.query('SELECT state, issued FROM retention.sweeps WHERE id = $1', [
        started.sweepId,
      ])
    ).rows as { state: string; issued: number }[];
    expect(cut.state).toBe('running');
    expect(cut.issued).toBeLessThan(6000);

    retention = await stack.start('retention', RETENTION_ENV);
    const resumed = await sweep();
    expect(resumed.resumes).toBe(started.sweepId);
    const { rows } = await stack.db.query(
      `SELECT count(*)::int AS items, count(DISTINCT client_id)::int AS subjects
         FROM retention.purge_items WHERE client_id = ANY($1)`,
      [clients],
    );
    expect(rows[0]).toEqual({ items: 6000, subjects: 6000 });
    const interrupted = await stack.db.query('SELECT state FROM retention.sweeps WHERE id = $1', [
      started.sweepId,
    ]);
    expect(interrupted.rows[0].state).toBe('interrupted');
  });
});
