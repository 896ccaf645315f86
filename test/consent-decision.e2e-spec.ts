import {
  type CheckReply,
  type CheckRequest,
  SERVICES,
  DsgClient,
  type DsgError,
  ErrorCodes,
  type RecordAuthorizationRequest,
} from '@dsg/contracts';
import { connectClient } from './support/clients';
import { completeAuthorization } from './support/consent-fixtures';
import { GrpcTestClient } from './support/grpc';
import { ServiceProcess } from './support/service-process';

/** A date of birth that makes the subject `years` old today. */
const bornYearsAgo = (years: number) => {
  const d = new Date();
  d.setUTCFullYear(d.getUTCFullYear() - years);
  d.setUTCDate(d.getUTCDate() - 10);
  return d.toISOString().slice(0, 10);
};

describe('consent: the sharing decision', () => {
  const run = Date.now().toString(36);
  const adult = `dec-adult-${run}`;
  const teen = `dec-teen-${run}`;
  const child = `dec-child-${run}`;
  const parent = `dec-parent-${run}`;
  let consent: ServiceProcess;
  let api: DsgClient;

  const base = (change: Partial<CheckRequest> = {}): CheckRequest => ({
    clientId: adult,
    recipientKind: 'licensed-medical-professional',
    purpose: 'scheduling-and-services',
    categories: ['health.medications'],
    legalBasis: 'treatment',
    ...change,
  });
  const failed = async (change: Partial<CheckRequest>) => {
    const reply = await api.consent.check(base(change));
    expect(reply.decision).toBe('DENY');
    return reply.reasons.map((r) => r.rule);
  };
  const authorization = (clientId: string, change: Partial<RecordAuthorizationRequest> = {}) =>
    completeAuthorization(clientId, change);
  const marketing = (clientId: string, authorizationId: string): Partial<CheckRequest> => ({
    clientId,
    recipientKind: 'service-provider',
    purpose: 'offers-and-marketing',
    categories: ['health.treatment-photos'],
    legalBasis: 'authorization',
    authorizationId,
  });
  const record = (
    clientId: string,
    kind: 'grant' | 'opt-in' | 'opt-out',
    scopeType: 'purpose' | 'sale-and-sharing',
    scope: string,
    actor: 'self' | 'guardian',
  ) =>
    api.consent.ledgerRecord({
      clientId,
      kind,
      scopeType,
      scope,
      method: 'front-desk',
      actor,
      policyVersion: '2026.1',
    });

  beforeAll(async () => {
    consent = await ServiceProcess.start('consent');
    await consent.waitReady();
    api = await connectClient('crm');
    await api.consent.subjectUpsert({ clientId: adult, dateOfBirth: bornYearsAgo(35) });
    await api.consent.subjectUpsert({ clientId: parent, dateOfBirth: bornYearsAgo(40) });
    await api.consent.subjectUpsert({
      clientId: teen,
      dateOfBirth: bornYearsAgo(14),
      guardians: [parent],
    });
    await api.consent.subjectUpsert({
      clientId: child,
      dateOfBirth: bornYearsAgo(10),
      guardians: [parent],
    });
  }, 60_000);

  afterAll(async () => {
    await api?.close();
    await consent?.stop();
  });

  it('allows treatment sharing with a licensed professional, and explains every rule it evaluated', async () => {
    const reply = await api.consent.explain(base());
    expect(reply).toMatchObject({ decision: 'ALLOW', reasons: [], policyVersion: '2026.1' });
    expect(reply.rules?.map((r) => r.rule)).toEqual(
      expect.arrayContaining([
        'POL-1',
        'POL-2',
        'POL-3',
        'KID-3',
        'CMI-1',
        'HIP-3',
        'POL-4',
        'HIP-7',
        'KID-1',
      ]),
    );
    expect((await api.consent.check(base())).rules).toBeUndefined();
  });

  it('POL-1: a sale is always refused', async () => {
    expect(
      await failed({ purpose: 'sale-of-personal-information', legalBasis: 'authorization' }),
    ).toContain('POL-1');
  });

  it('POL-2 and POL-3: unknown recipient kinds, purposes and categories are DENY, not errors', async () => {
    expect(await failed({ recipientKind: 'employer' })).toEqual(['POL-2']);
    expect(await failed({ purpose: 'astrology' })).toEqual(['POL-3']);
    expect(await failed({ categories: ['health.genome'] })).toEqual(['POL-3']);
  });

  it('KID-3: an unknown subject, or one without a date of birth, is DENY', async () => {
    expect(await failed({ clientId: `nobody-${run}` })).toContain('KID-3');
    await api.consent.subjectUpsert({ clientId: `nodob-${run}` });
    expect(await failed({ clientId: `nodob-${run}` })).toContain('KID-3');
  });

  it('CMI-1: the legal basis must fit the purpose', async () => {
    expect(await failed({ legalBasis: 'payment' })).toEqual(['CMI-1']);
  });

  it('HIP-3, CMI-4 and HIP-2: marketing needs a valid authorization; a revocation counts from its receipt', async () => {
    expect(await failed({ ...marketing(adult, '00000000-0000-0000-0000-000000000000') })).toEqual(
      expect.arrayContaining(['HIP-3', 'CMI-4']),
    );
    const auth = await api.consent.authorizationRecord(authorization(adult));
    await expect(
      api.consent.check(base(marketing(adult, auth.authorizationId))),
    ).resolves.toMatchObject({ decision: 'ALLOW' });
    const beforeRevocation = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 20));
    await api.consent.authorizationRevoke({
      authorizationId: auth.authorizationId,
      receivedVia: 'phone',
    });
    expect(await failed(marketing(adult, auth.authorizationId))).toEqual(
      expect.arrayContaining(['HIP-3', 'CMI-4']),
    );
    await expect(
      api.consent.check(base({ ...marketing(adult, auth.authorizationId), at: beforeRevocation })),
    ).resolves.toMatchObject({
      decision: 'ALLOW',
    });
  });

  it('POL-4: an opt-out of a purpose is honoured', async () => {
    const analytics = {
      purpose: 'internal-analytics',
      legalBasis: 'health-care-operations' as const,
      recipientKind: 'service-provider',
    };
    await expect(api.consent.check(base(analytics))).resolves.toMatchObject({ decision: 'ALLOW' });
    await record(adult, 'opt-out', 'purpose', 'internal-analytics', 'self');
    expect(await failed(analytics)).toEqual(['POL-4']);
  });

  it('CCP-5: a GPC opt-out denies sale and sharing even under an authorization', async () => {
    const auth = await api.consent.authorizationRecord(authorization(adult));
    await expect(
      api.consent.check(base(marketing(adult, auth.authorizationId))),
    ).resolves.toMatchObject({ decision: 'ALLOW' });
    await api.consent.gpcSignal({ clientId: adult });
    const reply = await api.consent.check(base(marketing(adult, auth.authorizationId)));
    expect(reply.reasons.map((r) => r.rule)).toEqual(['CCP-5']);
    expect(reply.consentState['sale-and-sharing:*']).toBe('opt-out');
  });

  it("CCP-6: a 14-year-old's data is not shared without the teen's own opt-in", async () => {
    const auth = await api.consent.authorizationRecord(
      authorization(teen, {
        signedBy: 'guardian',
        signerRef: parent,
        representativeAuthority: 'parent',
      }),
    );
    expect(await failed(marketing(teen, auth.authorizationId))).toEqual(['CCP-6']);
    await record(teen, 'opt-in', 'sale-and-sharing', '', 'guardian');
    expect(await failed(marketing(teen, auth.authorizationId))).toEqual(['CCP-6']);
    await record(teen, 'opt-in', 'sale-and-sharing', '', 'self');
    await expect(
      api.consent.check(base(marketing(teen, auth.authorizationId))),
    ).resolves.toMatchObject({ decision: 'ALLOW' });
  });

  it('KID-1: under 13, nothing is shared without verifiable parental consent', async () => {
    expect(await failed({ clientId: child })).toEqual(['KID-1']);
    // A guardian's grant without the parent's identity verified is not verifiable consent.
    await record(child, 'grant', 'purpose', 'scheduling-and-services', 'guardian');
    expect(await failed({ clientId: child })).toEqual(['KID-1']);
    await api.consent.ledgerRecord({
      clientId: child,
      kind: 'grant',
      scopeType: 'purpose',
      scope: 'scheduling-and-services',
      method: 'front-desk',
      actor: 'guardian',
      policyVersion: '2026.1',
      parentalVerification: 'government-id',
    });
    const reply = await api.consent.explain(base({ clientId: child }));
    expect(reply.decision).toBe('ALLOW');
    expect(reply.rules?.find((r) => r.rule === 'KID-1')).toMatchObject({
      outcome: 'pass',
      detail: expect.stringContaining('government-id'),
    });
  });

  it("KID-1: a parent's verification is refused on anything but a guardian's grant or opt-in", async () => {
    const error = await api.consent
      .ledgerRecord({
        clientId: child,
        kind: 'grant',
        scopeType: 'purpose',
        scope: 'appointment-reminders',
        method: 'front-desk',
        actor: 'self',
        policyVersion: '2026.1',
        parentalVerification: 'signed-form',
      })
      .catch((e: DsgError) => e);
    expect(error).toMatchObject({
      code: ErrorCodes.VALIDATION_FAILED,
      fields: [expect.objectContaining({ field: 'parentalVerification' })],
    });
  });

  it('CCP-1: a withdrawn category is not shared, nor anything above or below it', async () => {
    const subject = `dec-ccp1-${run}`;
    await api.consent.subjectUpsert({ clientId: subject, dateOfBirth: bornYearsAgo(30) });
    const reminders = (categories: string[]) =>
      base({
        clientId: subject,
        purpose: 'appointment-reminders',
        legalBasis: 'health-care-operations',
        recipientKind: 'service-provider',
        categories,
      });
    await expect(api.consent.check(reminders(['identifiers.contact']))).resolves.toMatchObject({
      decision: 'ALLOW',
    });
    await api.consent.ledgerRecord({
      clientId: subject,
      kind: 'withdraw',
      scopeType: 'category',
      scope: 'identifiers.contact.email',
      method: 'email-link',
      actor: 'self',
      policyVersion: '2026.1',
    });
    for (const categories of [
      ['identifiers.contact.email'], // the category itself
      ['identifiers.contact'], // a request for a node asks for its descendants
    ]) {
      const reply = await api.consent.check(reminders(categories));
      expect(reply.decision).toBe('DENY');
      expect(reply.reasons.map((r) => r.rule)).toEqual(['CCP-1']);
    }
    // A sibling the person did not withdraw is still shared.
    await expect(
      api.consent.check(reminders(['identifiers.contact.phone'])),
    ).resolves.toMatchObject({ decision: 'ALLOW' });
  });

  it('HIP-7: an agreed restriction binds', async () => {
    const reminders = {
      purpose: 'appointment-reminders',
      legalBasis: 'health-care-operations' as const,
      recipientKind: 'service-provider',
      categories: ['identifiers.contact.phone'],
    };
    await expect(api.consent.check(base(reminders))).resolves.toMatchObject({ decision: 'ALLOW' });
    await api.consent.restrictionRequest({
      clientId: adult,
      kind: 'disclosure',
      recipientKinds: ['service-provider'],
      purposes: ['appointment-reminders'],
      agreed: true,
    });
    expect(await failed(reminders)).toEqual(['HIP-7']);
  });

  it('answers a batch in order, and refuses a schema-invalid check with a structured error', async () => {
    const { results } = await api.consent.checkBatch({
      checks: [base(), base({ purpose: 'astrology' })],
    });
    expect(results.map((r) => r.decision)).toEqual(['ALLOW', 'DENY']);
    const error = (await api.consent
      .check({ ...base(), categories: [] }, { retries: 0 })
      .catch((e: unknown) => e)) as DsgError;
    expect(error).toMatchObject({
      code: ErrorCodes.VALIDATION_FAILED,
      fields: [expect.objectContaining({ field: 'categories' })],
    });
  });

  it('answers the same over gRPC: check, explain and batch; a schema-invalid check is INVALID_ARGUMENT naming the field', async () => {
    const grpc = new GrpcTestClient(SERVICES.consent, consent.grpcPort);
    const ok = async <T>(method: string, request: object): Promise<T> => {
      const reply = await grpc.call<T>(method, request);
      if (!reply.ok) throw new Error(`${method} failed: ${JSON.stringify(reply.error)}`);
      return reply.value;
    };
    try {
      const overNats = await api.consent.check(base({ purpose: 'astrology' }));
      const overGrpc = await ok<CheckReply>('Check', base({ purpose: 'astrology' }));
      expect(overGrpc).toMatchObject({
        decision: 'DENY',
        policyVersion: overNats.policyVersion,
        reasons: overNats.reasons,
      });
      const explained = await ok<CheckReply>('Explain', base());
      expect(explained.decision).toBe('ALLOW');
      expect(explained.rules?.map((r) => r.rule)).toEqual(
        expect.arrayContaining(['POL-1', 'KID-3']),
      );
      const batch = await ok<{ results: CheckReply[] }>('CheckBatch', {
        checks: [base(), base({ recipientKind: 'employer' })],
      });
      expect(batch.results.map((r) => r.decision)).toEqual(['ALLOW', 'DENY']);
      const failure = await grpc.call('Check', { ...base(), categories: [] });
      expect(failure.ok).toBe(false);
      if (failure.ok) return;
      expect(failure.error.code).toBe(3); // INVALID_ARGUMENT
      expect(failure.error.body?.fields?.map((f) => f.field)).toContain('categories');
    } finally {
      grpc.close();
    }
  });
});
