import {
  type DsgClient,
  ErrorCodes,
  type FulfilRightsRequest,
  type RightsRequestCase,
  type SubmitRightsRequest,
} from '@dsg/contracts';
import { SMTPServer } from 'smtp-server';
import type { BookingHolder } from '../apps/reference-holder/src/booking-holder';
import { PrivateStack } from './support/private-stack';
import { freePort, type ServiceProcess } from './support/service-process';
import { refusal } from './support/refusal';
import { waitUntil } from './support/wait';

const DAY = 86_400_000;

/**
 * Rights requests (issue 8) through the consent service's public API, end to end with the
 * register, retention, the reference holder and a client system answering on NATS: intake of
 * every right (POL-4, CCP-1, HIP-8), verification (CCP-3), deadlines in business days (CCP-2,
 * ACC-5), fulfilment through the other services (CCP-2, CCP-4, ACC-6, RET-6, ACC-8), duplicates,
 * and the request log with its export and figures (CCP-7).
 */
describe('consent: rights requests', () => {
  const run = Date.now().toString(36);
  let stack: PrivateStack;
  let booking: DsgClient;
  let ops: DsgClient;
  let holder: BookingHolder;
  const services: ServiceProcess[] = [];
  let smtp: SMTPServer;
  /** Mails the test's SMTP server took: recipients and subject line. */
  const mails: { to: string[]; text: string }[] = [];
  let seq = 0;

  const officer = async () => ({
    ...(await stack.as(['privacy_officer'], 'consent', 'officer-8')),
    idempotencyKey: `rr-${run}-${seq++}`,
  });
  const auditor = () => stack.as(['auditor'], 'consent', 'auditor-1');
  const submit = async (request: SubmitRightsRequest) =>
    ops.consent.rightsSubmit(request, await officer());
  const subject = async (name: string, change: Record<string, unknown> = {}) => {
    const clientId = `${name}-${run}`;
    await booking.consent.subjectUpsert({
      clientId,
      dateOfBirth: '1988-04-12',
      identifiers: [{ kind: 'email', value: `${clientId}@example.test` }],
      ...change,
    });
    // The booking system knows the client's last visit (a point matched there, CCP-3).
    await holder.book([
      { clientId, startsAt: '2026-10-01T18:00:00Z', name: 'Test Person', phone: '555-0199' },
    ]);
    return clientId;
  };
  const verifyAll = async (r: RightsRequestCase) =>
    ops.consent.rightsVerify(
      {
        requestId: r.requestId,
        points: {
          email: `${r.clientId}@example.test`,
          dateOfBirth: '1988-04-12',
          lastVisit: '2026-10-01',
        },
        signedDeclaration: true,
      },
      await officer(),
    );
  /** Fulfils a request as the privacy officer (ACC-9: with the title). */
  const fulfil = async (r: RightsRequestCase, change: Partial<FulfilRightsRequest> = {}) =>
    ops.consent.rightsFulfil(
      { requestId: r.requestId, staffTitle: 'Privacy Officer', ...change },
      await officer(),
    );
  const answered = async (requestId: string) => {
    let current: RightsRequestCase | undefined;
    expect(
      await waitUntil(async () => {
        current = await ops.consent.rightsGet({ requestId }, await auditor());
        return current.answeredAt !== undefined;
      }, 20_000),
    ).toBe(true);
    return current!;
  };

  beforeAll(async () => {
    stack = await PrivateStack.create('rights', [
      'gateway',
      'consent',
      'disclosure-register',
      'retention',
    ]);
    // A real SMTP server for the notices (the mechanism itself: test/consent-notices).
    const smtpPort = await freePort();
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      logger: false,
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          mails.push({
            to: session.envelope.rcptTo.map((r) => r.address),
            text: Buffer.concat(chunks).toString('utf8'),
          });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(smtpPort, '127.0.0.1', resolve));
    await stack.start('gateway');
    services.push(
      await stack.start('consent', {
        RIGHTS_CHECK_MS: '300',
        NOTICE_POLL_MS: '100',
        SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
        PRIVACY_OFFICER_EMAIL: 'privacy-office@spa.example',
      }),
      await stack.start('disclosure-register'),
      await stack.start('retention', { SWEEP_EVERY_MS: '0', PURGE_RETRY_CHECK_MS: '100' }),
    );
    booking = await stack.client('booking');
    ops = await stack.client('gateway');
    ({ holder } = await stack.referenceHolder(booking));
    // The reference holder answers as the spa's client system (the provider interface).
    holder.serveClientSystem();
    await holder.takeCorrections();
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
    await new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()));
  });

  it('takes every right the policy promises, from every channel, each with its verification level and deadlines (POL-4, CCP-1, HIP-8, CCP-3)', async () => {
    const clientId = await subject('every');
    const expected = {
      know: ['two-points', 45],
      access: ['three-points-and-declaration', 15],
      delete: ['three-points-and-declaration', 45],
      correct: ['three-points-and-declaration', 45],
      'opt-out': ['none', undefined],
      'limit-sensitive': ['none', undefined],
      accounting: ['three-points-and-declaration', 60],
      restriction: ['two-points', 45],
    } as const;
    const channels = ['email', 'phone', 'web-form', 'front-desk'] as const;
    let i = 0;
    for (const [right, [level, days]] of Object.entries(expected)) {
      const received = new Date('2026-11-02T17:00:00Z'); // a Monday morning in Los Angeles
      const r = await submit({
        clientId,
        right: right as SubmitRightsRequest['right'],
        channel: channels[i++ % 4],
        requester: 'subject',
        receivedAt: received.toISOString(),
        ...(right === 'correct'
          ? { correction: { categories: ['identifiers.name'], description: 'Name misspelt' } }
          : {}),
        ...(right === 'restriction'
          ? { restriction: { kind: 'confidential-channel' as const, channel: 'e-mail only' } }
          : {}),
      });
      expect(r.verificationLevel).toBe(level);
      if (days !== undefined) {
        expect(Date.parse(r.deadlines.answerBy) - received.getTime()).toBeGreaterThan(
          (days - 1) * DAY,
        );
        expect(Date.parse(r.deadlines.answerBy) - received.getTime()).toBeLessThan(
          (days + 1) * DAY,
        );
      }
      expect(r.deadlines.extensionAllowed).toBe(
        ['know', 'delete', 'correct', 'accounting'].includes(right),
      );
    }
    const log = await ops.consent.requestList({ clientId });
    expect(log.requests.map((r) => r.right).sort()).toEqual(Object.keys(expected).sort());
  });

  it('refuses bad input by field on every rights operation, writing nothing (CCP-7)', async () => {
    const clientId = await subject('bad');
    const count = async () =>
      (await stack.db.query('SELECT count(*)::int AS n FROM consent.rights_requests')).rows[0]
        .n as number;
    const before = await count();
    const smuggled = await refusal(
      submit({
        clientId,
        right: 'know',
        channel: 'email',
        requester: 'subject',
        smuggled: 1,
      } as never),
    );
    expect(smuggled.fields?.map((f) => f.field)).toContain('smuggled');
    const wrong = await refusal(
      submit({ clientId, right: 'sell-my-data', channel: 'fax', requester: 'subject' } as never),
    );
    expect(wrong.fields?.map((f) => f.field).sort()).toEqual(['channel', 'right']);
    const future = await refusal(
      submit({
        clientId,
        right: 'know',
        channel: 'email',
        requester: 'subject',
        receivedAt: new Date(Date.now() + 2 * DAY).toISOString(),
      }),
    );
    expect(future.fields).toEqual([expect.objectContaining({ field: 'receivedAt' })]);
    const noCorrection = await refusal(
      submit({ clientId, right: 'correct', channel: 'email', requester: 'subject' }),
    );
    expect(noCorrection.fields).toEqual([expect.objectContaining({ field: 'correction' })]);
    // A receipt whose deadlines the holiday calendar cannot count is refused by field.
    const uncovered = await refusal(
      submit({
        clientId,
        right: 'know',
        channel: 'email',
        requester: 'subject',
        receivedAt: '2024-06-03T17:00:00Z',
      }),
    );
    expect(uncovered.fields).toEqual([
      expect.objectContaining({ field: 'receivedAt', constraint: 'holidayCalendar' }),
    ]);
    const unknown = await refusal(
      submit({ clientId: `nobody-${run}`, right: 'know', channel: 'email', requester: 'subject' }),
    );
    expect(unknown.code).toBe(ErrorCodes.NOT_FOUND);
    const noKey = await refusal(
      ops.consent.rightsSubmit(
        { clientId, right: 'know', channel: 'email', requester: 'subject' },
        { ...(await stack.as(['privacy_officer'], 'consent', 'officer-8')), idempotencyKey: '' },
      ),
    );
    expect(noKey.code).toBe(ErrorCodes.VALIDATION_FAILED);
    const notUuid = await refusal(
      ops.consent.rightsVerify({ requestId: 'nope', points: {} }, await officer()),
    );
    expect(notUuid.fields).toEqual([expect.objectContaining({ field: 'requestId' })]);
    const badPoint = await refusal(
      ops.consent.rightsVerify(
        {
          requestId: '00000000-0000-4000-8000-000000000000',
          points: { dateOfBirth: '1990-13-40' },
        },
        await officer(),
      ),
    );
    expect(badPoint.fields?.map((f) => f.field)).toEqual(['points.dateOfBirth']);
    const auditorWrites = await refusal(
      ops.consent.rightsDeny(
        { requestId: '00000000-0000-4000-8000-000000000000', basis: 'Not allowed to' },
        await auditor(),
      ),
    );
    expect(auditorWrites.code).toBe(ErrorCodes.FORBIDDEN);
    const period = await refusal(
      ops.consent.requestLogFigures(
        { from: '2026-12-01T00:00:00Z', to: '2026-11-01T00:00:00Z' },
        await auditor(),
      ),
    );
    expect(period.fields).toEqual([expect.objectContaining({ field: 'to' })]);
    expect(await count()).toBe(before);
  });

  it('confirms receipt by a notice delivered to the requester, and records when it was delivered (CCP-2)', async () => {
    const clientId = await subject('confirm');
    const r = await submit({
      clientId,
      right: 'know',
      channel: 'email',
      requester: 'subject',
      replyTo: `${clientId}@reply.example`,
    });
    expect(r.confirmedAt).toBeUndefined();
    let confirmed: RightsRequestCase | undefined;
    expect(
      await waitUntil(async () => {
        confirmed = await ops.consent.rightsGet({ requestId: r.requestId }, await auditor());
        return confirmed.confirmedAt !== undefined;
      }, 10_000),
    ).toBe(true);
    expect(Date.parse(confirmed!.confirmedAt!)).toBeLessThanOrEqual(
      Date.parse(r.deadlines.confirmBy),
    );
    const mail = mails.filter((m) => m.to.includes(`${clientId}@reply.example`));
    expect(mail).toHaveLength(1);
    expect(mail[0].text).toContain('We received your privacy request');
    const [notice] = (await ops.consent.noticesList({ ref: r.requestId }, await auditor())).notices;
    expect(notice).toMatchObject({ type: 'request-confirmation', state: 'sent', rule: 'CCP-2' });
  });

  it('counts business days without a weekend and the Thanksgiving holidays, and calendar days in Los Angeles (CCP-2)', async () => {
    const clientId = await subject('days');
    const r = await submit({
      clientId,
      right: 'know',
      channel: 'email',
      requester: 'subject',
      receivedAt: '2026-11-25T18:00:00Z', // Wednesday before Thanksgiving, 10:00 in Los Angeles
    });
    // 26, 27 Nov: state holidays; 28, 29: a weekend; the tenth business day is Friday 11 Dec.
    expect(r.deadlines.confirmBy).toBe('2026-12-12T07:59:59.999Z');
    // 45 calendar days: 9 January 2027, end of the day in Los Angeles.
    expect(r.deadlines.answerBy).toBe('2027-01-10T07:59:59.999Z');
  });

  it('allows one extension with reasons before the deadline and refuses one after it (CCP-2, ACC-5)', async () => {
    const clientId = await subject('extend');
    const late = await submit({
      clientId,
      right: 'know',
      channel: 'phone',
      requester: 'subject',
      receivedAt: new Date(Date.now() - 50 * DAY).toISOString(),
    });
    expect(late.overdue).toBe(true);
    const refused = await refusal(
      ops.consent.rightsExtend(
        { requestId: late.requestId, reasons: 'Records are spread over three systems' },
        await officer(),
      ),
    );
    expect(refused.code).toBe(ErrorCodes.VALIDATION_FAILED);
    expect(refused.fields).toEqual([
      expect.objectContaining({ field: 'requestId', constraint: 'CCP-2' }),
    ]);

    const accounting = await submit({
      clientId,
      right: 'accounting',
      channel: 'email',
      requester: 'subject',
      receivedAt: new Date(Date.now() - 10 * DAY).toISOString(),
    });
    const extended = await ops.consent.rightsExtend(
      { requestId: accounting.requestId, reasons: 'A business associate has not sent its log yet' },
      await officer(),
    );
    expect(
      Date.parse(extended.deadlines.answerBy) - Date.parse(accounting.deadlines.answerBy),
    ).toBeGreaterThan(29 * DAY);
    expect(extended.deadlines.extensionReasons).toContain('business associate');
    const twice = await refusal(
      ops.consent.rightsExtend(
        { requestId: accounting.requestId, reasons: 'Once more, for no good reason' },
        await officer(),
      ),
    );
    expect(twice.code).toBe(ErrorCodes.INVALID_STATE);
    const notices = await ops.consent.noticesList({ ref: accounting.requestId }, await auditor());
    expect(notices.notices.map((n) => n.type).sort()).toEqual([
      'request-confirmation',
      'request-extension',
    ]);
    // Access in California has no extension (HIP-8: 15 days).
    const access = await submit({
      clientId,
      right: 'access',
      channel: 'email',
      requester: 'subject',
    });
    expect(
      (
        await refusal(
          ops.consent.rightsExtend(
            { requestId: access.requestId, reasons: 'Need more time please' },
            await officer(),
          ),
        )
      ).code,
    ).toBe(ErrorCodes.INVALID_STATE);
  });

  it('takes a guardian acting for a minor, and refuses an unlinked guardian and an agent without signed permission (CCP-3, KID-2)', async () => {
    const parent = await subject('parent');
    const minor = await subject('minor', { dateOfBirth: '2012-06-01', guardians: [parent] });
    const stranger = await subject('stranger');
    const ok = await submit({
      clientId: minor,
      right: 'know',
      channel: 'front-desk',
      requester: 'guardian',
      guardianId: parent,
    });
    expect(ok.requester).toBe('guardian');
    const unlinked = await refusal(
      submit({
        clientId: minor,
        right: 'access',
        channel: 'front-desk',
        requester: 'guardian',
        guardianId: stranger,
      }),
    );
    expect(unlinked.fields).toEqual([expect.objectContaining({ field: 'guardianId' })]);
    const agent = await refusal(
      submit({
        clientId: stranger,
        right: 'delete',
        channel: 'email',
        requester: 'authorised-agent',
      }),
    );
    expect(agent.fields).toEqual([
      expect.objectContaining({ field: 'agentPermission', constraint: 'CCP-3' }),
    ]);
    const unsigned = await refusal(
      submit({
        clientId: stranger,
        right: 'delete',
        channel: 'email',
        requester: 'authorised-agent',
        agentPermission: {
          agentName: 'Privacy Agents LLC',
          signed: false,
          signedOn: '2026-11-20',
          documentRef: 'doc-1',
        },
      }),
    );
    expect(unsigned.fields).toEqual([expect.objectContaining({ field: 'agentPermission' })]);
    // Nothing was logged for the refused ones.
    expect((await ops.consent.requestList({ clientId: stranger })).requests).toEqual([]);
  });

  it('verifies at the level the right needs, from the keyed hashes, the date of birth and the client system, keeping no values (CCP-3)', async () => {
    const clientId = await subject('verify');
    const r = await submit({ clientId, right: 'know', channel: 'email', requester: 'subject' });
    expect(r.state).toBe('awaiting-verification');
    const one = await ops.consent.rightsVerify(
      {
        requestId: r.requestId,
        points: { email: `${clientId}@example.test`, dateOfBirth: '1999-01-01' },
      },
      await officer(),
    );
    expect(one.state).toBe('awaiting-verification');
    expect(one.matchedPoints).toEqual(['email']);
    const two = await ops.consent.rightsVerify(
      {
        requestId: r.requestId,
        points: { email: `${clientId}@example.test`, lastVisit: '2026-10-01' },
      },
      await officer(),
    );
    expect(two.state).toBe('in-progress');
    expect(two.matchedPoints).toEqual(['email', 'lastVisit']);
    const [row] = (
      await stack.db.query(
        'SELECT row_to_json(r)::text AS j FROM consent.rights_requests r WHERE id = $1',
        [r.requestId],
      )
    ).rows as { j: string }[];
    expect(row.j).not.toContain('example.test');
    expect(row.j).not.toContain('2026-10-01');
    // The client system matches what it holds: a name and a phone number written differently.
    const restriction = await submit({
      clientId,
      right: 'restriction',
      channel: 'phone',
      requester: 'subject',
      restriction: { kind: 'confidential-channel', channel: 'post only' },
    });
    const byName = await ops.consent.rightsVerify(
      { requestId: restriction.requestId, points: { name: ' test PERSON', phone: '(555) 0199' } },
      await officer(),
    );
    expect(byName).toMatchObject({ state: 'in-progress', matchedPoints: ['name', 'phone'] });
    // Specific pieces need three points and a signed declaration.
    const access = await submit({
      clientId,
      right: 'access',
      channel: 'email',
      requester: 'subject',
    });
    const noDeclaration = await ops.consent.rightsVerify(
      {
        requestId: access.requestId,
        points: {
          email: `${clientId}@example.test`,
          dateOfBirth: '1988-04-12',
          lastVisit: '2026-10-01',
        },
      },
      await officer(),
    );
    expect(noDeclaration.state).toBe('awaiting-verification');
    expect((await verifyAll(access)).state).toBe('in-progress');
    // Know and access answered with a report, as JSON and a PDF (CCP-1, HIP-8).
    await fulfil(access);
    const done = await answered(access.requestId);
    expect(done).toMatchObject({ outcome: 'fulfilled', verification: 'verified' });
    const json = await ops.consent.rightsReport({ requestId: access.requestId }, await auditor());
    expect(json.report).toMatchObject({ type: 'dsg.subject-report', clientId, right: 'access' });
    const pdf = await ops.consent.rightsReport(
      { requestId: access.requestId, format: 'pdf' },
      await auditor(),
    );
    expect(Buffer.from(pdf.pdf!, 'base64').subarray(0, 5).toString()).toBe('%PDF-');
    expect(pdf.contentHash).toBe(json.contentHash);
  });

  it('carries an opt-out out on receipt and tells the recipients that received data since (CCP-2)', async () => {
    const clientId = await subject('optout');
    const receivedAt = new Date(Date.now() - 60_000).toISOString();
    const receipt = await booking.disclosureRegister.disclose(
      {
        clientId,
        recipientId: 'cherry',
        purpose: 'payments-and-memberships',
        legalBasis: 'payment',
        categories: ['identifiers.name', 'payment.financing'],
        description: 'Financing application',
      },
      { idempotencyKey: `oo-${run}`, retries: 0 },
    );
    expect(receipt.decision).toBe('ALLOW');
    const r = await submit({
      clientId,
      right: 'opt-out',
      channel: 'web-form',
      requester: 'subject',
      receivedAt,
    });
    const done = await answered(r.requestId);
    expect(done).toMatchObject({ outcome: 'fulfilled', verification: 'not-required' });
    expect(done.fulfilment?.recipientsTold).toEqual(['cherry']);
    const state = await booking.consent.ledgerState({ clientId });
    expect(state.states).toEqual([
      expect.objectContaining({ scopeType: 'sale-and-sharing', kind: 'opt-out' }),
    ]);
    // The recipient's notice is recorded by the register and delivered by the mechanism.
    expect(
      await waitUntil(async () => {
        const n = await ops.consent.noticesList({ ref: r.requestId }, await auditor());
        return n.notices.some((x) => x.type === 'opt-out-to-recipient');
      }, 10_000),
    ).toBe(true);
    const notices = await ops.consent.noticesList({ ref: r.requestId }, await auditor());
    expect(notices.notices.map((n) => n.type).sort()).toEqual([
      'opt-out-to-recipient',
      'request-answer',
      'request-confirmation',
    ]);
    // Limiting sensitive uses: every purpose a person may opt out of, and recipients told so.
    const limit = await submit({
      clientId,
      right: 'limit-sensitive',
      channel: 'web-form',
      requester: 'subject',
      receivedAt,
    });
    expect((await answered(limit.requestId)).outcome).toBe('fulfilled');
    expect(
      await waitUntil(async () => {
        const n = await ops.consent.noticesList({ ref: limit.requestId }, await auditor());
        return n.notices.some((x) => x.type === 'limit-to-recipient' && x.recipientId === 'cherry');
      }, 10_000),
    ).toBe(true);
    const purposes = (await booking.consent.ledgerState({ clientId })).states
      .filter((st) => st.scopeType === 'purpose' && st.kind === 'opt-out')
      .map((st) => st.scope);
    expect(purposes.length).toBeGreaterThan(0);
  });

  it('never uses a request as a decision input: the same answers before and after a request (POL-4, CCP-1 non-discrimination)', async () => {
    const clientId = await subject('nodiscrimination');
    const ask = () =>
      booking.consent.check({
        clientId,
        recipientKind: 'service-provider',
        recipientId: 'crm-vendor',
        purpose: 'appointment-reminders',
        categories: ['identifiers.contact'],
        legalBasis: 'health-care-operations',
      });
    const before = await ask();
    const r = await submit({ clientId, right: 'know', channel: 'email', requester: 'subject' });
    await submit({ clientId, right: 'access', channel: 'phone', requester: 'subject' });
    await ops.consent.rightsDeny(
      { requestId: r.requestId, basis: 'Could not be verified' },
      await officer(),
    );
    const after = await ask();
    expect({ ...after, evaluatedAt: undefined, decisionId: undefined }).toEqual({
      ...before,
      evaluatedAt: undefined,
      decisionId: undefined,
    });
  });

  it('turns a correction into a task for every system holding what it names (HIP-8, CCP-1)', async () => {
    const clientId = await subject('correct');
    await holder.book([{ clientId, startsAt: '2026-09-03T10:00:00Z', name: 'J', phone: '9' }]);
    await holder.declare([clientId]);
    const r = await submit({
      clientId,
      right: 'correct',
      channel: 'email',
      requester: 'subject',
      correction: { categories: ['identifiers.name'], description: 'The surname is misspelt' },
    });
    await verifyAll(r);
    await fulfil(r);
    const done = await answered(r.requestId);
    expect(done).toMatchObject({
      outcome: 'fulfilled',
      fulfilment: { correctionTasks: ['booking'] },
    });
    // The booking system takes its task from its own consumer and lists it for the front desk.
    let tasks: { client_id: string; categories: string[]; description: string }[] = [];
    expect(
      await waitUntil(async () => {
        tasks = (
          await stack.db.query(
            'SELECT client_id, categories, description FROM reference_holder.correction_tasks WHERE request_id = $1',
            [r.requestId],
          )
        ).rows;
        return tasks.length === 1;
      }, 10_000),
    ).toBe(true);
    expect(tasks).toEqual([
      {
        client_id: clientId,
        categories: ['identifiers.name'],
        description: 'The surname is misspelt',
      },
    ]);
  });

  it('records a restriction through the consent service: a confidential channel is honoured, an unagreed disclosure restriction is denied with its basis (HIP-7)', async () => {
    const clientId = await subject('restrict');
    const channel = await submit({
      clientId,
      right: 'restriction',
      channel: 'front-desk',
      requester: 'subject',
      restriction: { kind: 'confidential-channel', channel: 'e-mail only, no calls' },
    });
    await verifyAll(channel);
    await fulfil(channel);
    const honoured = await answered(channel.requestId);
    expect(honoured).toMatchObject({ outcome: 'fulfilled', fulfilment: { agreed: true } });
    const disclosure = await submit({
      clientId,
      right: 'restriction',
      channel: 'email',
      requester: 'subject',
      restriction: { kind: 'disclosure', recipientKinds: ['financing-partner'] },
    });
    await verifyAll(disclosure);
    await fulfil(disclosure, { restrictionAgreed: false });
    const declined = await answered(disclosure.requestId);
    expect(declined).toMatchObject({ outcome: 'denied' });
    expect(declined.denialBasis).toContain('HIP-7');
    // Two officers fulfilling one request at once record one restriction.
    const twice = await submit({
      clientId,
      right: 'restriction',
      channel: 'email',
      requester: 'subject',
      restriction: { kind: 'disclosure', recipientKinds: ['service-provider'] },
    });
    await verifyAll(twice);
    const both = await Promise.allSettled([
      fulfil(twice, { restrictionAgreed: true }),
      fulfil(twice, { restrictionAgreed: true }),
    ]);
    expect(both.filter((b) => b.status === 'fulfilled').length).toBeGreaterThanOrEqual(1);
    expect((await answered(twice.requestId)).outcome).toBe('fulfilled');
    const { restrictions } = await booking.consent.restrictionList({ clientId });
    expect(restrictions.map((x) => [x.kind, x.binding]).sort()).toEqual([
      ['confidential-channel', true],
      ['disclosure', false],
      ['disclosure', true],
    ]);
  });

  it('links a repeat of an open request and answers both together (item 5); a deletion meeting a legal hold keeps what it covers (CCP-4, RET-6)', async () => {
    const clientId = await subject('hold');
    await holder.book([{ clientId, startsAt: '2026-09-01T10:00:00Z', name: 'H', phone: '8' }]);
    await holder.declare([clientId]);
    const hold = await ops.retention.holdPlace(
      {
        scope: { subjects: [clientId], systems: ['booking'] },
        reason: 'Subpoena 2026-081: keep booking data',
      },
      {
        ...(await stack.as(['privacy_officer'], 'retention', 'officer-8')),
        idempotencyKey: `hold-${run}`,
      },
    );
    const first = await submit({
      clientId,
      right: 'delete',
      channel: 'email',
      requester: 'subject',
    });
    const repeat = await submit({
      clientId,
      right: 'delete',
      channel: 'phone',
      requester: 'subject',
    });
    expect(repeat).toMatchObject({ state: 'duplicate', duplicateOf: first.requestId });
    expect((await refusal(verifyAll(repeat))).code).toBe(ErrorCodes.INVALID_STATE);
    await verifyAll(first);
    await fulfil(first);
    const done = await answered(first.requestId);
    expect(done.outcome).toBe('denied');
    expect(done.denialBasis).toContain('RET-6');
    expect(JSON.stringify(done.fulfilment)).toContain(hold.holdId);
    const linked = await answered(repeat.requestId);
    expect(linked).toMatchObject({ outcome: 'denied', duplicateOf: first.requestId });
  });

  it('produces an accounting without a suspended entry, free once in 12 months and fee-quoted after (ACC-5, ACC-6, ACC-8)', async () => {
    const clientId = await subject('acct');
    const report = (description: string) =>
      booking.disclosureRegister.report(
        {
          clientId,
          recipientId: 'regulators',
          purpose: 'legal-obligations',
          legalBasis: 'required-by-law',
          categories: ['identifiers.name', 'health.history'],
          description,
          occurredAt: new Date(Date.now() - 5 * DAY).toISOString(),
          source: 'staff',
        },
        { idempotencyKey: `acct-${description}-${run}`, retries: 0 },
      );
    await report('Records sent to the Medical Board');
    await ops.disclosureRegister.suspensionRecord(
      {
        form: 'written',
        agency: 'Medical Board of California',
        official: { name: 'Inspector C. Example', title: 'Investigator' },
        recipientId: 'regulators',
        statement: 'An accounting would impede an open investigation.',
        subjects: [clientId],
        until: new Date(Date.now() + 90 * DAY).toISOString(),
      },
      {
        ...(await stack.as(['privacy_officer'], 'disclosure-register', 'officer-8')),
        idempotencyKey: `susp-${run}`,
      },
    );
    const first = await submit({
      clientId,
      right: 'accounting',
      channel: 'email',
      requester: 'subject',
    });
    expect((await verifyAll(first)).state).toBe('in-progress'); // free: no accounting in 12 months
    await fulfil(first);
    const done = await answered(first.requestId);
    expect(done.outcome).toBe('fulfilled');
    expect(done.fulfilment?.lines).toBe(0); // the suspended disclosure is not listed (ACC-8)

    const second = await submit({
      clientId,
      right: 'accounting',
      channel: 'email',
      requester: 'subject',
    });
    const quoted = await verifyAll(second);
    expect(quoted.state).toBe('awaiting-fee-acceptance');
    expect(quoted.fee).toMatchObject({ amountCents: 2500, currency: 'USD' });
    const notAccepted = await refusal(fulfil(second));
    expect(notAccepted.fields).toEqual([
      expect.objectContaining({ field: 'feeAccepted', constraint: 'ACC-6' }),
    ]);
    await fulfil(second, { feeAccepted: true });
    expect((await answered(second.requestId)).outcome).toBe('fulfilled');
  });

  it('keeps the request log with response dates and outcomes, exportable and in figures, and tells privacy officers of overdue requests (CCP-7, CCP-2)', async () => {
    const clientId = await subject('log');
    const from = new Date(Date.now() - 70 * DAY).toISOString();
    const overdue = await submit({
      clientId,
      right: 'know',
      channel: 'email',
      requester: 'subject',
      receivedAt: new Date(Date.now() - 60 * DAY).toISOString(),
    });
    const denied = await submit({
      clientId,
      right: 'correct',
      channel: 'phone',
      requester: 'subject',
      correction: { categories: ['identifiers.name'], description: 'Wrong surname' },
    });
    await ops.consent.rightsDeny(
      { requestId: denied.requestId, basis: 'CCP-3: the requester could not be verified' },
      await officer(),
    );
    expect(
      await waitUntil(async () => {
        const n = await ops.consent.noticesList(
          { ref: overdue.requestId, type: 'request-overdue' },
          await auditor(),
        );
        return n.notices.length === 1 && n.notices[0].state === 'sent';
      }, 10_000),
    ).toBe(true);
    expect(
      mails.some(
        (m) => m.to.includes('privacy-office@spa.example') && m.text.includes(overdue.requestId),
      ),
    ).toBe(true);
    const to = new Date(Date.now() + 1000).toISOString();
    const exported = await ops.consent.requestLogExport({ from, to }, await auditor());
    const mine = exported.entries.filter((e) =>
      [overdue.requestId, denied.requestId].includes(e.requestId),
    );
    expect(mine).toEqual([
      expect.objectContaining({ requestId: overdue.requestId, right: 'know', channel: 'email' }),
      expect.objectContaining({
        requestId: denied.requestId,
        outcome: 'denied',
        verification: 'not-verified',
        denialBasis: 'CCP-3: the requester could not be verified',
        onTime: true,
      }),
    ]);
    expect(exported.contentHash).toMatch(/^[0-9a-f]{64}$/);
    const figures = await ops.consent.requestLogFigures({ from, to }, await auditor());
    expect(figures.total.received).toBe(exported.entries.length);
    expect(figures.byRight.find((f) => f.right === 'correct')).toMatchObject({
      denied: expect.any(Number),
    });
    expect((await refusal(ops.consent.requestLogExport({ from, to }))).code).toBe(
      ErrorCodes.UNAUTHENTICATED,
    );
    const list = await ops.consent.rightsList({ overdue: true }, await auditor());
    expect(list.requests.map((r) => r.requestId)).toContain(overdue.requestId);
  });

  it("deletes an answered request's notices with its log entry when its 24 months have run (RET-3)", async () => {
    const clientId = await subject('purge');
    const r = await submit({
      clientId,
      right: 'know',
      channel: 'email',
      requester: 'subject',
      replyTo: `${clientId}@reply.example`,
    });
    await ops.consent.rightsDeny({ requestId: r.requestId, basis: 'Withdrawn' }, await officer());
    expect(
      await waitUntil(async () => {
        const n = await ops.consent.noticesList({ ref: r.requestId }, await auditor());
        return n.notices.length === 2 && n.notices.every((x) => x.state === 'sent');
      }, 10_000),
    ).toBe(true);
    const retention = await stack.client('retention');
    const purged = await retention.consent.requestPurge({
      clientId,
      through: new Date(Date.now() + 1000).toISOString(),
      reason: 'RET-3: 24 months after the answer',
    });
    expect(purged.deletedEntries).toBe(1);
    expect((await ops.consent.noticesList({ ref: r.requestId }, await auditor())).notices).toEqual(
      [],
    );
    const { rows } = await stack.db.query(
      'SELECT entries, notices FROM consent.request_log_purges WHERE client_id = $1',
      [clientId],
    );
    expect(rows).toEqual([{ entries: 1, notices: 2 }]);
    const left = await stack.db.query(
      'SELECT count(*)::int AS n FROM consent.notices WHERE destination = $1',
      [`${clientId}@reply.example`],
    );
    expect(left.rows[0].n).toBe(0);
  });

  it('carries an opt-out on when the register was down at receipt: the periodic check finishes it (nothing is lost)', async () => {
    const clientId = await subject('later');
    const register = services[1];
    await register.stop();
    const r = await submit({ clientId, right: 'opt-out', channel: 'email', requester: 'subject' });
    // The ledger entry is recorded; telling recipients waits for the register.
    expect(r.state).toBe('in-progress');
    expect((await booking.consent.ledgerState({ clientId })).states).toEqual([
      expect.objectContaining({ scopeType: 'sale-and-sharing', kind: 'opt-out' }),
    ]);
    services.push(await stack.start('disclosure-register'));
    const done = await answered(r.requestId);
    expect(done).toMatchObject({ outcome: 'fulfilled', fulfilment: { recipientsTold: [] } });
  });

  it('keeps personal data out of every log line: no address, name, phone, date of birth or verification point', async () => {
    const lines = services.flatMap((p) => p.lines);
    expect(lines.some((l) => l.includes('rights request received'))).toBe(true);
    for (const needle of [
      '@example.test',
      '@reply.example',
      'privacy-office@spa.example',
      'Test Person',
      '555-0199',
      '1988-04-12',
      '2012-06-01',
      'surname is misspelt',
    ]) {
      expect(lines.filter((l) => l.includes(needle))).toEqual([]);
    }
  });
});
