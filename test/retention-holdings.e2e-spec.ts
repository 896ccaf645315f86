import { type DsgClient, type DueCursor, ErrorCodes, type Role } from '@dsg/contracts';
import { DEVELOPMENT_SIGNING_KEY_SECRET, KeyRing, signAssertion } from '@dsg/platform';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { connectClient } from './support/clients';
import { e2eEnv, runtimeDataSource } from './support/e2e-env';
import { refusal } from './support/refusal';
import { ServiceProcess } from './support/service-process';

/**
 * Holdings and their due dates (issue 7, RET-1 to RET-5), through the retention service's public
 * NATS API: a holding system declares what it holds; operators read what is due.
 */
describe('retention: holdings and their due dates', () => {
  const run = Date.now().toString(36);
  const adult = `ret-a-${run}`;
  const minor = `ret-m-${run}`;
  let processes: ServiceProcess[];
  let booking: DsgClient;
  let crm: DsgClient;
  let asGateway: DsgClient;
  let owner: Client;
  let gatewayDb: DataSource;
  let gatewayRing: KeyRing;

  const as = (roles: Role[]) => ({
    assertion: signAssertion(gatewayRing, { subject: 'operator-1', roles }, 'retention', 60),
    retries: 0,
  });
  const rows = async (clientId: string) =>
    (
      await owner.query(
        'SELECT category, due_at FROM retention.holdings WHERE client_id = $1 ORDER BY category',
        [clientId],
      )
    ).rows as { category: string; due_at: Date | null }[];

  beforeAll(async () => {
    processes = [
      await ServiceProcess.start('gateway'),
      await ServiceProcess.start('consent'),
      await ServiceProcess.start('retention'),
    ];
    await Promise.all(processes.map((p) => p.waitReady()));
    booking = await connectClient('booking');
    crm = await connectClient('crm');
    asGateway = await connectClient('gateway');
    owner = new Client({ connectionString: e2eEnv().databaseUrl });
    await owner.connect();
    gatewayDb = await runtimeDataSource('gateway', 1).initialize();
    gatewayRing = new KeyRing(gatewayDb, 'gateway', 'gateway', DEVELOPMENT_SIGNING_KEY_SECRET);
    await gatewayRing.reload();
  }, 90_000);

  afterAll(async () => {
    await booking?.close();
    await crm?.close();
    await asGateway?.close();
    await owner?.end();
    await gatewayDb?.destroy();
    await Promise.all((processes ?? []).map((p) => p.stop()));
  });

  it('dates each holding by its rule, its clock and, for a minor, the later of two clocks (RET-1, RET-4, RET-5)', async () => {
    const { holdings } = await booking.retention.holdingsDeclare({
      system: 'booking',
      holdings: [
        {
          clientId: adult,
          category: 'health.history',
          clocks: { lastEncounter: '2020-03-01T10:00:00Z' },
          dateOfBirth: '1980-01-01',
        },
        {
          clientId: minor,
          category: 'health.history',
          clocks: { lastEncounter: '2020-03-01T10:00:00Z' },
          dateOfBirth: '2012-06-15',
        },
        { clientId: adult, category: 'payment.card', clocks: { creation: '2026-01-31T00:00:00Z' } },
        {
          clientId: adult,
          category: 'website.device',
          clocks: { creation: '2026-01-01T00:00:00Z' },
        },
        { clientId: adult, category: 'website', clocks: { creation: '2026-01-01T00:00:00Z' } },
      ],
    });
    expect(holdings[0]).toMatchObject({
      rule: 'RET-1',
      action: 'delete',
      dueAt: '2027-03-01T10:00:00.000Z',
      policyVersion: expect.any(String),
    });
    // RET-1: a minor's record is kept to the 19th birthday when that comes later.
    expect(holdings[1]).toMatchObject({ rule: 'RET-1', dueAt: '2031-06-15T00:00:00.000Z' });
    expect(holdings[1].reason).toContain('19th birthday');
    expect(holdings[2]).toMatchObject({ rule: 'RET-4', dueAt: '2033-01-31T00:00:00.000Z' });
    expect(holdings[3]).toMatchObject({ rule: 'RET-5', dueAt: '2026-04-01T00:00:00.000Z' });
    // No stated period for the category as a whole: said, not guessed (RET-5).
    expect(holdings[4]).toMatchObject({ rule: 'RET-5' });
    expect(holdings[4].dueAt).toBeUndefined();
    expect((await rows(adult)).map((r) => r.category)).toEqual([
      'health.history',
      'payment.card',
      'website',
      'website.device',
    ]);

    // Declared again with a later encounter: the row is replaced, the date moves.
    const again = await booking.retention.holdingsDeclare({
      system: 'booking',
      holdings: [
        {
          clientId: adult,
          category: 'health.history',
          clocks: { lastEncounter: '2022-05-01T10:00:00Z' },
        },
      ],
    });
    expect(again.holdings[0].dueAt).toBe('2029-05-01T10:00:00.000Z');
    expect((await rows(adult)).find((r) => r.category === 'health.history')?.due_at).toEqual(
      new Date('2029-05-01T10:00:00Z'),
    );
  });

  it('lists what is due, soonest first, a page at a time', async () => {
    const clientIds = [0, 1, 2].map((i) => `ret-due-${i}-${run}`);
    await booking.retention.holdingsDeclare({
      system: 'booking',
      holdings: clientIds.map((clientId, i) => ({
        clientId,
        category: 'website.browsing',
        clocks: { creation: `2025-0${i + 1}-01T00:00:00Z` },
      })),
    });
    const seen: string[] = [];
    let after: DueCursor | undefined;
    let pages = 0;
    do {
      const page = await asGateway.retention.holdingsDue(
        {
          system: 'booking',
          before: '2025-12-31T00:00:00Z',
          limit: 1,
          ...(after ? { after } : {}),
        },
        as(['operator']),
      );
      pages++;
      seen.push(...page.holdings.map((h) => h.clientId));
      after = page.next;
    } while (after && pages < 50);
    expect(seen.filter((c) => clientIds.includes(c))).toEqual(clientIds);
    const service = await refusal(booking.retention.holdingsDue({}, { retries: 0 }));
    expect(service.code).toBe(ErrorCodes.UNAUTHENTICATED);
  });

  it('lets a system declare only its own holdings, and refuses bad input by field, writing nothing', async () => {
    const other = await refusal(
      crm.retention.holdingsDeclare(
        {
          system: 'booking',
          holdings: [{ clientId: adult, category: 'health', clocks: {} }],
        },
        { retries: 0 },
      ),
    );
    expect(other.code).toBe(ErrorCodes.FORBIDDEN);
    const subject = `ret-bad-${run}`;
    const bad = await refusal(
      booking.retention.holdingsDeclare(
        {
          system: 'booking',
          holdings: [
            {
              clientId: subject,
              category: 'health',
              clocks: { lastEncounter: '2026-02-30T00:00:00Z' },
            },
            { clientId: subject, category: 'shoe-size', clocks: {} },
            { clientId: subject, category: 'identifiers', clocks: {}, dateOfBirth: '2010-13-01' },
          ],
        },
        { retries: 0 },
      ),
    );
    expect(bad.code).toBe(ErrorCodes.VALIDATION_FAILED);
    expect(bad.fields.map((f) => f.field).sort()).toEqual([
      'holdings[0].clocks.lastEncounter',
      'holdings[1].category',
      'holdings[2].dateOfBirth',
    ]);
    expect(await rows(subject)).toEqual([]);
    const shape = await refusal(
      booking.retention.holdingsDeclare({ system: 'fax', holdings: [] } as never, { retries: 0 }),
    );
    expect(shape.fields.map((f) => f.field).sort()).toEqual(['holdings', 'system']);
  });

  it('stops what a legal hold covers until it is released, and audits both (RET-6)', async () => {
    const held = `ret-hold-${run}`;
    const free = `ret-free-${run}`;
    await booking.retention.holdingsDeclare({
      system: 'booking',
      holdings: [held, free].map((clientId) => ({
        clientId,
        category: 'website.device',
        clocks: { creation: '2026-01-01T00:00:00Z' },
      })),
    });
    const officer = (idempotencyKey: string) => ({
      ...as(['privacy_officer']),
      idempotencyKey,
    });
    const due = async () =>
      (
        await asGateway.retention.holdingsDue({ system: 'booking', limit: 1000 }, as(['operator']))
      ).holdings.filter((h) => h.clientId === held || h.clientId === free);

    // A broader category covers the holding; the period covers its creation date.
    const hold = await asGateway.retention.holdPlace(
      {
        scope: {
          subjects: [held],
          categories: ['website'],
          from: '2025-12-01T00:00:00Z',
          to: '2026-02-01T00:00:00Z',
        },
        reason: 'Litigation hold: Doe v. Spa, preserve website records',
      },
      officer(`hold-${run}`),
    );
    expect(hold).toMatchObject({ state: 'active', placedBy: 'operator-1' });
    const replay = await asGateway.retention.holdPlace(
      {
        scope: {
          subjects: [held],
          categories: ['website'],
          from: '2025-12-01T00:00:00Z',
          to: '2026-02-01T00:00:00Z',
        },
        reason: 'Litigation hold: Doe v. Spa, preserve website records',
      },
      officer(`hold-${run}`),
    );
    expect(replay.holdId).toBe(hold.holdId);
    // Outside the period: no cover.
    const later = await asGateway.retention.holdPlace(
      {
        scope: { subjects: [free], from: '2026-06-01T00:00:00Z' },
        reason: 'Only what was collected after June is relevant',
      },
      officer(`hold-later-${run}`),
    );
    const before = await due();
    expect(before.find((h) => h.clientId === held)?.heldBy).toEqual([hold.holdId]);
    expect(before.find((h) => h.clientId === free)?.heldBy).toBeUndefined();

    const released = await asGateway.retention.holdRelease(
      { holdId: hold.holdId, reason: 'The matter settled; counsel released the hold' },
      as(['privacy_officer']),
    );
    expect(released.state).toBe('released');
    expect(released.history.map((h) => [h.action, h.by])).toEqual([
      ['placed', 'operator-1'],
      ['released', 'operator-1'],
    ]);
    expect((await due()).find((h) => h.clientId === held)?.heldBy).toBeUndefined();
    const twice = await refusal(
      asGateway.retention.holdRelease(
        { holdId: hold.holdId, reason: 'Released a second time by mistake' },
        as(['privacy_officer']),
      ),
    );
    expect(twice.code).toBe(ErrorCodes.INVALID_STATE);
    const active = await asGateway.retention.holdList({ activeOnly: true }, as(['auditor']));
    expect(active.holds.map((h) => h.holdId)).toContain(later.holdId);
    expect(active.holds.map((h) => h.holdId)).not.toContain(hold.holdId);

    // Each step announced through the outbox.
    const { rows: events } = await owner.query(
      `SELECT envelope ->> 'type' AS type FROM retention.outbox
        WHERE envelope -> 'data' ->> 'holdId' = $1 ORDER BY seq`,
      [hold.holdId],
    );
    expect(events.map((e) => e.type)).toEqual(['legal-hold.placed', 'legal-hold.released']);
  });

  it('lets only privacy officers place holds, and refuses a hold that names nothing or unknown categories', async () => {
    const auditor = await refusal(
      asGateway.retention.holdPlace(
        { scope: { subjects: [adult] }, reason: 'An auditor should not be able to do this' },
        { ...as(['auditor']), idempotencyKey: `hold-aud-${run}` },
      ),
    );
    expect(auditor.code).toBe(ErrorCodes.FORBIDDEN);
    const nothing = await refusal(
      asGateway.retention.holdPlace(
        { scope: {}, reason: 'A hold on nothing in particular' },
        { ...as(['privacy_officer']), idempotencyKey: `hold-none-${run}` },
      ),
    );
    expect(nothing.fields).toEqual([expect.objectContaining({ field: 'scope' })]);
    const unknown = await refusal(
      asGateway.retention.holdPlace(
        {
          scope: { categories: ['shoe-size'], from: '2026-02-30T00:00:00Z' },
          reason: 'A hold on a category the policy does not know',
        },
        { ...as(['privacy_officer']), idempotencyKey: `hold-unknown-${run}` },
      ),
    );
    expect(unknown.fields.map((f) => f.field).sort()).toEqual(['scope.categories', 'scope.from']);
    const { rows } = await owner.query(
      "SELECT count(*)::int AS n FROM retention.legal_holds WHERE reason LIKE 'A hold on%'",
    );
    expect(rows[0].n).toBe(0);
  });
});
