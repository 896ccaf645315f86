import {
  type Context,
  context,
  isSpanContextValid,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';

/**
 * W3C trace context over NATS headers. No released instrumentation covers NATS, so callers
 * inject `traceparent`/`tracestate` here and services extract them. Without an OpenTelemetry SDK
 * registered in the process every call below is a no-op.
 */
interface HeaderBag {
  get(key: string): string;
  set(key: string, value: string): void;
}

const tracer = () => trace.getTracer('dsg');

export function injectTraceContext(headers: HeaderBag, ctx: Context = context.active()): void {
  propagation.inject(ctx, headers, { set: (carrier, key, value) => carrier.set(key, value) });
}

/** Same, into a plain record (the outbox stores headers as JSON). */
export function traceHeaders(ctx: Context = context.active()): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier;
}

/** From NATS headers, or from a plain record (outbox rows). */
export function extractTraceContext(
  headers: HeaderBag | Record<string, string> | undefined,
): Context {
  if (!headers) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, headers, {
    get: (carrier, key) =>
      (typeof carrier.get === 'function'
        ? (carrier as HeaderBag).get(key)
        : (carrier as Record<string, string>)[key]) || undefined,
    keys: () => ['traceparent', 'tracestate'],
  });
}

/** Runs `fn` in a span (child of `parent`), recording failure; the span is the active one. */
export function inSpan<T>(
  name: string,
  kind: SpanKind,
  attributes: Record<string, string>,
  fn: (span: Span) => Promise<T>,
  parent: Context = context.active(),
): Promise<T> {
  const span = tracer().startSpan(name, { kind, attributes }, parent);
  // Nothing to record and no trace to carry on (no SDK, or no sampled parent): no context switch.
  if (!span.isRecording() && !isSpanContextValid(span.spanContext())) return fn(span);
  return context.with(trace.setSpan(parent, span), async () => {
    try {
      return await fn(span);
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.name });
      throw err;
    } finally {
      span.end();
    }
  });
}

export { SpanKind };
