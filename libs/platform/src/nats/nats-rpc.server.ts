import {
  type ErrorBody,
  type Principal,
  extractTraceContext,
  Headers,
  inSpan,
  SpanKind,
  MalformedRequestError,
  callerOf,
  rpcSubscription,
  type ReplyEnvelope,
  WithBody,
} from '@dsg/contracts';
import {
  BaseRpcContext,
  type CustomTransportStrategy,
  type MessageHandler,
  Server,
  Transport,
} from '@nestjs/microservices';
import { isObservable, lastValueFrom } from 'rxjs';
import {
  headers as natsHeaders,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  type Subscription,
} from 'nats';
import { RpcErrorReply } from '../errors/exception-filters';
import { toErrorBody } from '../errors/error-mapping';
import type { ContractValidationPipe } from '../errors/validation.pipe';
import type { DirectHandler, DirectHandlers } from './direct-handlers';
import type { Logger } from '../logging/logger';
import type { MetricsService } from '../metrics/metrics.service';
import { withTimeout } from '../util/with-timeout';

type NatsRpcContextArgs = [subject: string, headers: MsgHdrs | undefined];

/** What a handler may ask of the NATS message it serves (`@Ctx() ctx: NatsRpcContext`). */
export class NatsRpcContext extends BaseRpcContext<NatsRpcContextArgs> {
  /** The person acting, set by AssertionGuard on handlers that require a role. */
  principal?: Principal;

  getSubject(): string {
    return this.args[0];
  }
  getHeader(name: string): string | undefined {
    return this.args[1]?.get(name) || undefined;
  }
  get idempotencyKey(): string | undefined {
    return this.getHeader(Headers.IDEMPOTENCY_KEY);
  }
  get requestId(): string | undefined {
    return this.getHeader(Headers.REQUEST_ID);
  }
  /** The calling NATS user, as the server enforced it (the subject's caller token). */
  get caller(): string {
    return callerOf(this.args[0]);
  }
}

export interface NatsRpcServerOptions {
  connection: () => Promise<NatsConnection>;
  subjectPrefix: string;
  /** Queue group: one replica of the service answers each request. */
  queue: string;
  logger: Logger;
  metrics: MetricsService;
  /** Longest wait for in-flight requests on shutdown. */
  drainTimeoutMs: number;
  /** Operations dispatched without Nest's per-call pipeline, and the pipe that validates them. */
  direct?: { handlers: DirectHandlers; pipe: ContractValidationPipe };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Request-reply over core NATS for `@MessagePattern` handlers. Nest's stock NATS transport is not
 * used because the platform needs control it does not give: the deployment's subject prefix,
 * one queue group per service, the reply envelope of the error model, and a shutdown that stops
 * taking work and waits for what is in flight before the connection is drained.
 */
export class NatsRpcServer extends Server implements CustomTransportStrategy {
  // Declared as NATS so that @GrpcMethod handlers are not offered to this server.
  override transportId = Transport.NATS;

  private subscriptions: Subscription[] = [];
  private inFlight = 0;
  private onIdle?: () => void;

  constructor(private readonly options: NatsRpcServerOptions) {
    super();
  }

  async listen(callback: (err?: unknown) => void): Promise<void> {
    try {
      const nc = await this.options.connection();
      for (const [pattern, handler] of this.messageHandlers) {
        if (handler.isEventHandler) continue; // durable events arrive through JetStream, not here
        const subject = rpcSubscription(this.options.subjectPrefix, pattern);
        this.subscriptions.push(
          nc.subscribe(subject, {
            queue: this.options.queue,
            callback: (err, msg) => {
              if (err) {
                this.options.logger.error({ err, subject }, 'NATS subscription error');
                return;
              }
              void this.handle(pattern, handler, msg);
            },
          }),
        );
      }
      callback();
    } catch (err) {
      callback(err);
    }
  }

  /** Stops taking work, then waits (bounded) until every request in flight has been answered. */
  async close(): Promise<void> {
    const subs = this.subscriptions;
    this.subscriptions = [];
    await Promise.all(
      subs.map((sub) =>
        withTimeout(sub.drain(), this.options.drainTimeoutMs, 'NATS unsubscribe').catch(() =>
          sub.unsubscribe(),
        ),
      ),
    );
    if (this.inFlight === 0) return;
    this.options.logger.info({ inFlight: this.inFlight }, 'waiting for in-flight NATS requests');
    await new Promise<void>((resolve) => {
      this.onIdle = resolve;
      setTimeout(() => {
        this.options.logger.warn({ inFlight: this.inFlight }, 'drain timeout: requests abandoned');
        resolve();
      }, this.options.drainTimeoutMs).unref();
    });
  }

