import { DsgClient, type DsgError, ErrorCodes } from '@dsg/contracts';
import { connectClient } from './support/clients';
import { ServiceProcess } from './support/service-process';

describe('consent: Global Privacy Control (CCP-5)', () => {
  const run = Date.now().toString(36);
  const clientId = `gpc-${run}`;
  const device = `browser-${run}`;
  let consent: ServiceProcess;
  let web: DsgClient;

  const saleEntries = async () =>
    (await web.consent.ledgerHistory({ clientId })).events.filter(
      (e) => e.scopeType === 'sale-and-sharing',
    );

  beforeAll(async () => {
    consent = await ServiceProcess.start('consent');
    await consent.waitReady();
    // The gateway stands for the spa's web front end here.
    web = await connectClient('gateway');
    await web.consent.subjectUpsert({
      clientId,
      dateOfBirth: '1992-01-01',
      identifiers: [{ kind: 'device', value: device }],
    });
  }, 60_000);

  afterAll(async () => {
    await web?.close();
    await consent?.stop();
  });

  it('opts out the browser and every linked profile, without friction, and says so', async () => {
    await expect(web.consent.gpcSignal({ deviceId: device })).resolves.toEqual({
      honored: true,
      message: 'Opt-Out Request Honored',
      optedOut: [clientId],
      optInRespected: [],
    });
    expect(await saleEntries()).toEqual([
      expect.objectContaining({ kind: 'opt-out', method: 'gpc-signal', actor: 'self' }),
    ]);
  });

  it('a repeated signal changes nothing', async () => {
    await expect(web.consent.gpcSignal({ deviceId: device })).resolves.toMatchObject({
      honored: true,
      optedOut: [clientId],
    });
    expect(await saleEntries()).toHaveLength(1);
  });

  it('never overrides an explicit opt-in the person gave after the signal', async () => {
    await web.consent.ledgerRecord({
      clientId,
      kind: 'opt-in',
      scopeType: 'sale-and-sharing',
      scope: '',
      method: 'web-form',
      actor: 'self',
      policyVersion: '2026.1',
    });
    const reply = await web.consent.gpcSignal({ deviceId: device });
    expect(reply).toMatchObject({ honored: false, optedOut: [], optInRespected: [clientId] });
    const entries = await saleEntries();
    expect(entries.map((e) => e.kind)).toEqual(['opt-out', 'opt-in']);
    expect((await web.consent.ledgerState({ clientId })).states).toContainEqual(
      expect.objectContaining({ scopeType: 'sale-and-sharing', kind: 'opt-in' }),
    );
  });

  it('an unlinked browser is opted out on its own', async () => {
    await expect(web.consent.gpcSignal({ deviceId: `stranger-${run}` })).resolves.toEqual({
      honored: true,
      message: 'Opt-Out Request Honored',
      optedOut: [],
      optInRespected: [],
    });
  });

  it('a signal naming nothing is refused with a structured error', async () => {
    const error = (await web.consent.gpcSignal({}).catch((e: unknown) => e)) as DsgError;
    expect(error).toMatchObject({
      code: ErrorCodes.VALIDATION_FAILED,
      fields: [expect.objectContaining({ field: '$' })],
    });
  });
});
