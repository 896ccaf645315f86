import { catalogEntry, type ErrorBody } from '@dsg/contracts';
import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  type RpcExceptionFilter,
} from '@nestjs/common';
import { Metadata } from '@grpc/grpc-js';
import type { Response } from 'express';
import { type Observable, throwError } from 'rxjs';
import type { Logger } from '../logging/logger';
import { toErrorBody } from './error-mapping';

/** NATS: the error body travels in the reply envelope (see NatsRpcServer). */
@Catch()
export class NatsExceptionFilter implements RpcExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown): Observable<never> {
    const body = toErrorBody(exception, this.logger, 'nats');
    return throwError(() => new RpcErrorReply(body));
  }
}

/** Carries an already-mapped body from the filter to the transport. */
export class RpcErrorReply {
  constructor(readonly body: ErrorBody) {}
}

export const GRPC_ERROR_METADATA_KEY = 'dsg-error-bin';

/** gRPC: status code from the catalog; the full body as JSON in binary trailing metadata. */
@Catch()
export class GrpcExceptionFilter implements RpcExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown): Observable<never> {
    const body = toErrorBody(exception, this.logger, 'grpc');
    const metadata = new Metadata();
    metadata.set(GRPC_ERROR_METADATA_KEY, Buffer.from(JSON.stringify(body)));
    return throwError(() => ({
      code: catalogEntry(body.code).grpcStatus,
      details: `${body.code}: ${body.message}`,
      metadata,
    }));
  }
}

/**
 * HTTP: RFC 9457 problem details, with our code and field errors as extension members. No
 * `instance` member: the request path may itself carry a submitted value.
 */
@Catch()
export class HttpProblemFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const response = ctx.getResponse<Response>();
    const body = toErrorBody(exception, this.logger, 'http');
    const entry = catalogEntry(body.code);
    response
      .status(entry.httpStatus)
      .type('application/problem+json')
      .json({
        type: `urn:dsg:problem:${body.code.toLowerCase()}`,
        title: entry.title,
        status: entry.httpStatus,
        detail: body.message,
        code: body.code,
        ...(body.fields ? { errors: body.fields } : {}),
        ...(body.correlationId ? { correlationId: body.correlationId } : {}),
      });
  }
}
