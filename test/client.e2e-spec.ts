import {
  DsgClient,
  DsgError,
  ErrorCodes,
  Rpc,
  TimeoutError,
  UnavailableError,
  ValidationFailedError,
} from '@dsg/contracts';
import { type Msg, type NatsConnection } from 'nats';
import { e2eEnv } from './support/e2e-env';
import { connectAs, natsPassword } from './support/nats-users';

/**
 * The typed client against a real NATS server. The answering side here is a bare NATS
 * subscriber standing in for a service, so each failure mode can be produced on demand.
 */
describe(DsgClient.name, () => {
  const env = e2eEnv();
  const prefix = `${env.subjectPrefix}-client`;
  // One connection per service stood in for, as that service's NATS user.
  const responders = new Map<string, NatsConnection>();
  let sut: DsgClient;

  beforeAll(async () => {
    for (const service of ['consent', 'retention', 'gateway']) {
      responders.set(service, await connectAs(env.natsUrl, service));
    }
    sut = await DsgClient.connect({
      caller: 'ops',
      password: natsPassword('ops'),
      natsUrl: env.natsUrl,
      subjectPrefix: prefix,
      timeoutMs: 300,
      retries: 2,
      retryBackoffMs: 20,
    });
  });

  afterAll(async () => {
    await sut.close();
    await Promise.all([...responders.values()].map((nc) => nc.drain()));
  });

  // Resolves once the server has the subscription, so the first request cannot miss it.
  const serve = async (subject: string, handle: (msg: Msg, attempt: number) => void) => {
    let attempt = 0;
    const nc = responders.get(subject.split('.')[0])!;
    const sub = nc.subscribe(`${prefix}.rpc.ops.${subject}`, {
      callback: (_err, msg) => handle(msg, ++attempt),
    });
    await nc.flush();
    return sub;
  };
  const reply = (msg: Msg, body: unknown) =>
    msg.respond(new TextEncoder().encode(JSON.stringify(body)));

  it('retries a timed-out command with the same idempotency key and returns the eventual answer', async () => {
    const keys: string[] = [];
    const sub = await serve(Rpc.consent.subjectUpsert.subject, (msg, attempt) => {
      keys.push(msg.headers?.get('Idempotency-Key') ?? '');
      if (attempt < 3) return; // swallowed: the caller times out
      reply(msg, { ok: true, data: { clientId: 'c-1' } });
    });
    try {
      await expect(sut.consent.subjectUpsert({ clientId: 'c-1' })).resolves.toMatchObject({
        clientId: 'c-1',
      });
      expect(keys).toHaveLength(3);
      expect(new Set(keys).size).toBe(1);
      expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      sub.unsubscribe();
    }
  });

  it('retries a timed-out query, which carries no idempotency key and no headers', async () => {
    const seen: (string[] | undefined)[] = [];
    const sub = await serve(Rpc.consent.version.subject, (msg, attempt) => {
      seen.push(msg.headers?.keys());
      if (attempt < 2) return;
      reply(msg, { ok: true, data: { service: 'consent', version: '9.9.9', runtime: 'x' } });
    });
    try {
      await expect(sut.consent.version()).resolves.toMatchObject({ version: '9.9.9' });
      expect(seen).toEqual([undefined, undefined]);
    } finally {
      sub.unsubscribe();
    }
  });

  it('uses the caller idempotency key when given one', async () => {
    let seen = '';
    const sub = await serve(Rpc.retention.ping.subject, (msg) => {
      seen = msg.headers?.get('Idempotency-Key') ?? '';
      reply(msg, {
        ok: true,
        data: { service: 'retention', instance: 'r', payload: '', receivedAt: '' },
      });
    });
    try {
      await sut.retention.ping({}, { idempotencyKey: 'order-42' });
      expect(seen).toBe('order-42');
    } finally {
      sub.unsubscribe();
    }
  });

  it('gives up after its retries with a TimeoutError', async () => {
    let calls = 0;
    const sub = await serve(Rpc.gateway.status.subject, () => calls++);
    try {
      await expect(sut.gateway.status()).rejects.toBeInstanceOf(TimeoutError);
      expect(calls).toBe(3);
    } finally {
      sub.unsubscribe();
    }
  });

  it('reports a service nobody serves as UnavailableError', async () => {
    const error = await sut.disclosureRegister.version({}, { retries: 0 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnavailableError);
    expect((error as DsgError).code).toBe(ErrorCodes.UNAVAILABLE);
  });

  it('surfaces service errors as typed errors and does not retry what is not retryable', async () => {
    let calls = 0;
    const sub = await serve(Rpc.consent.ping.subject, (msg) => {
      calls++;
      reply(msg, {
        ok: false,
        error: {
          code: ErrorCodes.VALIDATION_FAILED,
          message: 'Invalid request: delayMs',
          fields: [{ field: 'delayMs', constraint: 'max', message: 'too large' }],
        },
      });
    });
    try {
      const error = await sut.consent.ping({ delayMs: 1 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationFailedError);
      expect((error as DsgError).fields[0].field).toBe('delayMs');
      expect(calls).toBe(1);
    } finally {
      sub.unsubscribe();
    }
  });
});
