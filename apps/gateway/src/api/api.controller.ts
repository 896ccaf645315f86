import {
  catalogEntry,
  DsgClient,
  DsgError,
  ErrorCodes,
  type ExportManifest,
  type ExportManifestRequest,
  exportRegister,
  Headers,
  IDEMPOTENCY_KEY_PATTERN,
  type PingRequest,
  type Principal,
  SERVICE_NAMES,
  type ServiceName,
  type VersionReply,
} from '@dsg/contracts';
import { KeyRing, type Logger, PLATFORM_LOGGER, signAssertion, SystemService } from '@dsg/platform';
import { All, Controller, Inject, Req, Res } from '@nestjs/common';
import { trace } from '@opentelemetry/api';
import { ApiExcludeEndpoint } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { AccessLogService } from '../access-log/access-log.service';
import { Authenticator } from '../auth/authenticator';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config';
import { StackHealthService } from '../health/stack-health.service';
import { RateLimitedError, RateLimiter } from '../http/rate-limiter';
import { RequestInput } from './request-input';
import { RouteMatcher } from './route-matcher';
import { type RouteDef, ROUTES } from './route-table';

/** What one call needs as it goes through the dispatcher. */
interface Call {
  route: RouteDef;
  principal: Principal;
  input: Record<string, unknown>;
  /** Path and query members (never a body): the access log's "which filter". */
  filter: Record<string, unknown>;
  requestId: string;
  req: Request;
  res: Response;
  /** Aborted when the client's connection closes, whenever that happens. */
  gone: AbortSignal;
}

/**
 * The people-facing API: every `/v1/...` request comes here and is dispatched by the route table
 * (route-table.ts), in this order: the route (404/415), the person's token (401), their rate
 * (429), the route's roles (403; refusals of an audited route are logged too), then the call,
 * made with a short-lived assertion of the person for the one service it goes to. Accesses to
 * register data, reports and exports are written to the access log (POL-7) before their answer
 * leaves. Errors are problem+json (HttpProblemFilter).
 */
@Controller()
export class ApiController {
  private readonly matcher = new RouteMatcher(ROUTES);
  private readonly input = new RequestInput(ROUTES);
  private readonly limiter: RateLimiter;

  constructor(
    private readonly client: DsgClient,
    private readonly keyRing: KeyRing,
    private readonly system: SystemService,
    private readonly auth: Authenticator,
    private readonly accessLog: AccessLogService,
    private readonly health: StackHealthService,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(PLATFORM_LOGGER) private readonly logger: Logger,
  ) {
    this.limiter = new RateLimiter(config.rateLimitPerMinute);
  }

  @All(['v1', 'v1/*path'])
  @ApiExcludeEndpoint()
  async dispatch(@Req() req: Request, @Res() res: Response): Promise<void> {
    // Registered first: a client may leave during any await below.
    const gone = new AbortController();
    res.once('close', () => gone.abort());
    const { route, params } = this.matcher.match(req.method, req.path, res);
    // Traces name the route, never the path: a path may carry a subject's id.
    trace.getActiveSpan()?.setAttribute('http.route', route.path);
    let principal: Principal;
    try {
      principal = await this.auth.authenticate(req);
    } catch (err) {
      // POL-7: an attempt without a valid token is traced in the log (the route, never a token).
      if (err instanceof DsgError && err.code === ErrorCodes.UNAUTHENTICATED) {
        this.logger.info(
          { route: route.id, reason: err.message },
          'unauthenticated request refused',
        );
      }
      throw err;
    }
    try {
      this.limiter.take(principal.subject);
    } catch (err) {
      if (err instanceof RateLimitedError) res.setHeader('Retry-After', err.retryAfterSeconds);
      throw err;
    }
    const query = req.query as Record<string, unknown>;
    const call: Call = {
      route,
      principal,
      input: {},
      filter: { ...query, ...params },
      requestId: requestIdOf(req),
      req,
      res,
      gone: gone.signal,
    };
    // Bad text is refused by field before it reaches a service or the access log.
    refuseUnreadableMembers(call.filter);
    // POL-7: the role matrix, in one place.
    if (!route.roles.some((role) => principal.roles.includes(role))) {
      const refusal = new DsgError(
        ErrorCodes.FORBIDDEN,
        `This needs the role ${route.roles.join(' or ')}`,
      );
      if (route.audited) await this.log(call, 'refused', 0, refusal);
      throw refusal;
    }
    try {
      call.input = this.input.of(route, params, query, req.body, req);
      await this.serve(call);
    } catch (thrown) {
      const err = this.asPersonFacing(thrown);
      if (route.audited && !res.headersSent) await this.log(call, 'failed', 0, err);
      if (res.headersSent) {
        // A stream already under way cannot turn into a problem: cut it, so the client sees an
        // incomplete transfer rather than a short file that looks whole.
        res.destroy();
        return;
      }
      throw err;
    }
  }

