import {
  DsgClient,
  type DsgError,
  ErrorCodes,
  type RecordAuthorizationRequest,
} from '@dsg/contracts';
import { Client } from 'pg';
import { connectClient } from './support/clients';
import { e2eEnv, runtimeDataSource, sqlErrorCode } from './support/e2e-env';
import { ServiceProcess } from './support/service-process';

describe('consent: authorizations (HIP-1, HIP-2, CMI-2, KID-2)', () => {
  const env = e2eEnv();
  const run = Date.now().toString(36);
  const adult = `auth-adult-${run}`;
  const minor = `auth-minor-${run}`;
  const parent = `auth-parent-${run}`;
  let consent: ServiceProcess;
  let desk: DsgClient;
  let owner: Client;
  const fail = (p: Promise<unknown>) =>
    p.then(
      () => undefined,
      (e: unknown) => e as DsgError,
    );
  const complete = (
    change: Partial<RecordAuthorizationRequest> = {},
  ): RecordAuthorizationRequest => ({
    clientId: adult,
    phiDescription: 'Before/after treatment photos of the face taken in 2026',
    categories: ['health.treatment-photos'],
    discloser: 'Him. Medspa & Wellness',
    recipients: ['Spa marketing agency (social media)'],
    purposes: ['offers-and-marketing'],
    expiresAt: '2027-12-31T23:59:59Z',
    signedAt: new Date().toISOString(),
    signedBy: 'self',
    statements: { revocationRight: true, nonConditioning: true, redisclosure: true },
    form: { format: 'typed-14pt', separateDocument: true, copyOffered: true },
    policyVersion: '2026.1',
    ...change,
  });

  beforeAll(async () => {
    consent = await ServiceProcess.start('consent');
    await consent.waitReady();
    desk = await connectClient('crm');
    await desk.consent.subjectUpsert({ clientId: adult, dateOfBirth: '1988-08-08' });
    await desk.consent.subjectUpsert({ clientId: parent, dateOfBirth: '1980-01-01' });
    await desk.consent.subjectUpsert({
      clientId: minor,
      dateOfBirth: '2012-04-04',
      guardians: [parent],
    });
    owner = new Client({ connectionString: env.databaseUrl });
    await owner.connect();
  }, 60_000);

  afterAll(async () => {
    await desk?.close();
    await owner?.end();
    await consent?.stop();
  });

  it('records a complete authorization as valid, and announces it', async () => {
    const auth = await desk.consent.authorizationRecord(complete());
    expect(auth).toMatchObject({
      clientId: adult,
      status: 'valid',
      purposes: ['offers-and-marketing'],
    });
    const { rows } = await owner.query(
      `SELECT 1 FROM consent.outbox WHERE type = 'authorization.granted' AND envelope->'data'->>'authorizationId' = $1`,
      [auth.authorizationId],
    );
    expect(rows).toHaveLength(1);
  });

  it('refuses an incomplete one, naming every missing element, and writes nothing', async () => {
    const before = (
      await owner.query(
        'SELECT count(*)::int AS n FROM consent.authorizations WHERE client_id = $1',
        [adult],
      )
    ).rows[0].n;
    const error = await fail(
      desk.consent.authorizationRecord(
        {
          ...complete(),
          statements: { revocationRight: true, nonConditioning: false, redisclosure: true },
          form: { format: 'typed-10pt', separateDocument: true, copyOffered: true },
          purposes: [],
          expiresAt: 'when the campaign ends',
        } as never,
        { retries: 0 },
      ),
    );
    expect(error?.code).toBe(ErrorCodes.VALIDATION_FAILED);
    expect(error?.fields.map((f) => f.field).sort()).toEqual([
      'expiresAt',
      'form.format',
      'purposes',
      'statements.nonConditioning',
    ]);
    expect(error?.message).not.toContain('campaign');
    const representative = await fail(
      desk.consent.authorizationRecord(complete({ signedBy: 'legal-representative' })),
    );
    expect(representative?.fields.map((f) => f.field).sort()).toEqual([
      'representativeAuthority',
      'signerRef',
    ]);
    const unknown = await fail(
      desk.consent.authorizationRecord(complete({ purposes: ['astrology'] })),
    );
    expect(unknown?.fields.map((f) => f.field)).toEqual(['purposes.0']);
    const after = (
      await owner.query(
        'SELECT count(*)::int AS n FROM consent.authorizations WHERE client_id = $1',
        [adult],
      )
    ).rows[0].n;
    expect(after).toBe(before);
  });

  it("a minor's authorization is signed by a linked parent or guardian (KID-2)", async () => {
    const selfSigned = await fail(desk.consent.authorizationRecord(complete({ clientId: minor })));
    expect(selfSigned?.fields).toEqual([
      expect.objectContaining({ field: 'signedBy', constraint: 'KID-2' }),
    ]);
    const stranger = await fail(
      desk.consent.authorizationRecord(
        complete({
          clientId: minor,
          signedBy: 'guardian',
          signerRef: adult,
          representativeAuthority: 'parent',
        }),
      ),
    );
    expect(stranger?.fields).toEqual([
      expect.objectContaining({ field: 'signerRef', constraint: 'KID-2' }),
    ]);
    await expect(
      desk.consent.authorizationRecord(
        complete({
          clientId: minor,
          signedBy: 'guardian',
          signerRef: parent,
          representativeAuthority: 'parent',
        }),
      ),
    ).resolves.toMatchObject({ status: 'valid' });
  });

  it('revocation takes effect when received; what came before stands (HIP-2)', async () => {
    const auth = await desk.consent.authorizationRecord(complete());
    const beforeRevocation = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 20));
    const revoked = await desk.consent.authorizationRevoke({
      authorizationId: auth.authorizationId,
      receivedVia: 'phone',
    });
    expect(revoked.status).toBe('revoked');
    await expect(
      desk.consent.authorizationGet({
        authorizationId: auth.authorizationId,
        at: beforeRevocation,
      }),
    ).resolves.toMatchObject({
      status: 'valid',
    });
    await expect(
      desk.consent.authorizationGet({ authorizationId: auth.authorizationId }),
    ).resolves.toMatchObject({ status: 'revoked' });
    // A second revocation changes nothing: the first receipt stands.
    const again = await desk.consent.authorizationRevoke({
      authorizationId: auth.authorizationId,
      receivedVia: 'in-writing',
    });
    expect(again.revokedAt).toBe(revoked.revokedAt);
    // Announced once, by the first revocation.
    const { rows } = await owner.query(
      `SELECT 1 FROM consent.outbox WHERE type = 'authorization.revoked' AND envelope->'data'->>'authorizationId' = $1`,
      [auth.authorizationId],
    );
    expect(rows).toHaveLength(1);
  });

  it('expires at its end date', async () => {
    const auth = await desk.consent.authorizationRecord(complete());
    await expect(
      desk.consent.authorizationGet({
        authorizationId: auth.authorizationId,
        at: '2028-01-01T00:00:00Z',
      }),
    ).resolves.toMatchObject({
      status: 'expired',
    });
  });

  it('the runtime role cannot edit or delete an authorization or a revocation', async () => {
    const runtime = await runtimeDataSource('consent', 1).initialize();
    try {
      const code = (sql: string) => sqlErrorCode(runtime, sql);
      await expect(
        code(`UPDATE consent.authorizations SET expires_at = now() + interval '10 years'`),
      ).resolves.toBe('42501');
      await expect(code(`DELETE FROM consent.authorization_revocations`)).resolves.toBe('42501');
    } finally {
      await runtime.destroy();
    }
  });
});
