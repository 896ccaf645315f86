import { randomUUID } from 'node:crypto';
import {
  connect,
  ErrorCode as NatsErrorCode,
  headers as natsHeaders,
  JSONCodec,
  type NatsConnection,
  NatsError,
} from 'nats';
import { DsgError, ErrorCodes, TimeoutError, UnavailableError } from '../errors';
import { type RpcApi, type RpcDef, Rpc, type SystemRpcs } from '../rpc';
import { SERVICE_NAMES, type ServiceName } from '../services';
import { injectTraceContext, inSpan, SpanKind } from '../tracing';
import { RequestMux } from './request-mux';
import { CALLER_PATTERN, Headers, inboxPrefixFor, type ReplyEnvelope, rpcSubject } from '../wire';

export interface DsgClientOptions {
  /**
   * Who is calling: the NATS user this client connects as (a service name, or an internal
   * client such as `booking`). The server only lets a user publish requests under its own name.
   */
  caller: string;
  /** NATS server URL(s); ignored when `connection` is given. */
  natsUrl?: string | string[];
  /** NATS password of the `caller` user (not needed on a server without authorization). */
  password?: string;
  /** Reuse an existing connection (the client then does not close it). */
  connection?: NatsConnection;
  /** The deployment's subject prefix (NATS_SUBJECT_PREFIX of the services). Default `dsg`. */
  subjectPrefix?: string;
  /** Per-attempt timeout. Every call has one; default 5000 ms. */
  timeoutMs?: number;
  /** Further attempts after a retryable failure (timeout, unavailable). Default 2. */
  retries?: number;
  /** Pause before the first retry, doubled each time. Default 100 ms. */
  retryBackoffMs?: number;
  /** Connection name shown by the NATS server. */
  name?: string;
}

export interface CallOptions {
  timeoutMs?: number;
  retries?: number;
  /** Reused by every retry of this call, so the service can recognise the repeat. */
  idempotencyKey?: string;
  requestId?: string;
  /** The gateway-signed assertion of the person on whose behalf the call is made. */
  assertion?: string;
}

type Operations<T> = {
  [K in keyof T]: T[K] extends RpcDef<infer Req, infer Res>
    ? (request?: Req, options?: CallOptions) => Promise<Res>
    : never;
};

type ServiceClients = { [S in ServiceName as CamelCase<S>]: Operations<RpcApi[S]> };
type CamelCase<S extends string> = S extends `${infer H}-${infer T}`
  ? `${H}${Capitalize<CamelCase<T>>}`
  : S;

const codec = JSONCodec<unknown>();

/**
 * The one object an internal Node service needs to call any DSG service over NATS:
 * `const dsg = await DsgClient.connect({ natsUrl }); await dsg.consent.version();`
 * Every call has a timeout; retryable failures are retried with the same idempotency key;
 * service errors arrive as `DsgError` (or a subclass) carrying the stable code.
 */
export class DsgClient implements ServiceClients {
  readonly consent!: Operations<RpcApi['consent']>;
  readonly disclosureRegister!: Operations<RpcApi['disclosure-register']>;
  readonly retention!: Operations<RpcApi['retention']>;
  readonly gateway!: Operations<RpcApi['gateway']>;

  private readonly prefix: string;
  private readonly caller: string;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly mux: RequestMux;

  private constructor(
    readonly connection: NatsConnection,
    private readonly ownsConnection: boolean,
    options: DsgClientOptions,
  ) {
    if (!CALLER_PATTERN.test(options.caller))
      throw new Error(`invalid caller name: ${options.caller}`);
    this.prefix = options.subjectPrefix ?? 'dsg';
    this.caller = options.caller;
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.retries = options.retries ?? 2;
    this.backoffMs = options.retryBackoffMs ?? 100;
    this.mux = new RequestMux(connection, inboxPrefixFor(options.caller));
    for (const service of SERVICE_NAMES) {
      const ops = Rpc[service] as Record<string, RpcDef<unknown, unknown>>;
      const bound = Object.fromEntries(
        Object.entries(ops).map(([op, def]) => [
          op,
          (request?: unknown, callOptions?: CallOptions) => this.call(def, request, callOptions),
        ]),
      );
      Object.assign(this, { [camel(service)]: bound });
    }
  }

