import { ErrorCodes, Rpc } from '@dsg/contracts';
import { type NatsConnection } from 'nats';
import { Client } from 'pg';
import { e2eEnv } from './support/e2e-env';
import { connectAs } from './support/nats-users';
import { ServiceProcess } from './support/service-process';

const TABLES = [
  'subjects',
  'subject_identifiers',
  'guardianships',
  'subject_changes',
  'ledger',
  'ledger_redactions',
  'gpc_signals',
  'authorizations',
  'authorization_revocations',
  'restrictions',
  'restriction_ends',
  'rights_requests',
  'request_log_purges',
  'request_log_declared',
  'notification_tasks',
  'notices',
  'notice_attempts',
  'policy_versions',
  'outbox',
];

/** Every consent operation, sent what no contract allows: a structured error, and nothing written. */
describe('consent: bad input on every handler', () => {
  const env = e2eEnv();
  let consent: ServiceProcess;
  let nc: NatsConnection;
  let owner: Client;
  const counts = async () =>
    Object.fromEntries(
      await Promise.all(
        TABLES.map(async (t) => [
          t,
          (await owner.query(`SELECT count(*)::int AS n FROM consent.${t}`)).rows[0].n as number,
        ]),
      ),
    );
  const send = async (subject: string, body: string) => {
    const reply = await nc.request(
      `${env.subjectPrefix}.rpc.retention.${subject}`,
      new TextEncoder().encode(body),
      { timeout: 3000 },
    );
    return JSON.parse(new TextDecoder().decode(reply.data)) as {
      ok: boolean;
      error?: { code: string; fields?: { field: string }[] };
    };
  };

  beforeAll(async () => {
    consent = await ServiceProcess.start('consent');
    await consent.waitReady();
    // retention may call every consent operation, the redaction path included.
    nc = await connectAs(env.natsUrl, 'retention');
    owner = new Client({ connectionString: env.databaseUrl });
    await owner.connect();
  }, 60_000);

  afterAll(async () => {
    await nc?.drain();
    await owner?.end();
    await consent?.stop();
  });

  const operations = Object.entries(Rpc.consent).filter(
    ([, def]) =>
      def.subject.startsWith('consent.') &&
      !def.subject.includes('.system.') &&
      !def.subject.includes('.keys.'),
  );

  // Operations taken for a person (privacy officers, auditors) refuse a caller without the
  // gateway's assertion before they read the body; their bad input is tested with assertions in
  // test/consent-rights.e2e-spec.ts and test/consent-notices.e2e-spec.ts.
  const forPeople = new Set<string>([
    Rpc.consent.rightsSubmit.subject,
    Rpc.consent.rightsVerify.subject,
    Rpc.consent.rightsExtend.subject,
    Rpc.consent.rightsFulfil.subject,
    Rpc.consent.rightsDeny.subject,
    Rpc.consent.rightsGet.subject,
    Rpc.consent.rightsList.subject,
    Rpc.consent.rightsReport.subject,
    Rpc.consent.requestLogExport.subject,
    Rpc.consent.requestLogFigures.subject,
    Rpc.consent.noticesList.subject,
  ]);

  it.each(operations.filter(([, def]) => forPeople.has(def.subject)))(
    '%s refuses a caller without an assertion with a structured error, and writes nothing',
    async (_name, def) => {
      const before = await counts();
      const reply = await send(def.subject, JSON.stringify({ clientId: 'x-1', smuggled: true }));
      expect(reply).toMatchObject({ ok: false, error: { code: ErrorCodes.UNAUTHENTICATED } });
      expect(await counts()).toEqual(before);
    },
  );

  it.each(operations.filter(([, def]) => !forPeople.has(def.subject)))(
    '%s refuses an unknown field, a non-object and unparsable JSON, and writes nothing',
    async (_name, def) => {
      const before = await counts();
      const unknownField = await send(
        def.subject,
        JSON.stringify({ clientId: 'x-1', smuggled: true }),
      );
      expect(unknownField).toMatchObject({
        ok: false,
        error: { code: ErrorCodes.VALIDATION_FAILED },
      });
      expect(unknownField.error?.fields?.map((f) => f.field)).toContain('smuggled');
      await expect(send(def.subject, '[1]')).resolves.toMatchObject({
        ok: false,
        error: { code: ErrorCodes.VALIDATION_FAILED },
      });
      await expect(send(def.subject, '{"clientId":')).resolves.toMatchObject({
        ok: false,
        error: { code: ErrorCodes.MALFORMED },
      });
      expect(await counts()).toEqual(before);
    },
  );

  it.each(['2026-13-45T00:00:00Z', '2026-02-30T00:00:00Z'])(
    'refuses a decision for a moment that does not exist (%s), naming the field',
    async (at) => {
      const reply = await send(
        Rpc.consent.check.subject,
        JSON.stringify({
          clientId: 'x-1',
          recipientKind: 'service-provider',
          purpose: 'internal-analytics',
          categories: ['identifiers.contact'],
          legalBasis: 'health-care-operations',
          at,
        }),
      );
      expect(reply).toMatchObject({ ok: false, error: { code: ErrorCodes.VALIDATION_FAILED } });
      expect(reply.error?.fields?.map((f) => f.field)).toEqual(['at']);
    },
  );

  it('refuses a ledger entry dated on a day that does not exist, and writes nothing', async () => {
    const clientId = `bad-date-${Date.now().toString(36)}`;
    await expect(
      send(Rpc.consent.subjectUpsert.subject, JSON.stringify({ clientId })),
    ).resolves.toMatchObject({ ok: true });
    const before = await counts();
    const reply = await send(
      Rpc.consent.ledgerRecord.subject,
      JSON.stringify({
        clientId,
        kind: 'grant',
        scopeType: 'purpose',
        scope: 'internal-analytics',
        method: 'web-form',
        actor: 'self',
        policyVersion: '2026.1',
        occurredAt: '2026-02-30T10:00:00Z',
      }),
    );
    expect(reply).toMatchObject({ ok: false, error: { code: ErrorCodes.VALIDATION_FAILED } });
    expect(await counts()).toEqual(before);
  });
});