  /**
   * A service refusing the gateway's own assertion is the stack's problem, not the person's
   * (their token was verified here): 503, retryable, and an operator sees it in the log.
   */
  private asPersonFacing(err: unknown): unknown {
    if (err instanceof DsgError && err.code === ErrorCodes.UNAUTHENTICATED) {
      this.logger.warn({ reason: err.message }, "a service refused the gateway's assertion");
      return new DsgError(
        ErrorCodes.UNAVAILABLE,
        "A service could not verify the gateway's signature on this call; try again",
      );
    }
    return err;
  }

  private async serve(call: Call): Promise<void> {
    const { route, res } = call;
    switch (route.id) {
      case 'register.export':
        return this.export(call);
      case 'operations.health':
        return this.stackHealth(res);
      case 'operations.ping':
        return this.reply(call, await this.ping(call));
      case 'keys.rotate':
        return this.reply(call, await this.rotate(call));
      case 'access-log.list':
        return this.reply(
          call,
          await this.accessLog.list({
            ...call.input,
            after: numberOr(call.input.after),
            limit: numberOr(call.input.limit),
          }),
        );
    }
    if (!route.rpc) throw new Error(`route ${route.id} has no handler`);
    const { service, op } = route.rpc;
    // Required where the route says so; forwarded from any command that carries one.
    const idempotencyKey =
      op.kind === 'command' ? this.idempotencyKey(call.req, route.idempotent === true) : undefined;
    const reply = (await this.client.call(op, call.input, {
      assertion: this.assertion(call.principal, service),
      requestId: call.requestId,
      // A query may be asked again; a command only with the caller's own key.
      retries: op.kind === 'query' || idempotencyKey ? 2 : 0,
      ...(idempotencyKey ? { idempotencyKey } : {}),
    })) as Record<string, unknown>;
    if (route.binary) {
      const body = reply.body as Uint8Array | undefined;
      if (!body) throw new DsgError(ErrorCodes.UNAVAILABLE, 'The document did not arrive');
      await this.logServed(call, reply);
      res.status(200).type(route.binary).setHeader('Content-Length', body.byteLength);
      res.end(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
      return;
    }
    if (route.id === 'rights.report' && reply.format === 'pdf' && typeof reply.pdf === 'string') {
      await this.logServed(call, reply);
      res
        .status(200)
        .type('application/pdf')
        .setHeader('Dsg-Content-Hash', String(reply.contentHash))
        .end(Buffer.from(reply.pdf, 'base64'));
      return;
    }
    return this.reply(call, reply);
  }

  private async reply(call: Call, body: unknown): Promise<void> {
    await this.logServed(call, body);
    call.res.status(200).json(body);
  }

  private async logServed(call: Call, reply: unknown): Promise<void> {
    if (call.route.audited) await this.log(call, 'served', call.route.audited.count(reply));
  }

  private log(
    call: Call,
    outcome: 'served' | 'refused' | 'failed',
    entries: number,
    err?: unknown,
  ): Promise<void> {
    const code = err instanceof DsgError ? err.code : err ? ErrorCodes.INTERNAL : undefined;
    return this.accessLog.record({
      principal: call.principal,
      action: call.route.id,
      filter: call.filter,
      entries,
      outcome,
      status: code ? catalogEntry(code).httpStatus : 200,
      ...(code ? { errorCode: code } : {}),
      requestId: call.requestId,
    });
  }

  /**
   * The register's lines streamed as they come from the register, in order, at the client's
   * pace. The manifest is fixed first (one sealed tree head); the access is logged with its
   * number of entries before the first byte leaves.
   */
  private async export(call: Call): Promise<void> {
    const { res, gone } = call;
    const request = call.input as unknown as ExportManifestRequest;
    const assertion = () => this.assertion(call.principal, 'disclosure-register');
    const manifest: ExportManifest = await this.client.disclosureRegister.exportManifest(request, {
      assertion: assertion(),
      requestId: call.requestId,
      retries: 2,
    });
    if (gone.aborted) throw new DsgError(ErrorCodes.UNAVAILABLE, 'The client went away');
    await this.log(call, 'served', manifest.entries);
    const extension = manifest.format === 'csv' ? 'csv' : 'jsonl';
    res
      .status(200)
      .type(manifest.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson')
      .setHeader('Dsg-Export-Manifest', Buffer.from(JSON.stringify(manifest)).toString('base64url'))
      .setHeader('Dsg-Export-Entries', String(manifest.entries))
      .setHeader(
        'Content-Disposition',
        `attachment; filename="register-${manifest.treeHead.treeSize}.${extension}"`,
      );
    res.flushHeaders();
    let lines = 0;
    try {
      await exportRegister(
        this.client,
        request,
        async (chunk) => {
          if (gone.aborted || res.destroyed) throw new Error('the client went away');
          for (let i = chunk.indexOf(0x0a); i !== -1; i = chunk.indexOf(0x0a, i + 1)) lines++;
          // `once` with the signal removes its listeners either way: none pile up on `res`.
          if (!res.write(chunk)) await once(res, 'drain', { signal: gone });
        },
        { assertion, manifest, timeoutMs: 30_000 },
      );
    } catch (err) {
      // POL-7: the log says the export did not complete, and how far it went.
      const code = err instanceof DsgError ? err.code : ErrorCodes.UNAVAILABLE;
      this.logger.warn(
        {
          route: call.route.id,
          requestId: call.requestId,
          lines,
          expected: manifest.entries,
          code,
        },
        'export cut short',
      );
      await this.accessLog.record({
        principal: call.principal,
        action: call.route.id,
        filter: call.filter,
        entries: Math.max(0, lines - (manifest.format === 'csv' ? 1 : 0)),
        outcome: 'failed',
        status: 200,
        errorCode: code,
        requestId: call.requestId,
      });
      throw err;
    }
    res.end();
  }

  /** Aggregate health for operators: every service's state and checks, and its version. */
  private async stackHealth(res: Response): Promise<void> {
    const [health, versions] = await Promise.all([
      this.health.check(),
      Promise.all(SERVICE_NAMES.map((name) => this.versionOf(name))),
    ]);
    res.status(health.state === 'ok' ? 200 : 503).json({
      ...health,
      services: health.services.map((s, i) => ({ ...s, version: versions[i] })),
    });
  }

  private async versionOf(name: ServiceName): Promise<VersionReply | undefined> {
    if (name === 'gateway') return this.system.version();
    try {
      return await this.client.system(name).version({}, { timeoutMs: 3000, retries: 0 });
    } catch {
      return undefined;
    }
  }

  private ping(call: Call) {
    const { service, ...request } = call.input;
    return this.client.system(this.serviceOf(service)).ping(request as unknown as PingRequest, {
      retries: 0,
    });
  }

  private rotate(call: Call) {
    const service = this.serviceOf(call.input.service);
    return this.client
      .system(service)
      .rotateSigningKey({}, { assertion: this.assertion(call.principal, service), retries: 0 });
  }

  private serviceOf(value: unknown): ServiceName {
    if (!(SERVICE_NAMES as readonly unknown[]).includes(value)) {
      throw new DsgError(ErrorCodes.VALIDATION_FAILED, 'No such service', [
        {
          field: 'service',
          constraint: 'isIn',
          message: `service must be one of ${SERVICE_NAMES.join(', ')}`,
        },
      ]);
    }
    return value as ServiceName;
  }

  private idempotencyKey(req: Request, required: boolean): string | undefined {
    const key = req.get(Headers.IDEMPOTENCY_KEY);
    if (key === undefined && !required) return undefined;
    if (!key || !IDEMPOTENCY_KEY_PATTERN.test(key)) {
      throw new DsgError(ErrorCodes.VALIDATION_FAILED, 'This command needs an Idempotency-Key', [
        {
          field: Headers.IDEMPOTENCY_KEY,
          constraint: 'idempotencyKey',
          message: 'Idempotency-Key must be 8-128 of A-Z, a-z, 0-9, . _ : - (a UUID will do)',
        },
      ]);
    }
    return key;
  }

  private assertion(principal: Principal, service: ServiceName): string {
    return signAssertion(this.keyRing, principal, service, this.config.assertionTtlSeconds);
  }
}

function requestIdOf(req: Request): string {
  const given = req.get(Headers.REQUEST_ID);
  return given && /^[A-Za-z0-9._:-]{1,128}$/.test(given) ? given : randomUUID();
}

/** Text a database or a log cannot hold (NUL) is refused by field, before anything is written. */
function refuseUnreadableMembers(members: Record<string, unknown>): void {
  const fields = Object.entries(members)
    .filter(([, value]) =>
      (Array.isArray(value) ? value : [value]).some(
        (v) => typeof v === 'string' && v.includes('\u0000'),
      ),
    )
    .map(([field]) => ({
      field,
      constraint: 'text',
      message: `${field} must not contain a NUL character`,
    }));
  if (fields.length > 0) {
    throw new DsgError(ErrorCodes.VALIDATION_FAILED, 'The request is not valid', fields);
  }
}

function numberOr(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
}