  static async connect(options: DsgClientOptions): Promise<DsgClient> {
    if (options.connection) return new DsgClient(options.connection, false, options);
    const connection = await connect({
      servers: options.natsUrl ?? 'nats://127.0.0.1:4222',
      name: options.name ?? `dsg-client-${options.caller}`,
      user: options.caller,
      pass: options.password,
      inboxPrefix: inboxPrefixFor(options.caller),
      // nats.js otherwise builds two Error objects (stack traces) for every request, a third of
      // a call's CPU; failures are translated into DsgErrors with their own context anyway.
      noAsyncTraces: true,
    });
    return new DsgClient(connection, true, options);
  }

  /** Calls one operation. Prefer the typed service properties (`client.consent.version()`). */
  async call<Req, Res>(
    def: RpcDef<Req, Res>,
    request?: Req,
    options: CallOptions = {},
  ): Promise<Res> {
    const attempts = 1 + (options.retries ?? this.retries);
    // A command's retries carry one key, so the service can recognise the repeat; a query needs none.
    const idempotencyKey =
      options.idempotencyKey ?? (def.kind === 'command' ? randomUUID() : undefined);
    const requestId = options.requestId ?? (def.kind === 'command' ? randomUUID() : undefined);
    let delay = this.backoffMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once<Res>(def.subject, request ?? {}, options, idempotencyKey, requestId);
      } catch (err) {
        const retryable = err instanceof DsgError && err.retryable;
        if (!retryable || attempt >= attempts) throw err;
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay *= 2;
      }
    }
  }

  /** The system operations (version, status, ping) of a service chosen at run time. */
  system(service: ServiceName): Operations<SystemRpcs> {
    return (this as unknown as Record<string, Operations<SystemRpcs>>)[camel(service)];
  }

  async close(): Promise<void> {
    this.mux.close();
    if (this.ownsConnection && !this.connection.isClosed()) await this.connection.drain();
  }

  private async once<Res>(
    subject: string,
    request: unknown,
    options: CallOptions,
    idempotencyKey: string | undefined,
    requestId: string | undefined,
  ): Promise<Res> {
    const h = natsHeaders();
    if (idempotencyKey) h.set(Headers.IDEMPOTENCY_KEY, idempotencyKey);
    if (requestId) h.set(Headers.REQUEST_ID, requestId);
    if (options.assertion) h.set(Headers.ASSERTION, options.assertion);
    const timeout = options.timeoutMs ?? this.timeoutMs;
    const wireSubject = rpcSubject(this.prefix, this.caller, subject);
    const raw = await inSpan(
      `${subject} request`,
      SpanKind.CLIENT,
      { 'messaging.system': 'nats', 'messaging.destination.name': wireSubject },
      async () => {
        injectTraceContext(h);
        try {
          // No header block at all when there is nothing to say (a query outside a trace).
          return await this.mux.request(
            wireSubject,
            codec.encode(request),
            timeout,
            h.keys().length > 0 ? h : undefined,
          );
        } catch (err) {
          throw translateNatsError(err, subject, timeout);
        }
      },
    );
    let envelope: ReplyEnvelope<Res>;
    try {
      if (raw.headers?.get(Headers.BODY) === 'attached') {
        const end = raw.data.indexOf(0x0a);
        envelope = codec.decode(raw.data.subarray(0, end)) as ReplyEnvelope<Res>;
        if (envelope.ok) {
          envelope = { ok: true, data: { ...envelope.data, body: raw.data.subarray(end + 1) } };
        }
      } else {
        envelope = codec.decode(raw.data) as ReplyEnvelope<Res>;
      }
    } catch {
      throw new DsgError(ErrorCodes.INTERNAL, `Unreadable reply on ${subject}`);
    }
    if (envelope.ok) return envelope.data;
    throw DsgError.fromBody(envelope.error);
  }
}

function translateNatsError(err: unknown, subject: string, timeout: number): Error {
  if (err instanceof NatsError) {
    if (err.code === NatsErrorCode.NoResponders) {
      return new UnavailableError(ErrorCodes.UNAVAILABLE, `No service answers ${subject}`);
    }
    if (err.code === NatsErrorCode.Timeout) {
      return new TimeoutError(`${subject} did not answer within ${timeout} ms`);
    }
    if (err.code === NatsErrorCode.ConnectionClosed || err.code === NatsErrorCode.Disconnect) {
      return new UnavailableError(
        ErrorCodes.UNAVAILABLE,
        `NATS connection lost calling ${subject}`,
      );
    }
    if (err.isPermissionError()) {
      return new DsgError(ErrorCodes.FORBIDDEN, `This NATS user may not call ${subject}`);
    }
  }
  return err instanceof Error ? err : new Error(String(err));
}

function camel(name: string): string {
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}
