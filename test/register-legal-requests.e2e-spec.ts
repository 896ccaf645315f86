import {
  type DsgClient,
  ErrorCodes,
  type LegalDisclosureItem,
  type LegalRequestIntake,
  type Role,
} from '@dsg/contracts';
import { Client } from 'pg';
import { refusal } from './support/refusal';
import { RegisterStack } from './support/register-stack';

/**
 * Legal requests (HIP-6, CMI-3) through the register's public NATS API, as the gateway carries a
 * privacy officer's assertion: validation on intake, review, fulfilment into register entries
 * linked to the request, and the register refusing law-enforcement disclosures made around it.
 */
describe('disclosure register: legal requests', () => {
  const run = Date.now().toString(36);
  const subjects = [`lr-a-${run}`, `lr-b-${run}`];
  let stack: RegisterStack;
  let booking: DsgClient;
  let asGateway: DsgClient;
  let owner: Client;
  let key = 0;

  const as = (roles: Role[], subject?: string) => stack.as(roles, subject);
  const officer = (idempotencyKey = `lr-${run}-${key++}`) => ({
    ...as(['privacy_officer']),
    idempotencyKey,
  });
  const subpoena = (change: Partial<LegalRequestIntake> = {}): LegalRequestIntake => ({
    requesterKind: 'law-enforcement',
    agency: 'Los Angeles Police Department',
    official: { name: 'Det. A. Example', title: 'Detective' },
    instrument: 'judicial-subpoena',
    reference: `SUB-${run}-${key}`,
    recipientId: 'law-enforcement',
    scope: { subjects: [subjects[0]], categories: ['identifiers', 'health.history'] },
    ...change,
  });
  const intake = (request: LegalRequestIntake, idempotencyKey?: string) =>
    asGateway.disclosureRegister.legalRequestIntake(request, officer(idempotencyKey));
  const fulfil = (requestId: string, disclosures: LegalDisclosureItem[], idempotencyKey?: string) =>
    asGateway.disclosureRegister.legalRequestFulfil(
      { requestId, disclosures },
      officer(idempotencyKey),
    );

  beforeAll(async () => {
    stack = await RegisterStack.start();
    ({ booking, asGateway, owner } = stack);
    for (const clientId of subjects) {
      await booking.consent.subjectUpsert({ clientId, dateOfBirth: '1979-03-04' });
    }
  }, 90_000);

  afterAll(async () => {
    await stack?.close();
  });

  it('accepts a judicial subpoena (HIP-6, CMI-3) and records its fulfilment as register entries linked to it', async () => {
    const request = await intake(subpoena());
    expect(request).toMatchObject({ state: 'accepted', identifyOrLocate: false });
    expect(request.validation).toMatchObject({ hipaaAllows: true, cmiaAllows: true });
    expect(request.history.map((h) => h.action)).toEqual(['received', 'accepted']);
    expect(request.history[0].by).toBe('officer-1');

    const fulfilled = await fulfil(
      request.requestId,
      [
        {
          clientId: subjects[0],
          categories: ['identifiers.name', 'health.history'],
          description: 'Medical history produced under subpoena',
        },
      ],
      `fulfil-${run}`,
    );
    expect(fulfilled.receipts).toHaveLength(1);
    expect(fulfilled.receipts[0]).toMatchObject({ decision: 'ALLOW', reasons: [] });
    expect(fulfilled.request.state).toBe('fulfilled');
    expect(fulfilled.request.disclosures).toEqual([
      {
        entryId: fulfilled.receipts[0].entryId,
        position: fulfilled.receipts[0].position,
        decision: 'ALLOW',
      },
    ]);
    // The entry names the request in what is hashed.
    const { rows } = await owner.query(
      'SELECT leaf, details FROM disclosure_register.entries WHERE entry_id = $1',
      [fulfilled.receipts[0].entryId],
    );
    expect(JSON.parse(rows[0].leaf as string)).toMatchObject({
      legalBasis: 'law-enforcement',
      legalRequestRef: request.requestId,
      purpose: 'law-enforcement',
      recipient: { id: 'law-enforcement' },
    });
    expect(rows[0].details).toMatchObject({ actingPerson: 'officer-1', clientId: subjects[0] });

    // A retry with the same key records nothing twice.
    const again = await fulfil(
      request.requestId,
      [
        {
          clientId: subjects[0],
          categories: ['identifiers.name', 'health.history'],
          description: 'Medical history produced under subpoena',
        },
      ],
      `fulfil-${run}`,
    );
    expect(again.receipts[0].entryId).toBe(fulfilled.receipts[0].entryId);
    expect(again.request.disclosures).toHaveLength(1);
    expect(again.request.history.filter((h) => h.action === 'fulfilled')).toHaveLength(1);
  });

  it('refuses an administrative request missing one attestation, naming it (HIP-6)', async () => {
    const request = await intake(
      subpoena({
        instrument: 'administrative-request',
        attestations: {
          relevantAndMaterial: true,
          specificAndLimited: true,
          deidentifiedInsufficient: false,
        },
      }),
    );
    expect(request.state).toBe('refused');
    expect(request.validation.hipaaAllows).toBe(false);
    expect(request.validation.cmiaAllows).toBe(false);
    const hip6 = request.validation.findings.find((f) => f.rule === 'HIP-6');
    expect(hip6?.detail).toContain('de-identified information could not reasonably be used');
    expect(hip6?.detail).not.toContain('relevant and material');
    const err = await refusal(
      fulfil(request.requestId, [
        { clientId: subjects[0], categories: ['identifiers.name'], description: 'x x x' },
      ]),
    );
    expect(err.code).toBe(ErrorCodes.INVALID_STATE);
  });

  it('sends an administrative request with all three attestations to review under CMIA, never to fulfilment (CMI-3); a privacy officer narrows it', async () => {
    const request = await intake(
      subpoena({
        instrument: 'administrative-request',
        attestations: {
          relevantAndMaterial: true,
          specificAndLimited: true,
          deidentifiedInsufficient: true,
        },
        scope: { subjects, categories: ['identifiers', 'health'] },
      }),
    );
    expect(request.state).toBe('in-review');
    expect(request.validation).toMatchObject({ hipaaAllows: true, cmiaAllows: false });
    expect(request.validation.findings.find((f) => f.rule === 'CMI-3')?.detail).toContain(
      'no equivalent of the administrative-request path',
    );
    // In the review queue.
    const queue = await asGateway.disclosureRegister.legalRequestList(
      { state: 'in-review' },
      as(['auditor']),
    );
    expect(queue.requests.map((r) => r.requestId)).toContain(request.requestId);

    // Not fulfilled while in review, nor disclosed around the review.
    const early = await refusal(
      fulfil(request.requestId, [
        { clientId: subjects[0], categories: ['identifiers.name'], description: 'Name only' },
      ]),
    );
    expect(early.code).toBe(ErrorCodes.INVALID_STATE);
    expect(early.message).toContain('CMI-3');
    const around = await booking.disclosureRegister.disclose(
      {
        clientId: subjects[0],
        recipientId: 'law-enforcement',
        purpose: 'law-enforcement',
        legalBasis: 'law-enforcement',
        legalRequestRef: request.requestId,
        categories: ['identifiers.name'],
        description: 'Name sent before review',
      },
      { idempotencyKey: `around-${run}`, retries: 0 },
    );
    expect(around).toMatchObject({ decision: 'DENY', reasons: ['CMI-3'] });

    // Only a privacy officer decides; narrowing stays within what was asked.
    const auditor = await refusal(
      asGateway.disclosureRegister.legalRequestDecide(
        { requestId: request.requestId, decision: 'approve', reasons: 'Looks fine to me.' },
        as(['auditor']),
      ),
    );
    expect(auditor.code).toBe(ErrorCodes.FORBIDDEN);
    const wider = await refusal(
      asGateway.disclosureRegister.legalRequestDecide(
        {
          requestId: request.requestId,
          decision: 'narrow',
          reasons: 'Counsel advises names only.',
          scope: { subjects, categories: ['identifiers', 'payment'] },
        },
        officer(),
      ),
    );
    expect(wider.code).toBe(ErrorCodes.VALIDATION_FAILED);
    expect(wider.fields).toEqual([expect.objectContaining({ field: 'scope.categories' })]);

    const narrowed = await asGateway.disclosureRegister.legalRequestDecide(
      {
        requestId: request.requestId,
        decision: 'narrow',
        reasons: 'Counsel advises names of the first subject only.',
        scope: { subjects: [subjects[0]], categories: ['identifiers.name'] },
      },
      officer(),
    );
    expect(narrowed).toMatchObject({
      state: 'approved',
      scope: { subjects: [subjects[0]], categories: ['identifiers.name'] },
      decisionReasons: 'Counsel advises names of the first subject only.',
    });
    expect(narrowed.history.map((h) => h.action)).toEqual(['received', 'in-review', 'narrowed']);

    // Outside the narrowed scope: refused, nothing recorded.
    const outside = await refusal(
      fulfil(request.requestId, [
        {
          clientId: subjects[1],
          categories: ['identifiers.name'],
          description: 'Second subject',
        },
        { clientId: subjects[0], categories: ['health.history'], description: 'History' },
      ]),
    );
    expect(outside.code).toBe(ErrorCodes.VALIDATION_FAILED);
    expect(outside.fields?.map((d) => d.field)).toEqual([
      'disclosures[0].clientId',
      'disclosures[1].categories',
    ]);
    expect(
      (
        await asGateway.disclosureRegister.legalRequestGet(
          { requestId: request.requestId },
          as(['auditor']),
        )
      ).disclosures,
    ).toHaveLength(0);

    const done = await fulfil(request.requestId, [
      { clientId: subjects[0], categories: ['identifiers.name'], description: 'Name' },
    ]);
    expect(done.receipts[0]).toMatchObject({ decision: 'ALLOW' });
  });

  it('keeps a denied request from fulfilment, and refuses an oral statement as an instrument (HIP-6)', async () => {
    const request = await intake(
      subpoena({
        instrument: 'administrative-request',
        attestations: {
          relevantAndMaterial: true,
          specificAndLimited: true,
          deidentifiedInsufficient: true,
        },
      }),
    );
    const denied = await asGateway.disclosureRegister.legalRequestDecide(
      { requestId: request.requestId, decision: 'deny', reasons: 'CMIA gives no basis for this.' },
      officer(),
    );
    expect(denied.state).toBe('denied');
    const again = await refusal(
      asGateway.disclosureRegister.legalRequestDecide(
        {
          requestId: request.requestId,
          decision: 'approve',
          reasons: 'Changed my mind after all.',
        },
        officer(),
      ),
    );
    expect(again.code).toBe(ErrorCodes.INVALID_STATE);

    const oral = await intake(subpoena({ instrument: 'oral-statement' }));
    expect(oral.state).toBe('refused');
    expect(oral.validation.findings.find((f) => f.rule === 'HIP-6')?.detail).toContain(
      'no instrument for a disclosure',
    );
  });

  it('cuts an identify-or-locate request to the 512(f)(2) fields (HIP-6)', async () => {
    const request = await intake(
      subpoena({
        instrument: 'warrant',
        identifyOrLocate: true,
        scope: { subjects: [subjects[0]], categories: ['identifiers', 'health.history'] },
      }),
    );
    expect(request.state).toBe('accepted');
    expect(request.requestedScope.categories).toEqual(['identifiers', 'health.history']);
    expect(request.scope.categories).toEqual([
      'identifiers.name',
      'identifiers.contact.address',
      'identifiers.demographics.date-of-birth',
    ]);
    expect(
      request.validation.findings.some(
        (f) => f.rule === 'HIP-6' && f.detail.includes('not health.history'),
      ),
    ).toBe(true);
    const err = await refusal(
      fulfil(request.requestId, [
        {
          clientId: subjects[0],
          categories: ['identifiers.contact.phone'],
          description: 'Phone',
        },
      ]),
    );
    expect(err.fields).toEqual([expect.objectContaining({ field: 'disclosures[0].categories' })]);
  });

  it('denies a law-enforcement disclosure that answers no legal request that may be fulfilled (HIP-6)', async () => {
    const base = {
      clientId: subjects[1],
      recipientId: 'law-enforcement',
      purpose: 'law-enforcement',
      legalBasis: 'law-enforcement' as const,
      categories: ['identifiers.name'],
      description: 'Name given over the phone',
    };
    const none = await booking.disclosureRegister.disclose(base, {
      idempotencyKey: `le-none-${run}`,
      retries: 0,
    });
    expect(none).toMatchObject({ decision: 'DENY', reasons: ['HIP-6'] });
    const unknown = await booking.disclosureRegister.disclose(
      { ...base, legalRequestRef: '00000000-0000-4000-8000-000000000000' },
      { idempotencyKey: `le-unknown-${run}`, retries: 0 },
    );
    expect(unknown).toMatchObject({ decision: 'DENY', reasons: ['HIP-6'] });
    // An accepted request, but for another subject.
    const other = await intake(subpoena());
    const outOfScope = await booking.disclosureRegister.disclose(
      { ...base, legalRequestRef: other.requestId },
      { idempotencyKey: `le-scope-${run}`, retries: 0 },
    );
    expect(outOfScope).toMatchObject({ decision: 'DENY', reasons: ['HIP-6'] });
    // To a law-enforcement recipient on another basis: the same rule.
    const otherBasis = await booking.disclosureRegister.disclose(
      { ...base, purpose: 'legal-obligations', legalBasis: 'required-by-law' },
      { idempotencyKey: `le-basis-${run}`, retries: 0 },
    );
    expect(otherBasis.decision).toBe('DENY');
    expect(otherBasis.reasons).toContain('HIP-6');
  });

  it('answers a replayed intake with the same request and refuses the key for another; only privacy officers record requests', async () => {
    const first = await intake(subpoena({ reference: `REPLAY-${run}` }), `replay-${run}`);
    const replay = await intake(subpoena({ reference: `REPLAY-${run}` }), `replay-${run}`);
    expect(replay.requestId).toBe(first.requestId);
    const conflict = await refusal(
      intake(subpoena({ reference: `OTHER-${run}` }), `replay-${run}`),
    );
    expect(conflict.code).toBe(ErrorCodes.IDEMPOTENCY_CONFLICT);

    const auditor = await refusal(
      asGateway.disclosureRegister.legalRequestIntake(subpoena(), {
        ...as(['auditor']),
        idempotencyKey: `aud-${run}`,
      }),
    );
    expect(auditor.code).toBe(ErrorCodes.FORBIDDEN);
    const service = await refusal(
      booking.disclosureRegister.legalRequestIntake(subpoena(), {
        idempotencyKey: `svc-${run}`,
        retries: 0,
      }),
    );
    expect(service.code).toBe(ErrorCodes.UNAUTHENTICATED);
  });

  it('refuses bad input with the field: an unreal date, a recipient that is not law enforcement, attestations on a warrant', async () => {
    const err = await refusal(
      intake(
        subpoena({
          instrument: 'warrant',
          recipientId: 'cherry',
          receivedAt: '2026-02-30T10:00:00Z',
          attestations: {
            relevantAndMaterial: true,
            specificAndLimited: true,
            deidentifiedInsufficient: true,
          },
          scope: {
            subjects: [subjects[0]],
            categories: ['identifiers'],
            from: '2026-05-01T00:00:00Z',
            to: '2026-04-01T00:00:00Z',
          },
        }),
      ),
    );
    expect(err.code).toBe(ErrorCodes.VALIDATION_FAILED);
    expect(err.fields?.map((d) => d.field).sort()).toEqual([
      'attestations',
      'receivedAt',
      'recipientId',
      'scope.to',
    ]);
    const unknownCategory = await refusal(
      intake(
        subpoena({ scope: { subjects: [subjects[0]], categories: ['identifiers.shoe-size'] } }),
      ),
    );
    expect(unknownCategory.fields).toEqual([
      expect.objectContaining({ field: 'scope.categories', constraint: 'isPolicyCategory' }),
    ]);
    const shape = await refusal(
      intake({ ...subpoena(), instrument: 'fax' as never, official: {} as never }),
    );
    expect(shape.code).toBe(ErrorCodes.VALIDATION_FAILED);
    expect(shape.fields?.map((d) => d.field)).toEqual(
      expect.arrayContaining(['instrument', 'official.name', 'official.title']),
    );
    const [{ n }] = (
      await owner.query(
        'SELECT count(*)::int AS n FROM disclosure_register.legal_requests WHERE recipient_id = $1',
        ['cherry'],
      )
    ).rows;
    expect(n).toBe(0);
  });
});
