import { DsgClient, ErrorCodes, type DsgError } from '@dsg/contracts';
import { connect, type NatsConnection, type NatsError } from 'nats';
import { e2eEnv } from './support/e2e-env';
import { connectAs, natsPassword } from './support/nats-users';
import { PrivateNats } from './support/private-nats';
import { ServiceProcess } from './support/service-process';

/**
 * Caller identity on the bus, against a private nats-server running the repository's
 * deploy/nats/nats-server.conf: the NATS server, not the caller, decides who is calling.
 */
describe('NATS users and permissions', () => {
  const env = e2eEnv();
  let nats: PrivateNats;
  let consent: ServiceProcess;
  const connections: NatsConnection[] = [];
  const as = async (user: string) => {
    const nc = await connectAs(nats.url, user);
    connections.push(nc);
    return nc;
  };
  const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

  beforeAll(async () => {
    nats = await PrivateNats.start();
    consent = await ServiceProcess.start('consent', { NATS_URL: nats.url });
    await consent.waitReady();
  }, 60_000);

  afterAll(async () => {
    await Promise.all(connections.map((nc) => nc.close().catch(() => undefined)));
    await consent?.stop();
    await nats?.stop();
  });

  it('a service learns who called from the subject the server let the caller use', async () => {
    const client = await DsgClient.connect({
      caller: 'retention',
      password: natsPassword('retention'),
      natsUrl: nats.url,
      subjectPrefix: env.subjectPrefix,
    });
    try {
      await expect(client.consent.ping({})).resolves.toMatchObject({
        service: 'consent',
        caller: 'retention',
      });
    } finally {
      await client.close();
    }
  });

  it('a client cannot call under another name', async () => {
    const booking = await as('booking');
    const error = (await booking
      .request(`${env.subjectPrefix}.rpc.consent.consent.system.ping`, encode({}), {
        timeout: 2000,
      })
      .catch((e: unknown) => e)) as NatsError;
    expect(error.isPermissionError()).toBe(true);
  });

  it('a user may call only the services the architecture has it call', async () => {
    // Internal systems ask the three domain services, never the gateway.
    const booking = await as('booking');
    const denied = (await booking
      .request(`${env.subjectPrefix}.rpc.booking.gateway.system.version`, encode({}), {
        timeout: 2000,
      })
      .catch((e: unknown) => e)) as NatsError;
    expect(denied.isPermissionError()).toBe(true);
  });

  it("the spa's client system answers the consent service's client-system requests, and only it listens", async () => {
    const subject = `${env.subjectPrefix}.client-system.match`;
    const booking = await as('booking');
    booking.subscribe(subject, {
      callback: (e, m) => {
        if (!e) m.respond(encode({ matched: ['email'] }));
      },
    });
    const crm = await as('crm');
    const overheard: string[] = [];
    crm.subscribe(subject, {
      callback: (e, m) => {
        if (!e) overheard.push(m.subject);
      },
    });
    await booking.flush();
    const consentUser = await as('consent');
    const reply = await consentUser.request(subject, encode({ clientId: 'c-1', points: {} }), {
      timeout: 2000,
    });
    expect(JSON.parse(new TextDecoder().decode(reply.data))).toEqual({ matched: ['email'] });
    await new Promise((r) => setTimeout(r, 200));
    expect(overheard).toEqual([]);
  });

  it("a user cannot listen in on another service's requests", async () => {
    const booking = await as('booking');
    const stolen: string[] = [];
    booking.subscribe(`${env.subjectPrefix}.rpc.*.consent.>`, {
      callback: (_e, m) => stolen.push(m.subject),
    });
    const ops = await as('ops');
    const reply = await ops.request(
      `${env.subjectPrefix}.rpc.ops.consent.system.version`,
      encode({}),
      {
        timeout: 2000,
      },
    );
    expect(JSON.parse(new TextDecoder().decode(reply.data))).toMatchObject({ ok: true });
    await new Promise((r) => setTimeout(r, 200));
    expect(stolen).toEqual([]);
  });

  it("a user cannot read another user's replies", async () => {
    const booking = await as('booking');
    const overheard: string[] = [];
    booking.subscribe('_INBOX_ops.>', { callback: (_e, m) => overheard.push(m.subject) });
    booking.subscribe('_INBOX.>', { callback: (_e, m) => overheard.push(m.subject) });
    const ops = await as('ops');
    await ops.request(`${env.subjectPrefix}.rpc.ops.consent.system.version`, encode({}), {
      timeout: 2000,
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(overheard).toEqual([]);
  });

  it("a service cannot publish another service's events, and a client cannot use JetStream", async () => {
    const retention = await as('retention');
    const js = retention.jetstream();
    const forged = (await js
      .publish(`${env.subjectPrefix}.consent.events.test.forged.v1`, encode({}), { timeout: 2000 })
      .catch((e: unknown) => e)) as NatsError;
    expect(forged.isPermissionError?.() || /permission/i.test(String(forged.message))).toBe(true);

    const booking = await as('booking');
    const listing = (await (
      await booking.jetstreamManager({ checkAPI: false })
    ).streams
      .info('ANY')
      .catch((e: unknown) => e)) as NatsError;
    expect(listing.isPermissionError?.() || /permission/i.test(String(listing.message))).toBe(true);
  });

  it('a wrong password is refused', async () => {
    const error = (await connect({ servers: nats.url, user: 'consent', pass: 'guess' }).catch(
      (e: unknown) => e,
    )) as NatsError;
    expect(error.code).toBe('AUTHORIZATION_VIOLATION');
  });

  it('the typed client reports a refused publish as REQUEST.FORBIDDEN', async () => {
    const crm = await as('crm');
    const client = await DsgClient.connect({
      caller: 'booking',
      connection: crm,
      subjectPrefix: env.subjectPrefix,
    });
    const error = (await client.consent
      .version({}, { retries: 0 })
      .catch((e: unknown) => e)) as DsgError;
    expect(error.code).toBe(ErrorCodes.FORBIDDEN);
  });
});
