import { DsgClient, SERVICE_NAMES, SERVICES, type ServiceName } from '@dsg/contracts';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connectClient } from './support/clients';
import { GrpcTestClient } from './support/grpc';
import { ServiceProcess } from './support/service-process';
import { waitUntil } from './support/wait';

interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: Record<string, unknown>;
}

/** A minimal OTLP/HTTP (JSON) trace receiver: what a collector would get from the services. */
function startReceiver(): Promise<{ server: Server; url: string; spans: ReceivedSpan[] }> {
  const spans: ReceivedSpan[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      if (req.url === '/v1/traces') {
        const parsed = JSON.parse(body) as {
          resourceSpans: {
            resource: { attributes: { key: string; value: { stringValue?: string } }[] };
            scopeSpans: {
              spans: (Omit<ReceivedSpan, 'service' | 'attributes'> & {
                attributes?: { key: string; value: Record<string, unknown> }[];
              })[];
            }[];
          }[];
        };
        for (const rs of parsed.resourceSpans) {
          const service =
            rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '?';
          for (const ss of rs.scopeSpans) {
            for (const s of ss.spans) {
              const attributes = Object.fromEntries(
                (s.attributes ?? []).map((a) => [a.key, Object.values(a.value)[0]]),
              );
              spans.push({
                service,
                traceId: s.traceId,
                spanId: s.spanId,
                parentSpanId: s.parentSpanId,
                name: s.name,
                attributes,
              });
            }
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans }),
    ),
  );
}

async function traceOf(
  spans: ReceivedSpan[],
  isRoot: (s: ReceivedSpan) => boolean,
  expectedServices: number,
): Promise<ReceivedSpan[]> {
  const deadline = Date.now() + 15_000;
  let found: ReceivedSpan[] = [];
  while (Date.now() < deadline) {
    const root = spans.find(isRoot);
    if (root) {
      found = spans.filter((s) => s.traceId === root.traceId);
      if (new Set(found.map((s) => s.service)).size >= expectedServices) return found;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return found;
}

describe('tracing across NATS, gRPC, HTTP and PostgreSQL', () => {
  const processes: ServiceProcess[] = [];
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let client: DsgClient;

  beforeAll(async () => {
    receiver = await startReceiver();
    const otel = {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
    };
    for (const service of SERVICE_NAMES) processes.push(await ServiceProcess.start(service, otel));
    await Promise.all(processes.map((p) => p.waitReady()));
    client = await connectClient('ops');
  }, 90_000);

  afterAll(async () => {
    await client?.close();
    await Promise.all(processes.map((p) => p.stop()));
    receiver?.server.close();
  });

  it('one call through the typed client is one trace over several service processes and PostgreSQL', async () => {
    await client.gateway.stackHealth();
    const rootName = 'gateway.health.stack';
    const deadline = Date.now() + 15_000;
    let traceSpans: ReceivedSpan[] = [];
    while (Date.now() < deadline) {
      const root = receiver.spans.find((s) => s.name === rootName && s.service === 'gateway');
      if (root) {
        traceSpans = receiver.spans.filter((s) => s.traceId === root.traceId);
        const services = new Set(traceSpans.map((s) => s.service));
        const hasDb = traceSpans.some(
          (s) =>
            s.attributes['db.system'] === 'postgresql' ||
            s.attributes['db.system.name'] === 'postgresql',
        );
        if (services.size >= 4 && hasDb) break;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    const services = new Set(traceSpans.map((s) => s.service));
    expect([...services].sort()).toEqual([...SERVICE_NAMES].sort() as ServiceName[]);
    // Each service's NATS server span is a child of the gateway's client span.
    const consentServer = traceSpans.find(
      (s) => s.service === 'consent' && s.name === 'consent.system.status',
    );
    expect(consentServer).toBeDefined();
    const parent = traceSpans.find((s) => s.spanId === consentServer!.parentSpanId);
    expect(parent).toMatchObject({ service: 'gateway', name: 'consent.system.status request' });
    // PostgreSQL: the status check's query, in the consent process, inside this trace.
    expect(
      traceSpans.some(
        (s) =>
          s.service === 'consent' &&
          (s.attributes['db.system'] === 'postgresql' ||
            s.attributes['db.system.name'] === 'postgresql'),
      ),
    ).toBe(true);
  }, 30_000);

  it("a gateway span names the route's template, never a subject's id from the path or query", async () => {
    const gateway = processes.find((p) => p.service === 'gateway')!;
    const canary = `trace-canary-${Date.now()}`;
    const res = await fetch(gateway.url(`/v1/subjects/${canary}/accountings?clientId=${canary}`));
    expect(res.status).toBe(401);
    let span: ReceivedSpan | undefined;
    expect(
      await waitUntil(async () => {
        span = receiver.spans.find(
          (s) =>
            s.service === 'gateway' &&
            s.attributes['url.path'] === '/v1/subjects/:clientId/accountings',
        );
        return span !== undefined;
      }, 10_000),
    ).toBe(true);
    expect(span!.attributes['http.route']).toBe('/v1/subjects/:clientId/accountings');
    expect(JSON.stringify(receiver.spans)).not.toContain(canary);
  });

  it('HTTP and gRPC calls to the gateway start traces that the NATS hops join', async () => {
    const gateway = processes.find((p) => p.service === 'gateway')!;
    await fetch(gateway.url('/health'));
    const http = await traceOf(
      receiver.spans,
      (s) => s.service === 'gateway' && s.name === 'GET' && s.attributes['url.path'] === '/health',
      4,
    );
    expect(new Set(http.map((s) => s.service)).size).toBe(4);
    // The caller's address and user agent (personal data) never reach the trace.
    const httpSpan = http.find((s) => s.name === 'GET' && s.attributes['url.path'] === '/health')!;
    expect(
      httpSpan.attributes['http.response.status_code'] ?? httpSpan.attributes['http.status_code'],
    ).toBeDefined();
    for (const key of [
      'client.address',
      'user_agent.original',
      'network.peer.address',
      'net.peer.ip',
      'http.user_agent',
    ]) {
      expect(httpSpan.attributes[key]).toBeUndefined();
    }

    const grpc = new GrpcTestClient(SERVICES.gateway, gateway.grpcPort);
    try {
      await grpc.call('StackHealth', {});
    } finally {
      grpc.close();
    }
    const overGrpc = await traceOf(
      receiver.spans,
      (s) => s.service === 'gateway' && s.name.includes('GatewayService/StackHealth'),
      4,
    );
    expect(new Set(overGrpc.map((s) => s.service)).size).toBe(4);
  }, 40_000);
});
