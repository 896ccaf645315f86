import {
  type DsgClient,
  ErrorCodes,
  EVENT_BATCH_HEADER,
  type ReportDisclosureRequest,
  type Role,
} from '@dsg/contracts';
import { Client } from 'pg';
import { refusal } from './support/refusal';
import { RegisterStack } from './support/register-stack';

/**
 * Reported disclosures (ACC-3) and the breach assessments they open (HIP-9), through the
 * register's public NATS API; people act through the gateway's signed assertions.
 */

/**
 * The register's outbox as one row per event: a batch of disclosures is stored as one row per
 * event type (its envelope column an array of EventBatchItem), other events one per row. The
 * register's envelopes are json, kept as written (migration 1766600000000).
 */
const OUTBOX_EVENTS = `(
  SELECT o.seq, coalesce(item->'envelope', o.envelope::jsonb) AS envelope
    FROM disclosure_register.outbox o
    LEFT JOIN LATERAL jsonb_array_elements(
      CASE WHEN o.headers ? '${EVENT_BATCH_HEADER}' THEN o.envelope::jsonb ELSE '[]'::jsonb END) item ON true
   WHERE NOT (o.headers ? '${EVENT_BATCH_HEADER}') OR item IS NOT NULL) events`;

describe('disclosure register: reported disclosures and breach assessments', () => {
  const run = Date.now().toString(36);
  const clientId = `rep-${run}`;
  let stack: RegisterStack;
  let booking: DsgClient;
  let asGateway: DsgClient;
  let owner: Client;
  let key = 0;

  const occurredAt = new Date(Date.now() - 3 * 86_400_000).toISOString();
  const reminders = (change: Partial<ReportDisclosureRequest> = {}): ReportDisclosureRequest => ({
    clientId,
    recipientId: 'crm-vendor',
    purpose: 'appointment-reminders',
    legalBasis: 'health-care-operations',
    categories: ['identifiers.name', 'identifiers.contact'],
    description: 'Reminder list synchronised to the CRM',
    occurredAt,
    source: 'business-associate',
    reportedBy: 'booking-vendor',
    ...change,
  });
  const report = (request: ReportDisclosureRequest, idempotencyKey = `r-${run}-${key++}`) =>
    booking.disclosureRegister.report(request, { idempotencyKey, retries: 0 });
  const as = (roles: Role[], subject?: string) => stack.as(roles, subject);
  const officer = () => as(['privacy_officer']);
  const count = async (sql: string, params: unknown[] = []) =>
    Number((await owner.query(sql, params)).rows[0].n);

  beforeAll(async () => {
    stack = await RegisterStack.start();
    ({ booking, asGateway, owner } = stack);
    await booking.consent.subjectUpsert({ clientId, dateOfBirth: '1984-06-01' });
  }, 90_000);

  afterAll(async () => {
    await stack?.close();
  });

  it('records a business associate’s report of a disclosure within the rules, unflagged (ACC-3)', async () => {
    const assessments = await count(
      'SELECT count(*)::int AS n FROM disclosure_register.breach_assessments',
    );
    const receipt = await report(reminders());
    expect(receipt).toMatchObject({ decision: 'ALLOW', reasons: [], flagged: false });
    expect(receipt.breachAssessmentId).toBeUndefined();
    const { rows } = await owner.query(
      'SELECT leaf FROM disclosure_register.entries WHERE entry_id = $1',
      [receipt.entryId],
    );
    expect(JSON.parse(rows[0].leaf as string)).toMatchObject({
      type: 'reported-disclosure',
      occurredAt,
      source: 'business-associate',
      reportedBy: 'booking-vendor',
      flagged: false,
      recipient: { id: 'crm-vendor' },
    });
    expect(
      await count('SELECT count(*)::int AS n FROM disclosure_register.breach_assessments'),
    ).toBe(assessments);
    // Announced as recorded, with when it happened.
    const { rows: events } = await owner.query(
      `SELECT envelope FROM ${OUTBOX_EVENTS} WHERE envelope->'data'->>'entryId' = $1`,
      [receipt.entryId],
    );
    expect(events.map((e) => (e.envelope as { type: string }).type)).toEqual([
      'disclosure.recorded',
    ]);
    expect((events[0].envelope as { data: { occurredAt: string } }).data.occurredAt).toBe(
      occurredAt,
    );
  });

  it('refuses a report with a bad date or without the reporting business associate, writing nothing (ACC-3)', async () => {
    const entries = await count('SELECT count(*)::int AS n FROM disclosure_register.entries');
    const cases: [Partial<ReportDisclosureRequest>, string][] = [
      [{ reportedBy: undefined }, 'reportedBy'],
      [{ reportedBy: 'cherry' }, 'reportedBy'], // a financing partner, not a business associate
      [{ occurredAt: new Date(Date.now() + 86_400_000).toISOString() }, 'occurredAt'],
      [{ occurredAt: '2026-02-30T10:00:00Z' }, 'occurredAt'],
      [{ source: 'rumour' as never }, 'source'],
    ];
    for (const [change, field] of cases) {
      const err = await refusal(report(reminders(change)));
      expect(err.code).toBe(ErrorCodes.VALIDATION_FAILED);
      expect(err.fields?.map((f) => f.field)).toContain(field);
    }
    expect(await count('SELECT count(*)::int AS n FROM disclosure_register.entries')).toBe(entries);
  });

  it('flags a reported disclosure that fails the checks and opens a breach assessment with 60-day deadlines (HIP-9)', async () => {
    const idempotencyKey = `r-${run}-breach`;
    const impermissible = reminders({
      purpose: 'offers-and-marketing',
      categories: ['identifiers.name', 'health.medications'],
      description: 'Medication list exported with a marketing campaign',
    });
    const receipt = await report(impermissible, idempotencyKey);
    expect(receipt).toMatchObject({ decision: 'DENY', flagged: true });
    expect(receipt.reasons).toContain('HIP-4');
    expect(receipt.breachAssessmentId).toEqual(expect.any(String));

    // A replay returns the same receipt and opens nothing more.
    expect(await report(impermissible, idempotencyKey)).toEqual(receipt);
    expect(
      await count(
        'SELECT count(*)::int AS n FROM disclosure_register.breach_assessments WHERE entry_id = $1',
        [receipt.entryId],
      ),
    ).toBe(1);

    const assessment = await asGateway.disclosureRegister.breachGet(
      { assessmentId: receipt.breachAssessmentId! },
      officer(),
    );
    expect(assessment).toMatchObject({
      entryId: receipt.entryId,
      state: 'open',
      reasons: receipt.reasons,
      overdue: false,
      notifications: [],
      history: [{ action: 'opened', by: 'register' }],
    });
    const days =
      (Date.parse(assessment.individualsDueBy) - Date.parse(assessment.discoveredAt)) / 86_400_000;
    expect(days).toBe(60);
    expect(assessment.regulatorDueBy).toBe(assessment.individualsDueBy);

    const { rows } = await owner.query(
      `SELECT envelope->>'type' AS type FROM ${OUTBOX_EVENTS}
        WHERE envelope->'data'->>'entryId' = $1 ORDER BY seq`,
      [receipt.entryId],
    );
    expect(rows.map((r) => r.type as string).sort()).toEqual([
      'breach-assessment.opened',
      'disclosure.recorded',
    ]);
  });

  it('takes a notifiable breach through review, decision, both notifications and closing, in order (HIP-9)', async () => {
    const { breachAssessmentId: id } = await report(
      reminders({ purpose: 'sale-of-personal-information', description: 'List sold to a broker' }),
    );
    const assessmentId = id!;
    const officerCall = officer();

    // Out of order: deciding or closing an open assessment is refused.
    const decision = {
      assessmentId,
      notifiable: true,
      reasons: 'Contact details disclosed for a sale; no exception applies.',
      factors: {
        natureAndExtent: 'Names and contact details of one client',
        unauthorizedPerson: 'A data broker with no agreement',
        acquiredOrViewed: 'Acquired: the list was delivered',
        mitigation: 'Deletion requested, not confirmed',
      },
    };
    expect(
      (await refusal(asGateway.disclosureRegister.breachDecide(decision, officerCall))).code,
    ).toBe(ErrorCodes.INVALID_STATE);

    expect(
      await asGateway.disclosureRegister.breachReview({ assessmentId }, officerCall),
    ).toMatchObject({ state: 'under-review' });
    const decided = await asGateway.disclosureRegister.breachDecide(decision, officerCall);
    expect(decided).toMatchObject({
      state: 'decided',
      notifiable: true,
      factors: decision.factors,
    });

    // A notifiable breach does not close before the individuals and the regulator are told.
    const early = await refusal(
      asGateway.disclosureRegister.breachClose({ assessmentId }, officerCall),
    );
    expect(early.code).toBe(ErrorCodes.INVALID_STATE);
    expect(early.message).toContain('individuals and regulator');

    const notifiedAt = new Date().toISOString();
    await asGateway.disclosureRegister.breachNotify(
      { assessmentId, audience: 'individuals', notifiedAt, method: 'first-class letter' },
      officerCall,
    );
    expect(
      (
        await refusal(
          asGateway.disclosureRegister.breachNotify(
            { assessmentId, audience: 'individuals', notifiedAt, method: 'again' },
            officerCall,
          ),
        )
      ).code,
    ).toBe(ErrorCodes.INVALID_STATE);
    await asGateway.disclosureRegister.breachNotify(
      { assessmentId, audience: 'regulator', notifiedAt, method: 'HHS breach portal' },
      officerCall,
    );
    const closed = await asGateway.disclosureRegister.breachClose(
      { assessmentId, note: 'Both notified within the deadline' },
      officerCall,
    );
    expect(closed.state).toBe('closed');
    expect(closed.history.map((h) => h.action)).toEqual([
      'opened',
      'review-started',
      'decided-notifiable',
      'notified',
      'notified',
      'closed',
    ]);
    expect(closed.history.slice(1).every((h) => h.by === 'officer-1')).toBe(true);
    expect(closed.notifications.map((n) => n.audience)).toEqual(['individuals', 'regulator']);
    expect(
      (await refusal(asGateway.disclosureRegister.breachReview({ assessmentId }, officerCall)))
        .code,
    ).toBe(ErrorCodes.INVALID_STATE);

    const { rows } = await owner.query(
      `SELECT envelope->'data' AS data FROM disclosure_register.outbox
        WHERE type = 'breach-assessment.decided' AND envelope->'data'->>'assessmentId' = $1`,
      [assessmentId],
    );
    expect(rows).toEqual([{ data: expect.objectContaining({ notifiable: true }) }]);
  });

  it('closes a breach decided not notifiable, and refuses a notification for it (HIP-9)', async () => {
    const { breachAssessmentId } = await report(
      reminders({ recipientId: 'data-broker', description: 'Sent to an unknown address' }),
    );
    const assessmentId = breachAssessmentId!;
    await asGateway.disclosureRegister.breachReview({ assessmentId }, officer());
    await asGateway.disclosureRegister.breachDecide(
      {
        assessmentId,
        notifiable: false,
        reasons: 'Returned unopened; low probability of compromise shown.',
        factors: {
          natureAndExtent: 'Name and e-mail of one client',
          unauthorizedPerson: 'Mail server of an unknown domain; bounced',
          acquiredOrViewed: 'Not acquired: delivery failed',
          mitigation: 'Address corrected at the source',
        },
      },
      officer(),
    );
    const refused = await refusal(
      asGateway.disclosureRegister.breachNotify(
        {
          assessmentId,
          audience: 'individuals',
          notifiedAt: new Date().toISOString(),
          method: 'letter',
        },
        officer(),
      ),
    );
    expect(refused.code).toBe(ErrorCodes.INVALID_STATE);
    const closed = await asGateway.disclosureRegister.breachClose({ assessmentId }, officer());
    expect(closed).toMatchObject({ state: 'closed', notifiable: false, overdue: false });
  });

  it('lets auditors read assessments but only privacy officers act, and only through the gateway (HIP-9, POL-7)', async () => {
    const { breachAssessmentId } = await report(
      reminders({ purpose: 'offers-and-marketing', categories: ['health.history'] }),
    );
    const assessmentId = breachAssessmentId!;
    const listed = await asGateway.disclosureRegister.breachList(
      { state: 'open' },
      as(['auditor'], 'auditor-1'),
    );
    expect(listed.assessments.map((a) => a.assessmentId)).toContain(assessmentId);
    expect(listed.assessments.every((a) => a.state === 'open')).toBe(true);
    expect(
      (
        await refusal(
          asGateway.disclosureRegister.breachReview({ assessmentId }, as(['auditor'], 'auditor-1')),
        )
      ).code,
    ).toBe(ErrorCodes.FORBIDDEN);
    // Without an assertion, or from another NATS user than the gateway, nobody acts.
    expect((await refusal(asGateway.disclosureRegister.breachList({}, { retries: 0 }))).code).toBe(
      ErrorCodes.UNAUTHENTICATED,
    );
    expect(
      (await refusal(booking.disclosureRegister.breachReview({ assessmentId }, officer()))).code,
    ).toBe(ErrorCodes.UNAUTHENTICATED);
    // Bad input is a validation error naming the field.
    const bad = await refusal(
      asGateway.disclosureRegister.breachGet({ assessmentId: 'not-a-uuid' }, officer()),
    );
    expect(bad.code).toBe(ErrorCodes.VALIDATION_FAILED);
    expect(bad.fields?.[0].field).toBe('assessmentId');
    const state = await asGateway.disclosureRegister.breachGet({ assessmentId }, officer());
    expect(state.state).toBe('open');
  });
});
