import { DsgClient, type DsgError, ErrorCodes, type RecordConsentRequest } from '@dsg/contracts';
import { Client } from 'pg';
import { e2eEnv, runtimeDataSource, sqlErrorCode } from './support/e2e-env';
import { natsPassword } from './support/nats-users';
import { ServiceProcess } from './support/service-process';

describe('consent: the append-only consent ledger', () => {
  const env = e2eEnv();
  const clientId = `ledger-${Date.now().toString(36)}`;
  let consent: ServiceProcess;
  let booking: DsgClient;
  let retention: DsgClient;
  let owner: Client;
  const fail = (p: Promise<unknown>) =>
    p.then(
      () => undefined,
      (e: unknown) => e as DsgError,
    );
  const connect = (caller: string) =>
    DsgClient.connect({
      caller,
      password: natsPassword(caller),
      natsUrl: env.natsUrl,
      subjectPrefix: env.subjectPrefix,
    });
  const entry = (change: Partial<RecordConsentRequest> = {}): RecordConsentRequest => ({
    clientId,
    kind: 'grant',
    scopeType: 'purpose',
    scope: 'offers-and-marketing',
    method: 'web-form',
    actor: 'self',
    policyVersion: '2026.1',
    evidence: { formId: 'f-1', signature: 'sig-ref-9' },
    ...change,
  });

  beforeAll(async () => {
    consent = await ServiceProcess.start('consent', { LOG_LEVEL: 'trace' });
    await consent.waitReady();
    booking = await connect('booking');
    retention = await connect('retention');
    owner = new Client({ connectionString: env.databaseUrl });
    await owner.connect();
    await booking.consent.subjectUpsert({ clientId, dateOfBirth: '1990-05-05' });
  }, 60_000);

  afterAll(async () => {
    await booking?.close();
    await retention?.close();
    await owner?.end();
    await consent?.stop();
  });

  it('appends entries with method, actor, policy version and evidence; the latest decides the state', async () => {
    const granted = await booking.consent.ledgerRecord(entry());
    expect(granted).toMatchObject({
      clientId,
      kind: 'grant',
      policyVersion: '2026.1',
      redacted: false,
    });
    await booking.consent.ledgerRecord(
      entry({ kind: 'opt-out', method: 'phone', actor: 'staff', actorRef: 'staff-12' }),
    );
    const history = await booking.consent.ledgerHistory({ clientId });
    expect(history.events.map((e) => e.kind)).toEqual(['grant', 'opt-out']);
    const state = await booking.consent.ledgerState({ clientId });
    expect(state.states).toEqual([
      expect.objectContaining({
        scopeType: 'purpose',
        scope: 'offers-and-marketing',
        kind: 'opt-out',
      }),
    ]);
    const { rows } = await owner.query(
      `SELECT count(*)::int AS n FROM consent.outbox WHERE type = 'consent.changed' AND envelope->'data'->>'clientId' = $1`,
      [clientId],
    );
    expect(rows[0].n).toBe(2);
    expect(consent.lines.filter((l) => l.includes('sig-ref-9'))).toEqual([]);
  });

  it('a retry with the same Idempotency-Key returns the same entry; another request under it is refused', async () => {
    const first = await booking.consent.ledgerRecord(
      entry({ scope: 'internal-analytics', kind: 'opt-out' }),
      { idempotencyKey: `k-${clientId}` },
    );
    const again = await booking.consent.ledgerRecord(
      entry({ scope: 'internal-analytics', kind: 'opt-out' }),
      { idempotencyKey: `k-${clientId}` },
    );
    expect(again.eventId).toBe(first.eventId);
    const conflict = await fail(
      booking.consent.ledgerRecord(entry({ scope: 'internal-analytics', kind: 'opt-in' }), {
        idempotencyKey: `k-${clientId}`,
      }),
    );
    expect(conflict?.code).toBe(ErrorCodes.IDEMPOTENCY_CONFLICT);
    const { rows } = await owner.query(
      `SELECT count(*)::int AS n FROM consent.ledger WHERE client_id = $1 AND scope = 'internal-analytics'`,
      [clientId],
    );
    expect(rows[0].n).toBe(1);
  });

  it('refuses what the policy does not name, or a subject it does not know, and writes nothing', async () => {
    const before = (await booking.consent.ledgerHistory({ clientId })).events.length;
    expect(await fail(booking.consent.ledgerRecord(entry({ scope: 'astrology' })))).toMatchObject({
      code: ErrorCodes.VALIDATION_FAILED,
      fields: [expect.objectContaining({ field: 'scope' })],
    });
    expect(
      await fail(
        booking.consent.ledgerRecord(entry({ scopeType: 'category', scope: 'health.genome' })),
      ),
    ).toMatchObject({
      code: ErrorCodes.VALIDATION_FAILED,
    });
    expect(
      await fail(booking.consent.ledgerRecord(entry({ policyVersion: '1999.1' }))),
    ).toMatchObject({
      fields: [expect.objectContaining({ field: 'policyVersion' })],
    });
    expect(
      (await fail(booking.consent.ledgerRecord(entry({ clientId: 'nobody-here' }))))?.code,
    ).toBe(ErrorCodes.NOT_FOUND);
    expect(
      (
        await fail(
          booking.consent.ledgerRecord({ ...entry(), kind: 'maybe' } as never, { retries: 0 }),
        )
      )?.fields?.[0].field,
    ).toBe('kind');
    expect((await booking.consent.ledgerHistory({ clientId })).events).toHaveLength(before);
    await expect(
      booking.consent.ledgerRecord(
        entry({ scopeType: 'category', scope: 'health.medications', kind: 'withdraw' }),
      ),
    ).resolves.toMatchObject({
      scope: 'health.medications',
    });
  });

  it('the runtime role cannot UPDATE or DELETE ledger entries', async () => {
    const runtime = await runtimeDataSource('consent', 1).initialize();
    try {
      const code = (sql: string) => sqlErrorCode(runtime, sql);
      await expect(code(`UPDATE consent.ledger SET kind = 'grant'`)).resolves.toBe('42501');
      await expect(code(`UPDATE consent.ledger SET evidence = NULL`)).resolves.toBe('42501');
      await expect(code(`DELETE FROM consent.ledger`)).resolves.toBe('42501');
    } finally {
      await runtime.destroy();
    }
  });

  it('the redaction path removes personal details, keeps the entries, and leaves an audited trace', async () => {
    expect(
      (await fail(booking.consent.ledgerRedact({ clientId, reason: 'CCP-4 deletion' })))?.code,
    ).toBe(ErrorCodes.FORBIDDEN);
    const entries = (await booking.consent.ledgerHistory({ clientId })).events.length;
    await expect(
      retention.consent.ledgerRedact({ clientId, reason: 'CCP-4 deletion request r-7' }),
    ).resolves.toEqual({
      clientId,
      redactedEntries: entries,
    });
    const history = await booking.consent.ledgerHistory({ clientId });
    expect(history.events).toHaveLength(entries);
    for (const event of history.events)
      expect(event).toMatchObject({ evidence: null, redacted: true });
    const { rows } = await owner.query(
      'SELECT reason, requested_by, entries FROM consent.ledger_redactions WHERE client_id = $1',
      [clientId],
    );
    expect(rows).toEqual([
      { reason: 'CCP-4 deletion request r-7', requested_by: 'retention', entries },
    ]);
    // The state derived from the ledger is unchanged by redaction.
    expect((await booking.consent.ledgerState({ clientId })).states.length).toBeGreaterThan(0);
  });
});
