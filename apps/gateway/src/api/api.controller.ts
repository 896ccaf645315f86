import {
  catalogEntry,
  DsgClient,
  DsgError,
  ErrorCodes,
  type ExportManifest,
  type ExportManifestRequest,
  exportRegister,
  Headers,
  type PingRequest,
  type Principal,
  SERVICE_NAMES,
  type ServiceName,
  type VersionReply,
} from '@dsg/contracts';
import { KeyRing, signAssertion, SystemService } from '@dsg/platform';
import { All, Controller, Inject, Req, Res } from '@nestjs/common';
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

const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:-]{8,128}$/;

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
  ) {
    this.limiter = new RateLimiter(config.rateLimitPerMinute);
  }

  @All(['v1', 'v1/*path'])
  @ApiExcludeEndpoint()
  async dispatch(@Req() req: Request, @Res() res: Response): Promise<void> {
    const { route, params } = this.matcher.match(req.method, req.path);
    const principal = await this.auth.authenticate(req);
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
    };
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
      call.input = this.input.of(route, params, query, req.body);
      await this.serve(call);
    } catch (err) {
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
    const idempotencyKey = route.idempotent ? this.idempotencyKey(call.req) : undefined;
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
    const { res } = call;
    const request = call.input as unknown as ExportManifestRequest;
    const assertion = () => this.assertion(call.principal, 'disclosure-register');
    const manifest: ExportManifest = await this.client.disclosureRegister.exportManifest(request, {
      assertion: assertion(),
      requestId: call.requestId,
      retries: 2,
    });
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
    let gone = false;
    res.once('close', () => (gone = true));
    await exportRegister(
      this.client,
      request,
      async (chunk) => {
        if (gone) throw new Error('the client went away');
        if (!res.write(chunk)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
      },
      { assertion, manifest, timeoutMs: 30_000 },
    );
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

  private idempotencyKey(req: Request): string {
    const key = req.get(Headers.IDEMPOTENCY_KEY);
    if (!key || !IDEMPOTENCY_KEY.test(key)) {
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

function numberOr(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
}