  on(): never {
    throw new Error('NatsRpcServer does not emit events');
  }

  unwrap<T>(): T {
    throw new Error('NatsRpcServer shares the platform NATS connection; use NatsConnectionHolder');
  }

  private async handle(pattern: string, handler: MessageHandler, msg: Msg): Promise<void> {
    const startedAt = process.hrtime.bigint();
    this.inFlight++;
    let errorCode: string | undefined;
    try {
      if (!msg.reply) return; // request-reply only; fire-and-forget is not part of the contract
      let payload: unknown;
      try {
        payload = msg.data.length === 0 ? {} : JSON.parse(decoder.decode(msg.data));
      } catch {
        const body = new MalformedRequestError('Request payload is not valid JSON').toBody();
        errorCode = body.code;
        this.respond(msg, { ok: false, error: body });
        return;
      }
      const context = new NatsRpcContext([msg.subject, msg.headers]);
      if (this.options.logger.isLevelEnabled('trace')) {
        // Field values under personal keys are redacted by the logger; the shape stays visible.
        this.options.logger.trace(
          { operation: pattern, requestId: context.requestId, fields: payload },
          'request',
        );
      }
      const envelope = await inSpan(
        pattern,
        SpanKind.SERVER,
        { 'messaging.system': 'nats', 'messaging.destination.name': msg.subject },
        () => {
          const direct = this.options.direct?.handlers.get(pattern);
          return direct
            ? this.invokeDirect(direct, payload, context)
            : this.invoke(handler, payload, context);
        },
        extractTraceContext(msg.headers),
      );
      if (!envelope.ok) errorCode = envelope.error.code;
      this.respond(msg, envelope);
    } finally {
      this.options.metrics.observe('nats', pattern, startedAt, errorCode);
      this.inFlight--;
      if (this.inFlight === 0) this.onIdle?.();
    }
  }

  /** Runs the handler (pipes, filter included); never throws. */
  private async invoke(
    handler: MessageHandler,
    payload: unknown,
    context: NatsRpcContext,
  ): Promise<ReplyEnvelope<unknown>> {
    try {
      const result: unknown = await handler(payload, context);
      // Plain values (the usual case) are not wrapped in an Observable just to be unwrapped.
      const data = isObservable(result)
        ? await lastValueFrom(result, { defaultValue: null })
        : await (result as Promise<unknown>);
      return { ok: true, data: data ?? null };
    } catch (err) {
      const body: ErrorBody =
        err instanceof RpcErrorReply ? err.body : toErrorBody(err, this.options.logger, 'nats');
      return { ok: false, error: body };
    }
  }

  /** A direct handler: the same validation and error mapping as the Nest path, fewer steps. */
  private async invokeDirect(
    direct: DirectHandler,
    payload: unknown,
    context: NatsRpcContext,
  ): Promise<ReplyEnvelope<unknown>> {
    try {
      const request = await this.options.direct!.pipe.transform(payload, {
        type: 'body',
        metatype: direct.request as never,
      });
      const data = await direct.handle(request, context);
      return { ok: true, data: data ?? null };
    } catch (err) {
      return { ok: false, error: toErrorBody(err, this.options.logger, 'nats') };
    }
  }

  private respond(msg: Msg, envelope: ReplyEnvelope<unknown>): void {
    try {
      if (envelope.ok && envelope.data instanceof WithBody) {
        const { data, body } = envelope.data;
        const parts: readonly Uint8Array[] = [
          encoder.encode(`${JSON.stringify({ ok: true, data })}\n`),
          ...(body instanceof Uint8Array ? [body] : body),
        ];
        const payload = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
        let at = 0;
        for (const part of parts) {
          payload.set(part, at);
          at += part.length;
        }
        const h = natsHeaders();
        h.set(Headers.BODY, 'attached');
        msg.respond(payload, { headers: h });
        return;
      }
      msg.respond(encoder.encode(JSON.stringify(envelope)));
    } catch (err) {
      // The connection is gone; the caller will time out and retry with its idempotency key.
      this.options.logger.warn({ err, subject: msg.subject }, 'reply could not be sent');
    }
  }
}
