import { DsgClient, type DsgError, ErrorCodes } from '@dsg/contracts';
import { Client } from 'pg';
import { connectClient } from './support/clients';
import { e2eEnv } from './support/e2e-env';
import { ServiceProcess } from './support/service-process';

const EMAIL = 'maya.subjecttest@example.test';

describe('consent: subjects (KID-3, CMI-6)', () => {
  const env = e2eEnv();
  const run = Date.now().toString(36);
  const id = (name: string) => `${name}-${run}`;
  let consent: ServiceProcess;
  let client: DsgClient;
  let owner: Client;
  const fail = (p: Promise<unknown>) =>
    p.then(
      () => undefined,
      (e: unknown) => e as DsgError,
    );

  beforeAll(async () => {
    consent = await ServiceProcess.start('consent', { LOG_LEVEL: 'trace' });
    await consent.waitReady();
    client = await connectClient('booking');
    owner = new Client({ connectionString: env.databaseUrl });
    await owner.connect();
  }, 60_000);

  afterAll(async () => {
    await client?.close();
    await owner?.end();
    await consent?.stop();
  });

  it('records a subject, computes its age now, and never returns or stores an identifier in the clear', async () => {
    const reply = await client.consent.subjectUpsert({
      clientId: id('maya'),
      dateOfBirth: '2014-03-01',
      identifiers: [{ kind: 'email', value: EMAIL }],
    });
    expect(reply).toMatchObject({
      clientId: id('maya'),
      status: 'active',
      identifierKinds: ['email'],
    });
    expect(reply.ageBand).toBe(reply.age! < 13 ? 'under-13' : '13-15');
    expect(JSON.stringify(reply)).not.toContain(EMAIL);
    const { rows } = await owner.query(
      'SELECT hash FROM consent.subject_identifiers WHERE client_id = $1',
      [id('maya')],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0].hash).not.toContain('maya');
    expect(consent.lines.filter((l) => l.includes(EMAIL))).toEqual([]);
  });

  it('records who changed what and when (CMI-6)', async () => {
    await client.consent.subjectUpsert({ clientId: id('maya'), status: 'inactive' });
    const { rows } = await owner.query(
      'SELECT changed_by, fields FROM consent.subject_changes WHERE client_id = $1 ORDER BY id',
      [id('maya')],
    );
    expect(rows).toEqual([
      { changed_by: 'booking', fields: ['created', 'dateOfBirth', 'identifier:email'] },
      { changed_by: 'booking', fields: ['status'] },
    ]);
  });

  it('refuses an identifier linked to another subject, and writes nothing of that request', async () => {
    const error = await fail(
      client.consent.subjectUpsert({
        clientId: id('other'),
        identifiers: [{ kind: 'email', value: ` ${EMAIL.toUpperCase()} ` }],
      }),
    );
    expect(error?.code).toBe(ErrorCodes.IDENTIFIER_IN_USE);
    expect((await fail(client.consent.subjectGet({ clientId: id('other') })))?.code).toBe(
      ErrorCodes.NOT_FOUND,
    );
  });

  it('links guardians that are known subjects, and refuses unknown ones', async () => {
    await client.consent.subjectUpsert({ clientId: id('parent'), dateOfBirth: '1985-07-04' });
    const minor = await client.consent.subjectUpsert({
      clientId: id('teen'),
      dateOfBirth: '2011-01-01',
      guardians: [id('parent')],
    });
    expect(minor.guardians).toEqual([id('parent')]);
    const error = await fail(
      client.consent.subjectUpsert({ clientId: id('teen2'), guardians: [id('nobody')] }),
    );
    expect(error).toMatchObject({
      code: ErrorCodes.VALIDATION_FAILED,
      fields: [expect.objectContaining({ field: 'guardians' })],
    });
    expect((await fail(client.consent.subjectGet({ clientId: id('teen2') })))?.code).toBe(
      ErrorCodes.NOT_FOUND,
    );
  });

  it('answers bad input with a structured error naming the field', async () => {
    const error = await fail(
      client.consent.subjectUpsert(
        { clientId: 'has spaces', dateOfBirth: '2014-13-40' },
        { retries: 0 },
      ),
    );
    expect(error?.code).toBe(ErrorCodes.VALIDATION_FAILED);
    expect(error?.fields.map((f) => f.field).sort()).toEqual(['clientId', 'dateOfBirth']);
  });
});
