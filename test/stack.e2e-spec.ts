import {
  DsgClient,
  DsgError,
  ErrorCodes,
  SERVICE_NAMES,
  SERVICES,
  type ServiceName,
  type StatusReply,
  UnavailableError,
  ValidationFailedError,
} from '@dsg/contracts';
import { headers, type NatsConnection } from 'nats';
import { Client } from 'pg';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectAs, natsPassword } from './support/nats-users';
import { e2eEnv } from './support/e2e-env';
import { GrpcTestClient } from './support/grpc';
import { TestIdp } from './support/gateway-stack';
import { ServiceProcess } from './support/service-process';

const { version: productVersion } = JSON.parse(
  readFileSync(join(__dirname, '..', 'package.json'), 'utf8'),
) as { version: string };

interface Problem {
  type: string;
  status: number;
  code: string;
  errors?: { field: string; constraint: string; message: string }[];
}

// Personal values that must never appear in any log line of any service (privacy policy 1.a).
const CANARY = {
  name: 'Zelda Canaryfield',
  email: 'zelda.canary@example.test',
  dateOfBirth: '1987-06-05',
};

describe('the stack: four services as separate processes on real PostgreSQL and NATS', () => {
  const env = e2eEnv();
  const processes = new Map<ServiceName, ServiceProcess>();
  let client: DsgClient;
  let nc: NatsConnection;
  let idp: TestIdp;
  /** An operator's Authorization header (the ping route is theirs). */
  let operator: Record<string, string>;

  beforeAll(async () => {
    idp = await TestIdp.start();
    operator = { authorization: `Bearer ${await idp.token('operator')}` };
    for (const service of SERVICE_NAMES) {
      processes.set(
        service,
        await ServiceProcess.start(service, {
          LOG_LEVEL: 'trace',
          ...(service === 'gateway' ? idp.gatewayEnv : {}),
        }),
      );
    }
    await Promise.all([...processes.values()].map((p) => p.waitReady()));
    client = await DsgClient.connect({
      caller: 'ops',
      password: natsPassword('ops'),
      natsUrl: env.natsUrl,
      subjectPrefix: env.subjectPrefix,
      timeoutMs: 3000,
    });
    nc = await connectAs(env.natsUrl, 'ops');
  }, 120_000);

  afterAll(async () => {
    await client?.close();
    await nc?.drain();
    await Promise.all([...processes.values()].map((p) => p.stop('SIGKILL')));
    await idp?.close();
  });

  const each = (name: string, fn: (service: ServiceName) => Promise<void>) =>
    it.each(SERVICE_NAMES.map((s) => [s]))(name, fn);

  each('%s reports ready, with PostgreSQL and NATS up', async (service) => {
    const res = await fetch(processes.get(service)!.url('/health/ready'));
    expect(res.status).toBe(200);
    const body = (await res.json()) as StatusReply;
    expect(body).toMatchObject({ service, state: 'ready', version: productVersion });
    expect(body.checks).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'postgres', state: 'up' }),
        expect.objectContaining({ name: 'nats', state: 'up' }),
      ]),
    );
    expect((await fetch(processes.get(service)!.url('/health/live'))).status).toBe(200);
  });

  each('%s connects to PostgreSQL as its runtime role, not as the owner', async (service) => {
    const db = new Client({ connectionString: env.databaseUrl });
    await db.connect();
    try {
      const { rows } = await db.query<{ usename: string }>(
        'SELECT DISTINCT usename FROM pg_stat_activity WHERE application_name = $1',
        [`${service}-${processes.get(service)!.child.pid}`],
      );
      expect(rows).toEqual([{ usename: SERVICES[service].runtimeRole }]);
    } finally {
      await db.end();
    }
  });

  each('%s answers version over NATS through the typed client', async (service) => {
    await expect(client.system(service).version()).resolves.toEqual({
      service,
      version: productVersion,
      runtime: process.version,
    });
    // The service knows who called from the subject the NATS server let the caller publish on.
    await expect(client.system(service).ping({})).resolves.toMatchObject({
      service,
      caller: 'ops',
    });
  });

  each('%s answers version and status over gRPC', async (service) => {
    const grpc = new GrpcTestClient(SERVICES[service], processes.get(service)!.grpcPort);
    try {
      await expect(grpc.call('Version', {})).resolves.toEqual({
        ok: true,
        value: { service, version: productVersion, runtime: process.version },
      });
      const status = await grpc.call<{ state: string; checks: unknown[] }>('Status', {});
      expect(status).toMatchObject({ ok: true, value: { state: 'ready' } });
    } finally {
      grpc.close();
    }
  });

  each(
    '%s exposes Prometheus metrics counting the calls it served on each transport',
    async (service) => {
      const proc = processes.get(service)!;
      await client.system(service).version();
      const grpc = new GrpcTestClient(SERVICES[service], proc.grpcPort);
      await grpc.call('Ping', { delayMs: -1 }).finally(() => grpc.close());
      await fetch(proc.url('/health/ready'));
      const res = await fetch(proc.url('/metrics'));
      expect(res.status).toBe(200);
      const text = await res.text();
      const counted = (labels: string) =>
        new RegExp(`dsg_rpc_requests_total\\{${labels.replace(/[.|/]/g, '\\$&')}\\} [1-9]`);
      expect(text).toMatch(
        counted(`transport="nats",operation="${service}.system.version",outcome="ok",code=""`),
      );
      expect(text).toMatch(
        counted(
          `transport="grpc",operation="${SERVICES[service].grpcService}/Ping",outcome="error",code="REQUEST.VALIDATION_FAILED"`,
        ),
      );
      expect(text).toMatch(
        counted(`transport="http",operation="GET /health/ready",outcome="ok",code=""`),
      );
      expect(text).toContain('dsg_process_cpu_user_seconds_total');
    },
  );

  it('the gateway answers GET /health with every service status gathered over NATS', async () => {
    const res = await fetch(processes.get('gateway')!.url('/health'));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { state: string; services: StatusReply[] };
    expect(body.state).toBe('ok');
    expect(body.services.map((s) => s.service).sort()).toEqual([...SERVICE_NAMES].sort());
    for (const s of body.services) expect(s.state).toBe('ready');
  });

  it('the gateway serves its OpenAPI document at /docs, with schemas from the contracts', async () => {
    const gateway = processes.get('gateway')!;
    expect((await fetch(gateway.url('/docs'))).status).toBe(200);
    const doc = (await (await fetch(gateway.url('/docs-json'))).json()) as {
      paths: Record<
        string,
        Record<string, { requestBody?: { content: Record<string, { schema: unknown }> } }>
      >;
      components: {
        schemas: Record<string, { properties?: Record<string, { maximum?: number }> }>;
      };
    };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/health',
        '/v1/services/{service}/ping',
        '/.well-known/signing-keys',
      ]),
    );
    expect(
      doc.paths['/v1/services/{service}/ping'].post.requestBody?.content['application/json'].schema,
    ).toEqual({
      $ref: '#/components/schemas/PingRequest',
    });
    expect(doc.components.schemas.PingRequest.properties?.delayMs.maximum).toBe(10_000);
  });

  describe('malformed requests get a structured error naming the field, and the service keeps serving', () => {
    each('NATS: %s rejects a ping whose delayMs is not an integer', async (service) => {
      const error = await client
        .system(service)
        .ping({ delayMs: 'soon' as unknown as number, ...CANARY } as never, { retries: 0 })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationFailedError);
      const fields = (error as DsgError).fields.map((f) => f.field);
      expect(fields).toEqual(expect.arrayContaining(['delayMs', 'name', 'email', 'dateOfBirth']));
      expect(JSON.stringify(error)).not.toContain(CANARY.email);
      await expect(client.system(service).version()).resolves.toMatchObject({ service });
    });

    each('NATS: %s answers a payload that is not JSON with REQUEST.MALFORMED', async (service) => {
      const reply = await nc.request(
        `${env.subjectPrefix}.rpc.ops.${service}.system.ping`,
        new TextEncoder().encode(`{"payload": "${CANARY.email}"`),
        { timeout: 3000 },
      );
      const envelope = JSON.parse(new TextDecoder().decode(reply.data));
      expect(envelope).toEqual({
        ok: false,
        error: expect.objectContaining({ code: ErrorCodes.MALFORMED }),
      });
      const notAnObject = await nc.request(
        `${env.subjectPrefix}.rpc.ops.${service}.system.ping`,
        new TextEncoder().encode('[1,2]'),
        {
          timeout: 3000,
        },
      );
      expect(JSON.parse(new TextDecoder().decode(notAnObject.data))).toMatchObject({
        ok: false,
        error: {
          code: ErrorCodes.VALIDATION_FAILED,
          fields: [{ field: '$', constraint: 'isObject' }],
        },
      });
      await expect(client.system(service).version()).resolves.toMatchObject({ service });
    });

    each(
      'gRPC: %s rejects an out-of-range delayMs with INVALID_ARGUMENT naming it',
      async (service) => {
        const grpc = new GrpcTestClient(SERVICES[service], processes.get(service)!.grpcPort);
        try {
          const result = await grpc.call('Ping', { payload: CANARY.name, delayMs: 99_999 });
          expect(result.ok).toBe(false);
          if (result.ok) return;
          expect(result.error.code).toBe(3); // INVALID_ARGUMENT
          expect(result.error.body).toMatchObject({
            code: ErrorCodes.VALIDATION_FAILED,
            fields: [expect.objectContaining({ field: 'delayMs', constraint: 'max' })],
          });
          // Bytes that are no protobuf message at all: refused, and the server lives on.
          const garbage = await grpc.callRaw(
            `/${SERVICES[service].grpcPackage}.${SERVICES[service].grpcService}/Ping`,
            Buffer.from([0xff, 0xff, 0xff, 0xff]),
          );
          // grpc-js answers undecodable bytes itself, before any handler: INTERNAL, no body.
          expect(garbage?.code).toBe(13);
          await expect(grpc.call('Version', {})).resolves.toMatchObject({ ok: true });
        } finally {
          grpc.close();
        }
      },
    );

    it('HTTP: the gateway answers a bad body with problem+json naming the field', async () => {
      const gateway = processes.get('gateway')!;
      const res = await fetch(gateway.url('/v1/services/consent/ping'), {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...operator },
        body: JSON.stringify({ delayMs: -1, email: CANARY.email }),
      });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const problem = (await res.json()) as Problem;
      expect(problem).toMatchObject({
        type: 'urn:dsg:problem:request.validation_failed',
        status: 400,
        code: ErrorCodes.VALIDATION_FAILED,
      });
      expect(problem.errors).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ field: 'delayMs', constraint: 'min' }),
          expect.objectContaining({ field: 'email', constraint: 'whitelistValidation' }),
        ]),
      );
      expect(JSON.stringify(problem)).not.toContain(CANARY.email);

      const unparsable = await fetch(gateway.url('/v1/services/consent/ping'), {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...operator },
        body: `{"name": "${CANARY.name}"`,
      });
      expect(unparsable.status).toBe(400);
      expect(await unparsable.json()).toMatchObject({ code: ErrorCodes.MALFORMED });

      const unknownService = await fetch(
        gateway.url(`/v1/services/${encodeURIComponent(CANARY.email)}/ping`),
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...operator },
          body: '{}',
        },
      );
      expect(unknownService.status).toBe(400);
      expect(((await unknownService.json()) as Problem).errors).toEqual([
        expect.objectContaining({ field: 'service' }),
      ]);

      const ok = await fetch(gateway.url('/v1/services/retention/ping'), {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...operator },
        body: JSON.stringify({ payload: CANARY.dateOfBirth }),
      });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toMatchObject({ service: 'retention', payload: CANARY.dateOfBirth });
    });
  });

  it('no seeded personal value appears in any log line of any service', async () => {
    // Personal values in a payload that succeeds, travelling through every hop.
    for (const service of SERVICE_NAMES) {
      await client
        .system(service)
        .ping({ payload: `${CANARY.name} ${CANARY.email} ${CANARY.dateOfBirth}` });
    }
    const h = headers();
    h.set('Idempotency-Key', CANARY.email);
    await nc.request(
      `${env.subjectPrefix}.rpc.ops.consent.system.ping`,
      new TextEncoder().encode(JSON.stringify(CANARY)),
      {
        timeout: 3000,
        headers: h,
      },
    );
    const lines = [...processes.values()].flatMap((p) => p.lines);
    expect(lines.length).toBeGreaterThan(20); // trace level: the services did log
    for (const value of Object.values(CANARY)) {
      expect(lines.filter((l) => l.includes(value))).toEqual([]);
    }
  });

  describe('SIGTERM with work in flight', () => {
    each(
      '%s reports draining, refuses new work, finishes in-flight NATS and gRPC requests, exits 0',
      async (service) => {
        const proc = processes.get(service)!;
        const grpc = new GrpcTestClient(SERVICES[service], proc.grpcPort);
        try {
          const natsInFlight = client
            .system(service)
            .ping({ payload: 'nats', delayMs: 1500 }, { retries: 0 });
          const grpcInFlight = grpc.call('Ping', { payload: 'grpc', delayMs: 1500 });
          await new Promise((r) => setTimeout(r, 400));
          proc.child.kill('SIGTERM');
          await new Promise((r) => setTimeout(r, 150));
          // Draining: readiness says so, new work is refused, in-flight work goes on.
          const ready = await fetch(proc.url('/health/ready'));
          expect(ready.status).toBe(503);
          expect(await ready.json()).toMatchObject({ state: 'draining' });
          await expect(
            client.system(service).version({}, { retries: 0, timeoutMs: 500 }),
          ).rejects.toBeInstanceOf(UnavailableError);
          if (service === 'gateway') {
            const refused = await fetch(proc.url('/v1/services/gateway/ping'), {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: '{}',
            });
            expect(refused.status).toBe(503);
            expect(await refused.json()).toMatchObject({ code: ErrorCodes.SHUTTING_DOWN });
          }
          await expect(natsInFlight).resolves.toMatchObject({ service, payload: 'nats' });
          await expect(grpcInFlight).resolves.toMatchObject({
            ok: true,
            value: { payload: 'grpc' },
          });
          await expect(proc.exited).resolves.toEqual({ code: 0, signal: null });
          await expect(
            client.system(service).version({}, { retries: 0, timeoutMs: 1000 }),
          ).rejects.toBeInstanceOf(UnavailableError);
          expect(proc.lines.some((l) => l.includes('"msg":"stopped"'))).toBe(true);
        } finally {
          grpc.close();
        }
      },
    );
  });
});
