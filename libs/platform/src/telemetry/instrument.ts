/**
 * OpenTelemetry for a service process. `startTelemetry` must run before anything it instruments
 * is loaded (HTTP, gRPC, pg, Nest), which is why every app's main.ts imports its instrument.ts
 * first and why this file imports nothing of the platform.
 *
 * Configured by the standard variables, read here (and only here) because configuration
 * validation itself loads modules that must be instrumented first:
 *   OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT  turns tracing on
 *   OTEL_EXPORTER_OTLP_PROTOCOL / _TRACES_PROTOCOL   http/protobuf (default) or http/json
 *   OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER(_ARG), OTEL_BSP_*
 *   OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none  turns it off
 * Off by default: without an endpoint the SDK is not even loaded, and the API calls made by the
 * NATS propagation code are no-ops.
 */
import type { Context } from '@opentelemetry/api';
import type { NodeSDK } from '@opentelemetry/sdk-node';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';

let sdk: NodeSDK | undefined;

export function startTelemetry(serviceName: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!endpoint || env.OTEL_SDK_DISABLED === 'true' || env.OTEL_TRACES_EXPORTER === 'none')
    return false;
  /* eslint-disable @typescript-eslint/no-require-imports -- loaded only when tracing is on */
  const { NodeSDK } =
    require('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node');
  const { HttpInstrumentation } =
    require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
  const { GrpcInstrumentation } =
    require('@opentelemetry/instrumentation-grpc') as typeof import('@opentelemetry/instrumentation-grpc');
  const { PgInstrumentation } =
    require('@opentelemetry/instrumentation-pg') as typeof import('@opentelemetry/instrumentation-pg');
  const { BatchSpanProcessor } =
    require('@opentelemetry/sdk-trace-base') as typeof import('@opentelemetry/sdk-trace-base');
  const protocol = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL || env.OTEL_EXPORTER_OTLP_PROTOCOL;
  const { OTLPTraceExporter } = (
    protocol === 'http/json'
      ? require('@opentelemetry/exporter-trace-otlp-http')
      : protocol === 'grpc'
        ? require('@opentelemetry/exporter-trace-otlp-grpc')
        : require('@opentelemetry/exporter-trace-otlp-proto')
  ) as typeof import('@opentelemetry/exporter-trace-otlp-http');
  /* eslint-enable @typescript-eslint/no-require-imports */
  sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME || serviceName,
    spanProcessors: [
      new PersonalDataSpanProcessor(new BatchSpanProcessor(new OTLPTraceExporter())),
    ],
    instrumentations: [
      new HttpInstrumentation(),
      new GrpcInstrumentation(),
      // Statements are parameterised; parameter values (personal data) are never recorded.
      new PgInstrumentation({ enhancedDatabaseReporting: false }),
    ],
  });
  sdk.start();
  return true;
}

/**
 * Instrumentation records the client's address and user agent on HTTP and gRPC spans: personal
 * data (website usage, privacy policy 1.d) that has no place in a trace. They are removed before
 * a span is exported.
 */
const PERSONAL_SPAN_ATTRIBUTES = [
  'client.address',
  'client.port',
  'net.peer.ip',
  'net.sock.peer.addr',
  'network.peer.address',
  'http.client_ip',
  'user_agent.original',
  'http.user_agent',
];

/** URL attributes: a query string or a path may carry a subject's id (`/v1/subjects/<id>/...`). */
const URL_ATTRIBUTES = ['url.full', 'http.url', 'http.target', 'url.path'];

/**
 * A URL's query is dropped, and where the handler named its route (`http.route`, the gateway's
 * route template such as `/v1/subjects/:clientId/accountings`), the path is the template.
 */
export function withoutPersonalUrl(attributes: Record<string, unknown>): void {
  delete attributes['url.query'];
  const route = typeof attributes['http.route'] === 'string' ? attributes['http.route'] : undefined;
  for (const key of URL_ATTRIBUTES) {
    const value = attributes[key];
    if (typeof value !== 'string') continue;
    const withoutQuery = value.split('?')[0];
    if (!route) {
      attributes[key] = withoutQuery;
    } else if (key === 'url.full' || key === 'http.url') {
      const origin = /^[a-z]+:\/\/[^/]+/i.exec(withoutQuery)?.[0] ?? '';
      attributes[key] = `${origin}${route}`;
    } else {
      attributes[key] = route;
    }
  }
}

class PersonalDataSpanProcessor implements SpanProcessor {
  constructor(private readonly next: SpanProcessor) {}
  onStart(span: Span, parentContext: Context): void {
    this.next.onStart(span, parentContext);
  }
  onEnd(span: ReadableSpan): void {
    const attributes = span.attributes as Record<string, unknown>;
    for (const key of PERSONAL_SPAN_ATTRIBUTES) delete attributes[key];
    withoutPersonalUrl(attributes);
    this.next.onEnd(span);
  }
  forceFlush(): Promise<void> {
    return this.next.forceFlush();
  }
  shutdown(): Promise<void> {
    return this.next.shutdown();
  }
}

/** Flushes and stops the exporter; part of graceful shutdown. */
export async function stopTelemetry(): Promise<void> {
  await sdk?.shutdown().catch(() => undefined);
  sdk = undefined;
}
