import { type DsgClient, ErrorCodes } from '@dsg/contracts';
import { Client } from 'pg';
import { connectClient } from './support/clients';
import { e2eEnv } from './support/e2e-env';
import { refusal } from './support/refusal';
import { ServiceProcess } from './support/service-process';

/** Connects as the consent service's runtime role, exactly as the service does. */
async function runtimeRole(): Promise<Client> {
  const url = new URL(e2eEnv().databaseUrl);
  url.username = 'consent_runtime';
  url.password = '';
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  return client;
}

/**
 * The rights-request log (CCP-7): each request's date, right, channel and requester, then its
 * answer, once; kept 24 months and deleted only through the retention service's path (RET-3).
 */
describe('consent: the rights-request log (CCP-7, RET-3)', () => {
  const run = Date.now().toString(36);
  let consent: ServiceProcess;
  let desk: DsgClient;
  let retention: DsgClient;
  let owner: Client;

  beforeAll(async () => {
    consent = await ServiceProcess.start('consent');
    await consent.waitReady();
    desk = await connectClient('booking');
    retention = await connectClient('retention');
    owner = new Client({ connectionString: e2eEnv().databaseUrl });
    await owner.connect();
  }, 60_000);

  afterAll(async () => {
    await desk?.close();
    await retention?.close();
    await owner?.end();
    await consent?.stop();
  });

  it('logs a request with its date, right, channel and requester, and its answer once (CCP-7)', async () => {
    const clientId = `log-${run}`;
    const request = {
      clientId,
      right: 'delete',
      channel: 'web-form',
      requester: 'subject',
      receivedAt: '2026-11-02T17:00:00Z',
    } as const;
    const received = await desk.consent.requestRecord(request, { idempotencyKey: `log-${run}` });
    expect(received).toEqual({
      requestId: expect.any(String),
      clientId,
      right: 'delete',
      channel: 'web-form',
      requester: 'subject',
      receivedAt: '2026-11-02T17:00:00.000Z',
    });
    // A retry with the same key returns the entry; the key with another request is refused.
    await expect(
      desk.consent.requestRecord(request, { idempotencyKey: `log-${run}` }),
    ).resolves.toEqual(received);
    const reused = await refusal(
      desk.consent.requestRecord(
        { clientId, right: 'know', channel: 'web-form', requester: 'subject' },
        { idempotencyKey: `log-${run}` },
      ),
    );
    expect(reused.code).toBe(ErrorCodes.IDEMPOTENCY_CONFLICT);

    const denied = await desk.consent.requestAnswer({
      requestId: received.requestId,
      outcome: 'denied',
      verification: 'not-verified',
      denialBasis: 'CCP-3: the requester could not be verified',
      answeredAt: '2026-11-20T18:30:00Z',
    });
    expect(denied).toMatchObject({
      answeredAt: '2026-11-20T18:30:00.000Z',
      outcome: 'denied',
      verification: 'not-verified',
      denialBasis: 'CCP-3: the requester could not be verified',
    });
    const again = await refusal(
      desk.consent.requestAnswer({
        requestId: received.requestId,
        outcome: 'fulfilled',
        verification: 'verified',
      }),
    );
    expect(again.code).toBe(ErrorCodes.INVALID_STATE);
    await expect(desk.consent.requestList({ clientId })).resolves.toEqual({ requests: [denied] });
  });

  it('refuses an answer that breaks the log: a denial without its basis, a basis without a denial, a date before receipt', async () => {
    const clientId = `log-bad-${run}`;
    const { requestId } = await desk.consent.requestRecord({
      clientId,
      right: 'opt-out',
      channel: 'phone',
      requester: 'authorised-agent',
      receivedAt: '2026-11-10T16:00:00Z',
    });
    const cases: [Record<string, string>, string, string][] = [
      [{ outcome: 'denied' }, 'denialBasis', 'CCP-7'],
      [{ outcome: 'fulfilled', denialBasis: 'no' }, 'denialBasis', 'CCP-7'],
      [
        { outcome: 'fulfilled', answeredAt: '2026-11-09T00:00:00Z' },
        'answeredAt',
        'notBeforeReceipt',
      ],
      [{ outcome: 'fulfilled', answeredAt: '2026-02-30T00:00:00Z' }, 'answeredAt', 'isTimestamp'],
      [
        { outcome: 'fulfilled', answeredAt: '2099-01-01T00:00:00Z' },
        'answeredAt',
        'notInTheFuture',
      ],
    ];
    for (const [fields, field, constraint] of cases) {
      const refused = await refusal(
        desk.consent.requestAnswer({
          requestId,
          verification: 'not-required',
          ...fields,
        } as never),
      );
      expect(refused.code).toBe(ErrorCodes.VALIDATION_FAILED);
      expect(refused.fields).toEqual([expect.objectContaining({ field, constraint })]);
    }
    const missing = await refusal(
      desk.consent.requestAnswer({
        requestId: '00000000-0000-4000-8000-000000000000',
        outcome: 'fulfilled',
        verification: 'not-required',
      }),
    );
    expect(missing.code).toBe(ErrorCodes.NOT_FOUND);
    const [entry] = (await desk.consent.requestList({ clientId })).requests;
    expect(entry.answeredAt).toBeUndefined();
  });

  it('the runtime role can neither delete an entry nor change its receipt or answer (RET-3)', async () => {
    const clientId = `log-role-${run}`;
    const { requestId } = await desk.consent.requestRecord({
      clientId,
      right: 'access',
      channel: 'email',
      requester: 'guardian',
    });
    await desk.consent.requestAnswer({ requestId, outcome: 'fulfilled', verification: 'verified' });
    const role = await runtimeRole();
    const code = (sql: string) =>
      role.query(sql, [requestId]).then(
        () => 'no error',
        (err: { code?: string }) => err.code,
      );
    try {
      // 42501 insufficient_privilege; 23514 check_violation (the answer is given once).
      await expect(code('DELETE FROM consent.rights_requests WHERE id = $1')).resolves.toBe(
        '42501',
      );
      await expect(
        code(`UPDATE consent.rights_requests SET "right" = 'know' WHERE id = $1`),
      ).resolves.toBe('42501');
      await expect(
        code(
          `UPDATE consent.rights_requests SET outcome = 'denied', denial_basis = 'x' WHERE id = $1`,
        ),
      ).resolves.toBe('23514');
    } finally {
      await role.end();
    }
  });

  it('deletes answered entries whose period has run only for the retention service, keeping open ones, and records it (RET-3)', async () => {
    const clientId = `log-purge-${run}`;
    const old = await desk.consent.requestRecord({
      clientId,
      right: 'know',
      channel: 'front-desk',
      requester: 'subject',
      receivedAt: '2024-01-05T17:00:00Z',
    });
    await desk.consent.requestAnswer({
      requestId: old.requestId,
      outcome: 'fulfilled',
      verification: 'verified',
      answeredAt: '2024-01-30T17:00:00Z',
    });
    const open = await desk.consent.requestRecord({
      clientId,
      right: 'correct',
      channel: 'email',
      requester: 'subject',
      receivedAt: '2024-01-06T17:00:00Z',
    });
    const recent = await desk.consent.requestRecord({
      clientId,
      right: 'opt-out',
      channel: 'web-form',
      requester: 'subject',
    });
    await desk.consent.requestAnswer({
      requestId: recent.requestId,
      outcome: 'fulfilled',
      verification: 'not-required',
    });

    const forbidden = await refusal(
      desk.consent.requestPurge({ clientId, through: '2024-12-31T00:00:00Z', reason: 'not mine' }),
    );
    expect(forbidden.code).toBe(ErrorCodes.FORBIDDEN);
    await expect(
      retention.consent.requestPurge({
        clientId,
        through: '2024-12-31T00:00:00Z',
        reason: 'retention RET-3: records.requests delete',
      }),
    ).resolves.toEqual({ clientId, deletedEntries: 1, keptOpen: 1 });
    const left = (await desk.consent.requestList({ clientId })).requests.map((r) => r.requestId);
    expect(left).toEqual([open.requestId, recent.requestId]);
    const audit = await owner.query(
      'SELECT entries, kept_open, requested_by, reason FROM consent.request_log_purges WHERE client_id = $1',
      [clientId],
    );
    expect(audit.rows).toEqual([
      {
        entries: 1,
        kept_open: 1,
        requested_by: 'retention',
        reason: 'retention RET-3: records.requests delete',
      },
    ]);
  });
});
