import {
  type DsgClient,
  type ErasureReply,
  ErrorCodes,
  verifyErasureCertificate,
} from '@dsg/contracts';
import type { Pool } from 'pg';
import type { BookingHolder } from '../apps/reference-holder/src/booking-holder';
import { PrivateStack } from './support/private-stack';
import { refusal } from './support/refusal';
import { waitUntil } from './support/wait';

/**
 * Erasure requests (issue 7, item 5: CCP-4, KID-1, POL-5, RET-6) through the retention service's
 * public API, end to end: the reference holder erases what is decided, the register records a
 * notice to every recipient of the subject's data, and the certificate verifies with the
 * retention service's published key. Own database and prefix (purges reach the whole database).
 */
describe('retention: erasure requests', () => {
  const run = Date.now().toString(36);
  let stack: PrivateStack;
  let booking: DsgClient;
  let billing: DsgClient;
  let ops: DsgClient;
  let pool: Pool;
  let holder: BookingHolder;

  const officer = async (key: string) => ({
    ...(await stack.as(['privacy_officer'], 'retention', 'officer-7')),
    idempotencyKey: key,
  });
  const completed = async (erasureId: string): Promise<ErasureReply> => {
    let reply: ErasureReply | undefined;
    await waitUntil(async () => {
      reply = await ops.retention.erasureGet(
        { erasureId },
        await stack.as(['auditor'], 'retention'),
      );
      return reply.state === 'completed';
    }, 20_000);
    expect(reply?.state).toBe('completed');
    return reply!;
  };
  const decisions = (reply: ErasureReply) =>
    reply.decisions.map((d) => [d.system, d.category, d.decision, d.rule]);

  beforeAll(async () => {
    stack = await PrivateStack.create('erase', [
      'gateway',
      'consent',
      'disclosure-register',
      'retention',
    ]);
    await stack.start('gateway');
    await stack.start('consent');
    await stack.start('disclosure-register');
    await stack.start('retention', { SWEEP_EVERY_MS: '0', PURGE_RETRY_CHECK_MS: '100' });
    booking = await stack.client('booking');
    billing = await stack.client('billing');
    ops = await stack.client('gateway');
    ({ holder, pool } = await stack.referenceHolder(booking));
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('erases what no exception keeps, tells every recipient through the register, and signs a certificate (CCP-4, RET-4)', async () => {
    const clientId = `erase-${run}`;
    await booking.consent.subjectUpsert({ clientId, dateOfBirth: '1984-03-03' });
    await holder.book([
      { clientId, startsAt: '2026-10-01T10:00:00Z', name: 'F', phone: '6', notes: 'botox' },
    ]);
    await holder.declare([clientId]);
    await billing.retention.holdingsDeclare({
      system: 'billing',
      holdings: [
        { clientId, category: 'payment.card', clocks: { creation: '2026-10-01T10:00:00Z' } },
      ],
    });
    // Two recipients received the subject's data; a denied disclosure sent nothing; the spa's
    // own professionals (workforce) are not a service provider or third party to tell.
    for (const [recipientId, purpose, legalBasis, categories, decision] of [
      [
        'cherry',
        'payments-and-memberships',
        'payment',
        ['identifiers.name', 'payment.financing'],
        'ALLOW',
      ],
      [
        'crm-vendor',
        'appointment-reminders',
        'health-care-operations',
        ['identifiers.contact'],
        'ALLOW',
      ],
      [
        'in-facility-professionals',
        'scheduling-and-services',
        'treatment',
        ['identifiers.name'],
        'ALLOW',
      ],
      ['regulators', 'legal-obligations', 'required-by-law', ['unknown.category'], 'DENY'],
    ] as const) {
      const receipt = await booking.disclosureRegister.disclose(
        {
          clientId,
          recipientId,
          purpose,
          legalBasis,
          categories: [...categories],
          description: 'Test disclosure',
        },
        { idempotencyKey: `erase-${recipientId}-${run}`, retries: 0 },
      );
      expect(receipt.decision).toBe(decision);
    }

    const request = {
      clientId,
      basis: 'consumer-request' as const,
      requestRef: `rr-${run}`,
      reason: 'The consumer asked for deletion by e-mail',
    };
    const first = await ops.retention.erasureRequest(request, await officer(`e1-${run}`));
    // In progress until the holder has acknowledged (it may have already).
    expect(['in-progress', 'completed']).toContain(first.state);
    expect(decisions(first)).toEqual([
      ['billing', 'payment.card', 'keep', 'RET-4'],
      ['booking', 'health.consultation-notes', 'keep', 'CCP-4'],
      ['booking', 'identifiers', 'erase', 'CCP-4'],
    ]);
    // The same key again: the same erasure; with another request: a conflict, nothing written.
    const again = await ops.retention.erasureRequest(request, await officer(`e1-${run}`));
    expect(again.erasureId).toBe(first.erasureId);
    const conflict = await refusal(
      ops.retention.erasureRequest(
        { ...request, reason: 'Another reason' },
        await officer(`e1-${run}`),
      ),
    );
    expect(conflict.code).toBe(ErrorCodes.IDEMPOTENCY_CONFLICT);

    const done = await completed(first.erasureId);
    // The holder deleted the appointment; consultation notes are PHI: routed to HIPAA, kept.
    expect(
      (
        await pool.query('SELECT * FROM reference_holder.appointments WHERE client_id = $1', [
          clientId,
        ])
      ).rows,
    ).toEqual([]);
    expect(done.notices.map((n) => n.recipientId)).toEqual(['cherry', 'crm-vendor']);
    const noticeLeaves = await stack.db.query(
      `SELECT leaf::jsonb AS leaf FROM disclosure_register.entries
        WHERE entry_id = ANY($1::uuid[]) ORDER BY position`,
      [done.notices.map((n) => n.entryId)],
    );
    expect(
      noticeLeaves.rows.map((r) => [r.leaf.type, r.leaf.recipient.id, r.leaf.reasons]),
    ).toEqual([
      ['notice', 'cherry', ['CCP-4']],
      ['notice', 'crm-vendor', ['CCP-4']],
    ]);

    const cert = done.certificate!;
    expect(cert.body).toMatchObject({
      type: 'dsg.erasure-certificate',
      erasureId: first.erasureId,
      clientId,
      basis: 'consumer-request',
      erased: [{ system: 'booking', category: 'identifiers', action: 'delete', rule: 'CCP-4' }],
      notErased: [],
    });
    expect(cert.body.kept.map((k) => k.rule)).toEqual(['RET-4', 'CCP-4']);
    const { keys } = await ops.retention.signingKeys();
    expect(verifyErasureCertificate(cert, keys)).toBe(true);
    const forged = structuredClone(cert);
    forged.body.erased.push({
      system: 'crm',
      category: 'identifiers',
      action: 'delete',
      rule: 'CCP-4',
    });
    expect(verifyErasureCertificate(forged, keys)).toBe(false);
    const completedEvent = await stack.db.query(
      "SELECT envelope FROM retention.outbox WHERE type = 'erasure.completed'",
    );
    expect(completedEvent.rows.map((r) => r.envelope.data.erasureId)).toContain(first.erasureId);
  });

  it('keeps what a legal hold covers (RET-6)', async () => {
    const clientId = `erase-hold-${run}`;
    await holder.book([{ clientId, startsAt: '2026-09-01T10:00:00Z', name: 'G', phone: '7' }]);
    await holder.declare([clientId]);
    const hold = await ops.retention.holdPlace(
      {
        scope: { subjects: [clientId], systems: ['booking'] },
        reason: 'Subpoena 2026-044: keep all booking data',
      },
      await officer(`hold-${run}`),
    );
    const reply = await ops.retention.erasureRequest(
      { clientId, basis: 'consumer-request', reason: 'Deletion asked at the front desk' },
      await officer(`e2-${run}`),
    );
    expect(reply.decisions).toEqual([
      expect.objectContaining({ category: 'identifiers', decision: 'keep', rule: 'RET-6' }),
    ]);
    expect(reply.decisions[0].reason).toContain(hold.holdId);
    const done = await completed(reply.erasureId);
    expect(done.certificate!.body.erased).toEqual([]);
    expect(
      (
        await pool.query('SELECT 1 FROM reference_holder.appointments WHERE client_id = $1', [
          clientId,
        ])
      ).rowCount,
    ).toBe(1);
  });

  it("erases a child's data collected without parental consent, and refuses that basis for an adult (KID-1, POL-5)", async () => {
    const child = `erase-kid-${run}`;
    const adult = `erase-adult-${run}`;
    await booking.consent.subjectUpsert({ clientId: child, dateOfBirth: '2017-02-02' });
    await booking.consent.subjectUpsert({ clientId: adult, dateOfBirth: '1970-02-02' });
    await holder.book([
      { clientId: child, startsAt: '2026-11-01T10:00:00Z', name: 'H', phone: '8' },
      { clientId: adult, startsAt: '2026-11-01T10:00:00Z', name: 'I', phone: '9' },
    ]);
    await holder.declare([child, adult]);
    const reply = await ops.retention.erasureRequest(
      {
        clientId: child,
        basis: 'child-without-parental-consent',
        reason: 'Signed up on the website at 9; no parental consent recorded',
      },
      await officer(`e3-${run}`),
    );
    expect(decisions(reply)).toEqual([['booking', 'identifiers', 'erase', 'KID-1']]);
    const done = await completed(reply.erasureId);
    expect(done.certificate!.body.erased).toHaveLength(1);

    const before = await stack.db.query('SELECT count(*)::int AS n FROM retention.erasures');
    const refused = await refusal(
      ops.retention.erasureRequest(
        {
          clientId: adult,
          basis: 'child-without-parental-consent',
          reason: 'Wrong basis for an adult',
        },
        await officer(`e4-${run}`),
      ),
    );
    expect(refused.code).toBe(ErrorCodes.VALIDATION_FAILED);
    expect(refused.fields.map((f) => f.field)).toEqual(['basis']);
    const after = await stack.db.query('SELECT count(*)::int AS n FROM retention.erasures');
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });

  it('bad input gets structured errors and writes nothing', async () => {
    const badBasis = await refusal(
      ops.retention.erasureRequest(
        { clientId: 'bad id!', basis: 'because' as 'consumer-request', reason: 'x' },
        await officer(`e5-${run}`),
      ),
    );
    expect(badBasis.code).toBe(ErrorCodes.VALIDATION_FAILED);
    expect(badBasis.fields.map((f) => f.field).sort()).toEqual(['basis', 'clientId', 'reason']);
    const auditor = await refusal(
      ops.retention.erasureRequest(
        { clientId: `x-${run}`, basis: 'consumer-request', reason: 'An auditor may not' },
        { ...(await stack.as(['auditor'], 'retention')), idempotencyKey: `e6-${run}` },
      ),
    );
    expect(auditor.code).toBe(ErrorCodes.FORBIDDEN);
    const unknown = await refusal(
      ops.retention.erasureGet(
        { erasureId: '00000000-0000-4000-8000-000000000000' },
        await stack.as(['auditor'], 'retention'),
      ),
    );
    expect(unknown.code).toBe(ErrorCodes.NOT_FOUND);
    const rows = await stack.db.query(
      'SELECT count(*)::int AS n FROM retention.erasures WHERE client_id = $1',
      [`x-${run}`],
    );
    expect(rows.rows[0].n).toBe(0);
  });
});
