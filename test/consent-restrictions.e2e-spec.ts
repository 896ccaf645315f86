import { DsgClient, type DsgError, ErrorCodes } from '@dsg/contracts';
import { connectClient } from './support/clients';
import { ServiceProcess } from './support/service-process';

describe('consent: restrictions and confidential channels (HIP-7)', () => {
  const clientId = `restrict-${Date.now().toString(36)}`;
  let consent: ServiceProcess;
  let desk: DsgClient;
  const fail = (p: Promise<unknown>) =>
    p.then(
      () => undefined,
      (e: unknown) => e as DsgError,
    );

  beforeAll(async () => {
    consent = await ServiceProcess.start('consent');
    await consent.waitReady();
    desk = await connectClient('booking');
    await desk.consent.subjectUpsert({ clientId, dateOfBirth: '1979-09-09' });
  }, 60_000);

  afterAll(async () => {
    await desk?.close();
    await consent?.stop();
  });

  it('a disclosure restriction binds only once the spa has agreed to it', async () => {
    const asked = await desk.consent.restrictionRequest({
      clientId,
      kind: 'disclosure',
      purposes: ['internal-analytics'],
    });
    expect(asked.binding).toBe(false);
    const agreed = await desk.consent.restrictionRequest({
      clientId,
      kind: 'disclosure',
      purposes: ['internal-analytics'],
      agreed: true,
    });
    expect(agreed.binding).toBe(true);
  });

  it('a self-pay restriction towards health plans binds at once and only the subject can end it', async () => {
    const selfPay = await desk.consent.restrictionRequest({
      clientId,
      kind: 'self-pay-health-plan',
      agreed: false,
    });
    expect(selfPay.binding).toBe(true);
    const bySpa = await fail(
      desk.consent.restrictionEnd({ restrictionId: selfPay.restrictionId, endedBy: 'spa' }),
    );
    expect(bySpa?.code).toBe(ErrorCodes.FORBIDDEN);
    await expect(
      desk.consent.restrictionEnd({ restrictionId: selfPay.restrictionId, endedBy: 'subject' }),
    ).resolves.toMatchObject({
      binding: false,
      endedBy: 'subject',
    });
  });

  it('a confidential channel is honoured without a reason, but must say how to reach the subject', async () => {
    await expect(
      desk.consent.restrictionRequest({
        clientId,
        kind: 'confidential-channel',
        channel: 'e-mail only',
      }),
    ).resolves.toMatchObject({
      binding: true,
      channel: 'e-mail only',
    });
    expect(
      await fail(desk.consent.restrictionRequest({ clientId, kind: 'confidential-channel' })),
    ).toMatchObject({
      code: ErrorCodes.VALIDATION_FAILED,
      fields: [expect.objectContaining({ field: 'channel' })],
    });
    const reason = await fail(
      desk.consent.restrictionRequest(
        { clientId, kind: 'confidential-channel', channel: 'phone', reason: 'why' } as never,
        { retries: 0 },
      ),
    );
    expect(reason?.fields[0]).toMatchObject({ field: 'reason', constraint: 'whitelistValidation' });
  });

  it('lists what binds a subject now', async () => {
    const { restrictions } = await desk.consent.restrictionList({ clientId });
    expect(
      restrictions
        .filter((r) => r.binding)
        .map((r) => r.kind)
        .sort(),
    ).toEqual(['confidential-channel', 'disclosure']);
  });
});
