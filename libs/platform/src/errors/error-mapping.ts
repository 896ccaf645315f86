import {
  DsgError,
  ErrorCodes,
  type ErrorBody,
  type FieldError,
  MalformedRequestError,
  ValidationFailedError,
} from '@dsg/contracts';
import { HttpException } from '@nestjs/common';
import type { ValidationError } from 'class-validator';
import { randomUUID } from 'node:crypto';
import type { Logger } from '../logging/logger';

/** Framework exceptions (routing, body parsing, guards) by HTTP status. */
const HTTP_EXCEPTION_CODES: Record<number, [code: string, message: string]> = {
  // Express's body parser raises 400 for a body it cannot parse.
  400: [ErrorCodes.MALFORMED, 'The request body could not be parsed'],
  401: [ErrorCodes.UNAUTHENTICATED, 'Authentication required'],
  403: [ErrorCodes.FORBIDDEN, 'Not permitted'],
  404: [ErrorCodes.NOT_FOUND, 'No such resource'],
  405: [ErrorCodes.METHOD_NOT_ALLOWED, 'Method not allowed on this path'],
  413: [ErrorCodes.TOO_LARGE, 'The request body is larger than this service takes'],
  415: [ErrorCodes.UNSUPPORTED, 'Media type not supported'],
  429: [ErrorCodes.RATE_LIMITED, 'Too many requests'],
};

/**
 * Maps anything thrown by a handler to the product's error body. Expected failures (DsgError)
 * pass through; anything else becomes PLATFORM.INTERNAL with a correlation id, and is logged in
 * full under that id so an operator can find it. The caller never sees internal detail.
 */
export function toErrorBody(exception: unknown, logger: Logger, transport: string): ErrorBody {
  if (exception instanceof DsgError) return exception.toBody();
  // Express's body parser refuses with an error of its own (http-errors) carrying the status.
  const parserStatus = bodyParserStatus(exception);
  if (parserStatus !== undefined) {
    const mapped = HTTP_EXCEPTION_CODES[parserStatus];
    if (mapped) return new DsgError(mapped[0], mapped[1]).toBody();
    return new MalformedRequestError('The request was refused').toBody();
  }
  if (exception instanceof HttpException) {
    const mapped = HTTP_EXCEPTION_CODES[exception.getStatus()];
    if (mapped) return new DsgError(mapped[0], mapped[1]).toBody();
    // Any other framework 4xx: refuse without claiming a reason we do not know.
    if (exception.getStatus() < 500) {
      return new MalformedRequestError('The request was refused').toBody();
    }
  }
  // PostgreSQL refusing a date that passed the pattern but does not exist (2026-02-30).
  const sqlState = (exception as { driverError?: { code?: string } })?.driverError?.code;
  if (sqlState === '22007' || sqlState === '22008') {
    return new ValidationFailedError([
      { field: '$', constraint: 'realDate', message: 'a date in the request does not exist' },
    ]).toBody();
  }
  const correlationId = randomUUID();
  logger.error({ err: exception, correlationId, transport }, 'unhandled error');
  return new DsgError(
    ErrorCodes.INTERNAL,
    'Internal error; quote the correlation id to an operator',
    [],
    correlationId,
  ).toBody();
}

/** The 4xx status of a body-parser refusal (too large, unparsable, bad charset), if it is one. */
function bodyParserStatus(exception: unknown): number | undefined {
  const e = exception as { expose?: unknown; status?: unknown; type?: unknown } | null;
  if (!e || e.expose !== true || typeof e.status !== 'number') return undefined;
  if (
    typeof e.type !== 'string' ||
    (!e.type.startsWith('entity.') &&
      !e.type.startsWith('charset.') &&
      !e.type.startsWith('encoding.'))
  )
    return undefined;
  return e.status >= 400 && e.status < 500 ? e.status : undefined;
}

/** Flattens class-validator's tree into dot-path field errors. Values are never included. */
export function toFieldErrors(errors: ValidationError[], parent = ''): FieldError[] {
  const out: FieldError[] = [];
  for (const error of errors) {
    const field = error.property
      ? parent
        ? `${parent}.${error.property}`
        : error.property
      : parent || '$';
    for (const [constraint, message] of Object.entries(error.constraints ?? {})) {
      out.push({ field, constraint, message: withoutValue(message, error.property) });
    }
    if (error.children?.length)
      out.push(...toFieldErrors(error.children, field === '$' ? '' : field));
  }
  return out;
}

export function validationException(errors: ValidationError[]): ValidationFailedError {
  return new ValidationFailedError(toFieldErrors(errors));
}

// class-validator's default messages name the property, never the value; keep it that way even
// if someone writes a custom message with $value.
function withoutValue(message: string, property: string): string {
  return message.includes('$value') ? `${property} is invalid` : message;
}
