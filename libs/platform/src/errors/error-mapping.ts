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

/**
 * Maps anything thrown by a handler to the product's error body. Expected failures (DsgError)
 * pass through; anything else becomes PLATFORM.INTERNAL with a correlation id, and is logged in
 * full under that id so an operator can find it. The caller never sees internal detail.
 */
export function toErrorBody(exception: unknown, logger: Logger, transport: string): ErrorBody {
  if (exception instanceof DsgError) return exception.toBody();
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    if (status === 404) return new DsgError(ErrorCodes.NOT_FOUND, 'No such resource').toBody();
    if (status === 413) return new MalformedRequestError('Request body too large').toBody();
    if (status >= 400 && status < 500) {
      // Express's body parser raises 400 for JSON it cannot parse.
      return new MalformedRequestError('Request body is not valid JSON').toBody();
    }
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
