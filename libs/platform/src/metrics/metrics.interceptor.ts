import { DsgError, ErrorCodes } from '@dsg/contracts';
import {
  type CallHandler,
  type ExecutionContext,
  HttpException,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common';
import { PATTERN_METADATA } from '@nestjs/microservices/constants';
import type { Request } from 'express';
import { type Observable, tap } from 'rxjs';
import type { Logger } from '../logging/logger';
import type { MetricsService } from './metrics.service';

/**
 * Counts and times gRPC and HTTP handlers, and at trace level logs the shape of each request
 * (values under personal keys are redacted by the logger). NATS is observed by NatsRpcServer
 * itself, which also sees requests that never reach a handler. Pipes run inside the intercepted
 * call, so refused requests are counted with their error code.
 */
@Injectable()
export class MetricsInterceptor implements NestInterceptor {
  constructor(
    private readonly metrics: MetricsService,
    private readonly transport: 'grpc' | 'http',
    private readonly logger: Logger,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const startedAt = process.hrtime.bigint();
    const operation = this.operationOf(context);
    if (this.logger.isLevelEnabled('trace')) {
      const fields =
        this.transport === 'http'
          ? context.switchToHttp().getRequest<Request>().body
          : context.switchToRpc().getData();
      this.logger.trace({ transport: this.transport, operation, fields }, 'request');
    }
    return next.handle().pipe(
      tap({
        complete: () => this.metrics.observe(this.transport, operation, startedAt),
        error: (err: unknown) =>
          this.metrics.observe(this.transport, operation, startedAt, codeOf(err)),
      }),
    );
  }

  private operationOf(context: ExecutionContext): string {
    if (this.transport === 'http') {
      const req = context.switchToHttp().getRequest<Request & { route?: { path?: string } }>();
      return `${req.method} ${req.route?.path ?? 'unmatched'}`;
    }
    const patterns = Reflect.getMetadata(PATTERN_METADATA, context.getHandler()) as
      { service?: string; rpc?: string }[] | undefined;
    const pattern = patterns?.[0];
    return pattern?.service ? `${pattern.service}/${pattern.rpc}` : context.getHandler().name;
  }
}

function codeOf(err: unknown): string {
  if (err instanceof DsgError) return err.code;
  if (err instanceof HttpException) return `HTTP.${err.getStatus()}`;
  return ErrorCodes.INTERNAL;
}
