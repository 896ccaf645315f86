import {
  type DsgClient,
  type DsgError,
  type ErasureReply,
  ErrorCodes,
  type HoldingReply,
  type ReportDisclosureRequest,
} from '@dsg/contracts';
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import type { BookingHolder } from '../apps/reference-holder/src/booking-holder';
import { PrivateStack } from './support/private-stack';
import { refusal } from './support/refusal';
import { waitUntil } from './support/wait';

const DAY = 86_400_000;

/**
 * What the consent service's rights-request flow (issue 8) calls on the register and the
 * retention service, through their public NATS API: an accounting produced for the privacy officer
 * consent acts for (ACC-8, ACC-9), a subject's accountings (ACC-6), entries (CCP-1, HIP-8) and
 * holdings, and a consumer's erasure (CCP-4, RET-6). Each answers the `consent` NATS user only.
 * Own database and prefix: an erasure's purge commands reach the whole database.
 */
describe('rights requests: the register and retention operations the consent service calls', () => {
  const run = Date.now().toString(36);
  let stack: PrivateStack;
  let consent: DsgClient;
  let booking: DsgClient;
  let billing: DsgClient;
  let retention: DsgClient;
  let gateway: DsgClient;
  let pool: Pool;
  let holder: BookingHolder;
  let key = 0;

  const officer = async (audience: 'disclosure-register' | 'retention') => ({
    ...(await stack.as(['privacy_officer'], audience, 'officer-1')),
    idempotencyKey: `rr-po-${run}-${key++}`,
  });
  const report = (request: ReportDisclosureRequest) =>
    booking.disclosureRegister.report(request, {
      idempotencyKey: `rr-r-${run}-${key++}`,
      retries: 0,
    });
  const ofSystems = <T extends { system: string }>(rows: T[]) =>
    rows.filter((r) => r.system === 'booking' || r.system === 'billing');

  beforeAll(async () => {
    stack = await PrivateStack.create('rights', [
      'gateway',
      'consent',
      'disclosure-register',
      'retention',
    ]);
    await stack.start('gateway');
    await stack.start('consent');
    await stack.start('disclosure-register');
    await stack.start('retention', { SWEEP_EVERY_MS: '0', PURGE_RETRY_CHECK_MS: '100' });
    consent = await stack.client('consent');
    booking = await stack.client('booking');
    billing = await stack.client('billing');
    retention = await stack.client('retention');
    gateway = await stack.client('gateway');
    ({ holder, pool } = await stack.referenceHolder(booking));
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('produces an accounting for the officer consent acts for, leaving out what a suspension covers; a retry answers it (ACC-8, ACC-9)', async () => {
    const clientId = `rr-acc-${run}`;
    const rightsRequestId = randomUUID();
    await booking.consent.subjectUpsert({ clientId, dateOfBirth: '1975-09-10' });
    const suspended = await report({
      clientId,
      recipientId: 'regulators',
      purpose: 'legal-obligations',
      legalBasis: 'required-by-law',
      categories: ['identifiers.name', 'health.history'],
      description: 'Records sent to the Medical Board',
      occurredAt: new Date(Date.now() - 10 * DAY).toISOString(),
      source: 'staff',
    });
    const impermissible = await report({
      clientId,
      recipientId: 'crm-vendor',
      purpose: 'offers-and-marketing',
      legalBasis: 'health-care-operations',
      categories: ['health.history'],
      description: 'Treatment history synchronised to the CRM by mistake',
      occurredAt: new Date(Date.now() - 5 * DAY).toISOString(),
      source: 'business-associate',
      reportedBy: 'booking-vendor',
    });
    expect(impermissible.flagged).toBe(true);
    await gateway.disclosureRegister.suspensionRecord(
      {
        form: 'written',
        agency: 'Medical Board of California',
        official: { name: 'Inspector B. Example', title: 'Investigator' },
        recipientId: 'regulators',
        subjects: [clientId],
        statement: 'An accounting would alert the subject of an open investigation.',
        until: new Date(Date.now() + 90 * DAY).toISOString(),
      },
      await officer('disclosure-register'),
    );

    const request = {
      clientId,
      staffTitle: 'Privacy Officer',
      rightsRequestRef: rightsRequestId,
      actingFor: 'officer-9',
    };
    const options = { idempotencyKey: `rr-acc-${run}`, retries: 0 };
    const accounting = await consent.disclosureRegister.accountingForRightsRequest(
      request,
      options,
    );
    expect(accounting).toMatchObject({
      clientId,
      producedBy: 'officer-9',
      staffTitle: 'Privacy Officer',
      rightsRequestRef: rightsRequestId,
    });
    // ACC-8: the suspended disclosure is left out; the impermissible one is listed (ACC-3).
    const positions = accounting.disclosures.flatMap((l) => l.positions);
    expect(positions).toEqual([impermissible.position]);
    expect(positions).not.toContain(suspended.position);
    // ACC-9: recorded with the consent service as the caller and the hidden entry counted.
    const { rows } = await stack.db.query(
      `SELECT produced_by, staff_title, rights_request_ref, suspended_entries, caller
         FROM disclosure_register.accountings WHERE client_id = $1`,
      [clientId],
    );
    expect(rows).toEqual([
      {
        produced_by: 'officer-9',
        staff_title: 'Privacy Officer',
        rights_request_ref: rightsRequestId,
        suspended_entries: 1,
        caller: 'consent',
      },
    ]);

    // A retry with the same key answers the accounting recorded, for whichever officer it is
    // carried; another request under the key is a conflict.
    const again = await consent.disclosureRegister.accountingForRightsRequest(
      { ...request, actingFor: 'officer-10' },
      options,
    );
    expect(again).toEqual(accounting);
    const conflict = await refusal(
      consent.disclosureRegister.accountingForRightsRequest(
        { ...request, staffTitle: 'Compliance Officer' },
        options,
      ),
    );
    expect(conflict.code).toBe(ErrorCodes.IDEMPOTENCY_CONFLICT);
    const unnamed = await refusal(
      consent.disclosureRegister.accountingForRightsRequest(
        { clientId, staffTitle: 'Privacy Officer', actingFor: 'officer-9' },
        { idempotencyKey: `rr-acc-unnamed-${run}`, retries: 0 },
      ),
    );
    expect(unnamed.code).toBe(ErrorCodes.VALIDATION_FAILED);
    expect(unnamed.fields.map((f) => f.field)).toEqual(['rightsRequestRef']);
    const count = await stack.db.query(
      'SELECT count(*)::int AS n FROM disclosure_register.accountings WHERE client_id = $1',
      [clientId],
    );
    expect(count.rows[0].n).toBe(1);
  });

  it("lists a subject's accountings, newest first, for the fee check (ACC-6)", async () => {
    const clientId = `rr-fee-${run}`;
    await booking.consent.subjectUpsert({ clientId, dateOfBirth: '1980-01-01' });
    expect(
      (await consent.disclosureRegister.accountingsOfSubject({ clientId }, { retries: 0 }))
        .accountings,
    ).toEqual([]);
    const byOfficer = await gateway.disclosureRegister.accountingProduce(
      { clientId, staffTitle: 'Privacy Officer' },
      await officer('disclosure-register'),
    );
    const forRequest = await consent.disclosureRegister.accountingForRightsRequest(
      {
        clientId,
        staffTitle: 'Compliance Officer',
        rightsRequestRef: randomUUID(),
        actingFor: 'officer-9',
      },
      { idempotencyKey: `rr-fee-${run}`, retries: 0 },
    );
    const { accountings } = await consent.disclosureRegister.accountingsOfSubject(
      { clientId },
      { retries: 0 },
    );
    expect(accountings.map((a) => [a.accountingId, a.producedBy, a.staffTitle])).toEqual([
      [forRequest.accountingId, 'officer-9', 'Compliance Officer'],
      [byOfficer.accountingId, 'officer-1', 'Privacy Officer'],
    ]);
    expect(accountings[0]).toMatchObject({
      producedAt: forRequest.producedAt,
      contentHash: forRequest.contentHash,
      lines: 0,
    });
  });

  it('lists every register entry about a subject in position order, recipients named, denied disclosures and redacted entries left out (CCP-1, HIP-8, ACC-9)', async () => {
    const clientId = `rr-entries-${run}`;
    await booking.consent.subjectUpsert({ clientId, dateOfBirth: '1984-03-03' });
    const allowed = await booking.disclosureRegister.disclose(
      {
        clientId,
        recipientId: 'cherry',
        purpose: 'payments-and-memberships',
        legalBasis: 'payment',
        categories: ['identifiers.name', 'payment.financing'],
        description: 'Financing application',
      },
      { idempotencyKey: `rr-e1-${run}`, retries: 0 },
    );
    expect(allowed.decision).toBe('ALLOW');
    const denied = await booking.disclosureRegister.disclose(
      {
        clientId,
        recipientId: 'regulators',
        purpose: 'legal-obligations',
        legalBasis: 'required-by-law',
        categories: ['unknown.category'],
        description: 'Denied: never made',
      },
      { idempotencyKey: `rr-e2-${run}`, retries: 0 },
    );
    expect(denied.decision).toBe('DENY');
    const reported = await report({
      clientId,
      recipientId: 'crm-vendor',
      purpose: 'appointment-reminders',
      legalBasis: 'health-care-operations',
      categories: ['identifiers.contact'],
      description: 'Reminder list',
      occurredAt: new Date(Date.now() - DAY).toISOString(),
      source: 'staff',
    });
    const { notices } = await retention.disclosureRegister.noticesRecord({
      clientId,
      notice: 'deletion-request',
      rule: 'CCP-4',
      ref: `rr-notice-${run}`,
    });
    expect(notices.map((n) => n.recipientId)).toEqual(['cherry', 'crm-vendor']);
    const name = async (recipientId: string) =>
      (await booking.disclosureRegister.recipientGet({ recipientId })).name;

    const { entries } = await consent.disclosureRegister.entriesOfSubject(
      { clientId },
      { retries: 0 },
    );
    expect(entries.map((e) => [e.position, e.type, e.recipientId])).toEqual([
      [allowed.position, 'disclosure', 'cherry'],
      [reported.position, 'reported-disclosure', 'crm-vendor'],
      [notices[0].position, 'notice', 'cherry'],
      [notices[1].position, 'notice', 'crm-vendor'],
    ]);
    expect(entries[0]).toEqual({
      position: allowed.position,
      type: 'disclosure',
      recordedAt: allowed.recordedAt,
      recipientId: 'cherry',
      recipientName: await name('cherry'),
      purpose: 'payments-and-memberships',
      categories: ['identifiers.name', 'payment.financing'],
    });
    expect(entries[1]).toMatchObject({
      recipientName: await name('crm-vendor'),
      purpose: 'appointment-reminders',
      categories: ['identifiers.contact'],
    });
    expect(entries.map((e) => e.position)).not.toContain(denied.position);

    // The redaction path takes the subject off the entries with their details: none is listed.
    const { redactedEntries } = await retention.disclosureRegister.entriesRedact({
      clientId,
      before: new Date(Date.now() + 60_000).toISOString(),
      reason: 'RET-2: the retention period of these entries has run',
    });
    expect(redactedEntries).toBe(5);
    expect(
      (await consent.disclosureRegister.entriesOfSubject({ clientId }, { retries: 0 })).entries,
    ).toEqual([]);
  });

  it('lists every holding of a subject with its due date, rule and the legal holds covering it (RET-1 to RET-6)', async () => {
    const clientId = `rr-holdings-${run}`;
    const declared = [
      ...(
        await booking.retention.holdingsDeclare({
          system: 'booking',
          holdings: [
            {
              clientId,
              category: 'identifiers',
              clocks: { lastEncounter: '2026-03-01T10:00:00Z' },
            },
            {
              clientId,
              category: 'health.consultation-notes',
              clocks: { lastEncounter: '2026-03-01T10:00:00Z' },
            },
          ],
        })
      ).holdings,
      ...(
        await billing.retention.holdingsDeclare({
          system: 'billing',
          holdings: [
            { clientId, category: 'payment.card', clocks: { creation: '2026-03-01T10:00:00Z' } },
          ],
        })
      ).holdings,
    ];
    const hold = await gateway.retention.holdPlace(
      {
        scope: { subjects: [clientId], systems: ['billing'] },
        reason: 'Subpoena 2026-051: keep the billing records',
      },
      await officer('retention'),
    );

    const { holdings } = await consent.retention.holdingsOfSubject({ clientId }, { retries: 0 });
    const expected = (system: string, category: string): HoldingReply => {
      const d = declared.find((h) => h.system === system && h.category === category)!;
      expect(d.dueAt).toEqual(expect.any(String));
      return { ...d, ...(system === 'billing' ? { heldBy: [hold.holdId] } : {}) };
    };
    expect(ofSystems(holdings)).toEqual([
      expected('billing', 'payment.card'),
      expected('booking', 'health.consultation-notes'),
      expected('booking', 'identifiers'),
    ]);
    expect(holdings.every((h) => h.clientId === clientId)).toBe(true);
    expect(
      (await consent.retention.holdingsOfSubject({ clientId: `nobody-${run}` }, { retries: 0 }))
        .holdings,
    ).toEqual([]);
  });

  it("carries out a consumer's erasure for a rights request, keeping what a legal hold covers; a retry with the same key reads it as it stands (CCP-4, RET-6)", async () => {
    const clientId = `rr-erase-${run}`;
    const rightsRequestId = randomUUID();
    await holder.book([{ clientId, startsAt: '2026-10-01T10:00:00Z', name: 'F', phone: '6' }]);
    await holder.declare([clientId]);
    await billing.retention.holdingsDeclare({
      system: 'billing',
      holdings: [
        { clientId, category: 'payment.card', clocks: { creation: '2026-10-01T10:00:00Z' } },
      ],
    });
    const hold = await gateway.retention.holdPlace(
      {
        scope: { subjects: [clientId], systems: ['billing'] },
        reason: 'Subpoena 2026-052: keep the billing records',
      },
      await officer('retention'),
    );
    const request = {
      clientId,
      rightsRequestId,
      reason: 'The consumer asked for deletion through the privacy request form',
      actingFor: 'officer-9',
    };
    const options = { idempotencyKey: `rr-erase-${run}`, retries: 0 };
    const first = await consent.retention.erasureForRightsRequest(request, options);
    expect(first).toMatchObject({
      clientId,
      basis: 'consumer-request',
      requestRef: rightsRequestId,
      requestedBy: 'officer-9',
    });
    expect(
      ofSystems(first.decisions).map((d) => [d.system, d.category, d.decision, d.rule]),
    ).toEqual([
      ['billing', 'payment.card', 'keep', 'RET-6'],
      ['booking', 'identifiers', 'erase', 'CCP-4'],
    ]);
    expect(ofSystems(first.decisions)[0].reason).toContain(hold.holdId);

    // The consent service reads the outcome later by retrying with the same key.
    let latest: ErasureReply = first;
    const done = await waitUntil(async () => {
      latest = await consent.retention.erasureForRightsRequest(request, options);
      return latest.state === 'completed';
    }, 20_000);
    expect(done).toBe(true);
    expect(latest.erasureId).toBe(first.erasureId);
    expect(latest.certificate!.body.erased).toEqual([
      { system: 'booking', category: 'identifiers', action: 'delete', rule: 'CCP-4' },
    ]);
    expect(latest.certificate!.body.kept).toContainEqual(
      expect.objectContaining({ system: 'billing', category: 'payment.card', rule: 'RET-6' }),
    );
    expect(
      (
        await pool.query('SELECT 1 FROM reference_holder.appointments WHERE client_id = $1', [
          clientId,
        ])
      ).rowCount,
    ).toBe(0);
    const conflict = await refusal(
      consent.retention.erasureForRightsRequest(
        { ...request, reason: 'Another reason entirely' },
        options,
      ),
    );
    expect(conflict.code).toBe(ErrorCodes.IDEMPOTENCY_CONFLICT);
    const erasures = await stack.db.query(
      'SELECT count(*)::int AS n FROM retention.erasures WHERE client_id = $1',
      [clientId],
    );
    expect(erasures.rows[0].n).toBe(1);
  });

  it('refuses every one of these operations to any caller but the consent service, a privacy officer through the gateway included (ACC-9, CCP-4)', async () => {
    const clientId = `rr-refused-${run}`;
    const registerCalls = async (client: DsgClient) => [
      refusal(
        client.disclosureRegister.accountingForRightsRequest(
          {
            clientId,
            staffTitle: 'Privacy Officer',
            rightsRequestRef: randomUUID(),
            actingFor: 'officer-9',
          },
          await officer('disclosure-register'),
        ),
      ),
      refusal(
        client.disclosureRegister.accountingsOfSubject(
          { clientId },
          await stack.as(['privacy_officer'], 'disclosure-register'),
        ),
      ),
      refusal(
        client.disclosureRegister.entriesOfSubject(
          { clientId },
          await stack.as(['privacy_officer'], 'disclosure-register'),
        ),
      ),
    ];
    const retentionCalls = async (client: DsgClient) => [
      refusal(
        client.retention.erasureForRightsRequest(
          {
            clientId,
            rightsRequestId: randomUUID(),
            reason: 'Not the consent service',
            actingFor: 'officer-9',
          },
          await officer('retention'),
        ),
      ),
      refusal(
        client.retention.holdingsOfSubject(
          { clientId },
          await stack.as(['privacy_officer'], 'retention'),
        ),
      ),
    ];
    const refusals: DsgError[] = [];
    for (const client of [booking, gateway, retention]) {
      refusals.push(...(await Promise.all(await registerCalls(client))));
    }
    for (const client of [booking, gateway]) {
      refusals.push(...(await Promise.all(await retentionCalls(client))));
    }
    expect(refusals).toHaveLength(13);
    for (const error of refusals) {
      expect(error.code).toBe(ErrorCodes.FORBIDDEN);
      expect(error.message).toContain('Only the consent service');
    }
    const written = await stack.db.query(
      `SELECT (SELECT count(*)::int FROM disclosure_register.accountings WHERE client_id = $1) AS a,
              (SELECT count(*)::int FROM retention.erasures WHERE client_id = $1) AS e`,
      [clientId],
    );
    expect(written.rows[0]).toEqual({ a: 0, e: 0 });
  });
});
