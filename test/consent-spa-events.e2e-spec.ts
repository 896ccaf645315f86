import { type DsgClient, spaEventSubject } from '@dsg/contracts';
import { randomUUID } from 'node:crypto';
import type { NatsConnection } from 'nats';
import { Client } from 'pg';
import { connectClient } from './support/clients';
import { e2eEnv } from './support/e2e-env';
import { connectAs } from './support/nats-users';
import { completeAuthorization } from './support/consent-fixtures';
import { ServiceProcess } from './support/service-process';

/**
 * The spa's systems keep subjects current and report expiry events through JetStream events
 * (issue 4: "active" is kept current through events; HIP-1: expiry by date or event).
 */
describe('consent: events from the spa systems (subject status, expiry by event, HIP-1)', () => {
  const run = Date.now().toString(36);
  const clientId = `spa-${run}`;
  let consent: ServiceProcess;
  let api: DsgClient;
  let crm: NatsConnection;
  let owner: Client;

  const publish = async (type: string, data: unknown) => {
    const id = randomUUID();
    const envelope = {
      id,
      type,
      schemaVersion: 1,
      source: 'spa',
      occurredAt: new Date().toISOString(),
      data,
    };
    // A JetStream publish as the CRM system: acknowledged once the stream has it.
    const ack = await crm
      .jetstream()
      .publish(`${e2eEnv().subjectPrefix}.${spaEventSubject(type, 1)}`, JSON.stringify(envelope), {
        msgID: id,
      });
    expect(ack.duplicate).toBe(false);
    return id;
  };
  const eventually = async <T>(probe: () => Promise<T>, ok: (value: T) => boolean) => {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const value = await probe();
      if (ok(value)) return value;
      if (Date.now() > deadline) throw new Error(`condition not met: ${JSON.stringify(value)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const inbox = async (eventId: string) =>
    (
      await owner.query(
        `SELECT outcome, reason FROM consent.inbox WHERE consumer = 'consent-spa-events' AND event_id = $1`,
        [eventId],
      )
    ).rows[0] as { outcome: string; reason: string | null } | undefined;

  beforeAll(async () => {
    consent = await ServiceProcess.start('consent');
    await consent.waitReady();
    api = await connectClient('crm');
    crm = await connectAs(e2eEnv().natsUrl, 'crm');
    owner = new Client({ connectionString: e2eEnv().databaseUrl });
    await owner.connect();
    await api.consent.subjectUpsert({ clientId, dateOfBirth: '1985-06-01', status: 'active' });
  }, 60_000);

  afterAll(async () => {
    await api?.close();
    await crm?.drain();
    await owner?.end();
    await consent?.stop();
  });

  it('a client.updated event keeps the subject status current, recorded as a change', async () => {
    await publish('client.updated', { clientId, status: 'inactive' });
    await eventually(
      () => api.consent.subjectGet({ clientId }),
      (s) => s.status === 'inactive',
    );
    const changes = await owner.query(
      `SELECT changed_by, fields FROM consent.subject_changes WHERE client_id = $1 AND changed_by LIKE 'spa-event:%'`,
      [clientId],
    );
    expect(changes.rows).toEqual([expect.objectContaining({ fields: ['status'] })]);
  });

  it('an event an authorization names as its expiry ends it from that moment; decisions follow (HIP-1, HIP-3)', async () => {
    const auth = await api.consent.authorizationRecord(
      completeAuthorization(clientId, {
        expiresAt: '2035-01-01T00:00:00Z',
        expiryEvent: 'end of the 2026 treatment plan',
      }),
    );
    const marketing = {
      clientId,
      recipientKind: 'service-provider',
      purpose: 'offers-and-marketing',
      categories: ['health.treatment-photos'],
      legalBasis: 'authorization' as const,
      authorizationId: auth.authorizationId,
    };
    const before = new Date().toISOString();
    expect((await api.consent.check(marketing)).reasons.map((r) => r.rule)).not.toContain('HIP-3');
    // Another event of the client's, not the one named: nothing changes.
    await publish('client.event-occurred', {
      clientId,
      event: 'follow-up booked',
      occurredAt: new Date().toISOString(),
    });
    const ended = new Date().toISOString();
    await publish('client.event-occurred', {
      clientId,
      event: 'end of the 2026 treatment plan',
      occurredAt: ended,
    });
    await eventually(
      () => api.consent.authorizationGet({ authorizationId: auth.authorizationId }),
      (a) => a.status === 'expired',
    );
    const denied = await api.consent.check(marketing);
    expect(denied.decision).toBe('DENY');
    expect(denied.reasons.map((r) => r.rule)).toContain('HIP-3');
    // What came before the event stands.
    const earlier = await api.consent.authorizationGet({
      authorizationId: auth.authorizationId,
      at: before,
    });
    expect(earlier.status).toBe('valid');
  });

  it('an event whose data breaks its contract is parked, loudly, and the next one is processed', async () => {
    const bad = await publish('client.updated', { clientId, status: 'vanished', smuggled: 1 });
    const good = await publish('client.updated', { clientId, status: 'active' });
    await eventually(
      () => api.consent.subjectGet({ clientId }),
      (s) => s.status === 'active',
    );
    expect(await inbox(bad)).toEqual({
      outcome: 'refused',
      reason: expect.stringMatching(/status, smuggled|smuggled, status/),
    });
    expect(await inbox(good)).toEqual({ outcome: 'processed', reason: null });
    expect(consent.lines.some((l) => l.includes('event refused') && !l.includes(clientId))).toBe(
      true,
    );
  });
});
