import { type DsgClient, ErrorCodes } from '@dsg/contracts';
import { PrivateStack } from './support/private-stack';
import { refusal } from './support/refusal';
import { waitUntil } from './support/wait';

/**
 * This product's own records are holdings and are swept too (issue 7, items 2 and 4): the consent
 * service and the register declare their records per subject; expired consent details go through
 * the consent service's redaction path (RET-2), register entries' details through the register's
 * (the log still verifies), the rights-request log's answered entries through consent's purge path
 * after 24 months (RET-3). Own database and prefix.
 */
describe("retention: this product's own records", () => {
  const run = Date.now().toString(36);
  let stack: PrivateStack;
  let booking: DsgClient;
  let ops: DsgClient;
  let retentionUser: DsgClient;

  const holding = async (system: string, clientId: string) =>
    (
      await stack.db.query(
        'SELECT category, clocks, due_at, rule FROM retention.holdings WHERE system = $1 AND client_id = $2',
        [system, clientId],
      )
    ).rows as { category: string; clocks: Record<string, string>; due_at: Date; rule: string }[];

  beforeAll(async () => {
    stack = await PrivateStack.create('own', [
      'gateway',
      'consent',
      'disclosure-register',
      'retention',
    ]);
    const declareOften = { RECORDS_DECLARE_EVERY_MS: '200' };
    await stack.start('gateway');
    await stack.start('consent', declareOften);
    await stack.start('disclosure-register', declareOften);
    await stack.start('retention', { SWEEP_EVERY_MS: '0' });
    booking = await stack.client('booking');
    ops = await stack.client('gateway');
    retentionUser = await stack.client('retention');
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('the consent ledger is declared and, six years after its last effective date, its details are redacted through consent (RET-2)', async () => {
    const old = `own-old-${run}`;
    const recent = `own-new-${run}`;
    for (const [clientId, occurredAt] of [
      [old, '2019-05-01T00:00:00Z'],
      [recent, '2026-05-01T00:00:00Z'],
    ]) {
      await booking.consent.subjectUpsert({ clientId, dateOfBirth: '1980-01-01' });
      await booking.consent.ledgerRecord({
        clientId,
        kind: 'grant',
        scopeType: 'purpose',
        scope: 'offers-and-marketing',
        method: 'web-form',
        actor: 'self',
        policyVersion: '2026.1',
        occurredAt,
        evidence: { formId: 'f-1', ip: '203.0.113.9' },
      });
    }
    expect(
      await waitUntil(async () => (await holding('consent', recent)).length === 1, 10_000),
    ).toBe(true);
    expect(await holding('consent', old)).toEqual([
      expect.objectContaining({
        category: 'records.consents',
        clocks: { lastEffective: '2019-05-01T00:00:00.000Z' },
        rule: 'RET-2',
        due_at: new Date('2025-05-01T00:00:00Z'),
      }),
    ]);

    const started = await ops.retention.sweepRun({}, await stack.as(['operator'], 'retention'));
    expect(started.state).toBe('running');
    expect(
      await waitUntil(async () => {
        const { rows } = await stack.db.query(
          "SELECT state FROM retention.purge_items WHERE system = 'consent' AND client_id = $1",
          [old],
        );
        return rows[0]?.state === 'done';
      }, 15_000),
    ).toBe(true);
    const evidence = await stack.db.query(
      'SELECT client_id, evidence, redacted_at IS NOT NULL AS redacted FROM consent.ledger WHERE client_id = ANY($1) ORDER BY client_id',
      [[old, recent]],
    );
    expect(evidence.rows).toEqual([
      { client_id: recent, evidence: { formId: 'f-1', ip: '203.0.113.9' }, redacted: false },
      { client_id: old, evidence: null, redacted: true },
    ]);
    const [{ detail }] = (
      await stack.db.query(
        "SELECT detail FROM retention.purge_items WHERE system = 'consent' AND client_id = $1",
        [old],
      )
    ).rows as { detail: string }[];
    expect(detail).toBe('consent ledger: personal details redacted from 1 entries');
  });

  it("the register's entries are declared, and its redaction path removes their details while the log still verifies (ACC-9)", async () => {
    const clientId = `own-reg-${run}`;
    await booking.consent.subjectUpsert({ clientId, dateOfBirth: '1980-01-01' });
    const receipt = await booking.disclosureRegister.disclose(
      {
        clientId,
        recipientId: 'cherry',
        purpose: 'payments-and-memberships',
        legalBasis: 'payment',
        categories: ['identifiers.name'],
        description: 'Financing application',
      },
      { idempotencyKey: `own-reg-${run}`, retries: 0 },
    );
    expect(
      await waitUntil(async () => (await holding('disclosure-register', clientId)).length === 1),
    ).toBe(true);
    const [declared] = await holding('disclosure-register', clientId);
    expect(declared).toMatchObject({ category: 'records.disclosures', rule: 'RET-2' });
    expect(new Date(declared.clocks.creation).getTime()).toBe(Date.parse(receipt.recordedAt));

    // Only the retention service may use the path.
    const forbidden = await refusal(
      booking.disclosureRegister.entriesRedact({
        clientId,
        before: new Date().toISOString(),
        reason: 'not booking’s to do',
      }),
    );
    expect(forbidden.code).toBe(ErrorCodes.FORBIDDEN);
    const { redactedEntries } = await retentionUser.disclosureRegister.entriesRedact({
      clientId,
      before: new Date(Date.now() + 1000).toISOString(),
      reason: 'retention RET-2: records.disclosures redact',
    });
    expect(redactedEntries).toBe(1);
    const entry = await stack.db.query(
      'SELECT details, salt, client_id FROM disclosure_register.entries WHERE entry_id = $1',
      [receipt.entryId],
    );
    expect(entry.rows).toEqual([{ details: null, salt: null, client_id: null }]);
    const audit = await stack.db.query(
      'SELECT entries, requested_by FROM disclosure_register.redactions WHERE client_id = $1',
      [clientId],
    );
    expect(audit.rows).toEqual([{ entries: 1, requested_by: 'retention' }]);
    // Verified over a sealed head that covers the redacted entry.
    expect(
      await waitUntil(
        async () =>
          ((await ops.disclosureRegister.treeHead({}).catch(() => undefined))?.treeSize ?? 0) >
          receipt.position,
        15_000,
      ),
    ).toBe(true);
    const verified = await ops.disclosureRegister.verify(
      {},
      await stack.as(['auditor'], 'disclosure-register'),
    );
    expect(verified).toMatchObject({ result: 'valid' });
    expect(verified.entries).toBeGreaterThan(receipt.position);
  });

  it('the rights-request log is kept 24 months (RET-3), and the records keep their rules beside the bundle', async () => {
    // Declared directly, as the consent service declares its log, beside a bundle's rules.
    const consent = await stack.client('consent');
    const clientId = `own-log-${run}`;
    const { holdings } = await consent.retention.holdingsDeclare({
      system: 'consent',
      holdings: [
        { clientId, category: 'records.requests', clocks: { creation: '2025-02-28T12:00:00Z' } },
        {
          clientId,
          category: 'records.consents',
          clocks: { lastEffective: '2025-02-28T12:00:00Z' },
        },
      ],
    });
    expect(holdings.map((h) => [h.category, h.dueAt, h.action, h.rule])).toEqual([
      ['records.requests', '2027-02-28T12:00:00.000Z', 'delete', 'RET-3'],
      ['records.consents', '2031-02-28T12:00:00.000Z', 'redact', 'RET-2'],
    ]);
  });

  it('the rights-request log is declared and, 24 months after its latest date, its answered entries are deleted through consent (RET-3)', async () => {
    const old = `own-req-old-${run}`;
    const recent = `own-req-new-${run}`;
    const logged: Record<string, string> = {};
    for (const [clientId, receivedAt, answeredAt] of [
      [old, '2024-01-05T17:00:00Z', '2024-01-30T17:00:00Z'],
      [recent, '2026-06-01T17:00:00Z', '2026-06-20T17:00:00Z'],
    ]) {
      const { requestId } = await booking.consent.requestRecord({
        clientId,
        right: 'know',
        channel: 'email',
        requester: 'subject',
        receivedAt,
      });
      await booking.consent.requestAnswer({
        requestId,
        outcome: 'fulfilled',
        verification: 'verified',
        answeredAt,
      });
      logged[clientId] = requestId;
    }
    expect(
      await waitUntil(async () => (await holding('consent', recent)).length === 1, 10_000),
    ).toBe(true);
    expect(await holding('consent', old)).toEqual([
      expect.objectContaining({
        category: 'records.requests',
        clocks: { creation: '2024-01-30T17:00:00.000Z' },
        rule: 'RET-3',
        due_at: new Date('2026-01-30T17:00:00Z'),
      }),
    ]);

    await ops.retention.sweepRun({}, await stack.as(['operator'], 'retention'));
    const item = async () =>
      (
        await stack.db.query(
          "SELECT state, detail FROM retention.purge_items WHERE system = 'consent' AND category = 'records.requests' AND client_id = $1",
          [old],
        )
      ).rows[0] as { state: string; detail: string } | undefined;
    expect(await waitUntil(async () => (await item())?.state === 'done', 15_000)).toBe(true);
    expect((await item())?.detail).toBe('rights-request log: 1 entries deleted');
    const left = await stack.db.query(
      'SELECT id, client_id FROM consent.rights_requests WHERE client_id = ANY($1)',
      [[old, recent]],
    );
    expect(left.rows).toEqual([{ id: logged[recent], client_id: recent }]);
    // The recent subject's log is not due: no item was issued for it.
    const recentItems = await stack.db.query(
      "SELECT 1 FROM retention.purge_items WHERE category = 'records.requests' AND client_id = $1",
      [recent],
    );
    expect(recentItems.rowCount).toBe(0);
  });

  it("another system may not declare this product's records", async () => {
    const refused = await refusal(
      booking.retention.holdingsDeclare({
        system: 'booking',
        holdings: [
          {
            clientId: `own-x-${run}`,
            category: 'records.disclosures',
            clocks: { creation: '2020-01-01T00:00:00Z' },
          },
        ],
      }),
    );
    expect(refused.code).toBe(ErrorCodes.VALIDATION_FAILED);
    expect(refused.fields.map((f) => f.constraint)).toEqual(['isOwnSystem']);
  });
});
