/**
 * The one error model of the product. Every transport carries the same body:
 * NATS replies put it in the envelope, gRPC in the status details and `dsg-error-bin` metadata,
 * HTTP as RFC 9457 problem+json. Codes are stable: callers branch on them, never on messages.
 */
export const ErrorCodes = {
  /** The payload parsed but broke the contract; `fields` names every offending field. */
  VALIDATION_FAILED: 'REQUEST.VALIDATION_FAILED',
  /** The payload could not be parsed at all (not JSON, not protobuf). */
  MALFORMED: 'REQUEST.MALFORMED',
  NOT_FOUND: 'REQUEST.NOT_FOUND',
  /** No valid credentials or assertion. */
  UNAUTHENTICATED: 'REQUEST.UNAUTHENTICATED',
  /** Authenticated, but the caller's identity or role does not permit this. */
  FORBIDDEN: 'REQUEST.FORBIDDEN',
  /** The HTTP method or media type is not supported by this route. */
  UNSUPPORTED: 'REQUEST.UNSUPPORTED',
  /** The path exists but does not take this HTTP method (the Allow header lists those it takes). */
  METHOD_NOT_ALLOWED: 'REQUEST.METHOD_NOT_ALLOWED',
  /** Too many requests; retry later. */
  RATE_LIMITED: 'REQUEST.RATE_LIMITED',
  /** The request (its body, or its headers) is larger than the gateway takes. */
  TOO_LARGE: 'REQUEST.TOO_LARGE',
  /** A linked identifier (e-mail, phone, device) already belongs to another subject. */
  IDENTIFIER_IN_USE: 'CONSENT.IDENTIFIER_IN_USE',
  /**
   * The register's database is behind the tree heads published to JetStream (a restore that
   * rolled it back, or tampering): it refuses to append until an operator resolves it.
   */
  LOG_BEHIND: 'REGISTER.LOG_BEHIND',
  /** The action does not apply in the record's current state (a breach assessment already closed). */
  INVALID_STATE: 'REQUEST.INVALID_STATE',
  /** Same idempotency key, different payload. */
  IDEMPOTENCY_CONFLICT: 'REQUEST.IDEMPOTENCY_CONFLICT',
  /** No instance of the called service answered (none running, or all draining). */
  UNAVAILABLE: 'PLATFORM.UNAVAILABLE',
  /** The call did not complete within its timeout; it may or may not have taken effect. */
  TIMEOUT: 'PLATFORM.TIMEOUT',
  /** The instance is shutting down and took no work. Safe to retry. */
  SHUTTING_DOWN: 'PLATFORM.SHUTTING_DOWN',
  /** Anything unexpected. The message is generic; the correlation id finds the logged detail. */
  INTERNAL: 'PLATFORM.INTERNAL',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** gRPC status codes (numeric, as on the wire) so contracts need no gRPC dependency. */
export const GrpcStatus = {
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  FAILED_PRECONDITION: 9,
  INTERNAL: 13,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

export interface ErrorCatalogEntry {
  readonly title: string;
  readonly httpStatus: number;
  readonly grpcStatus: number;
  /** Whether the same request (same idempotency key) may be sent again. */
  readonly retryable: boolean;
}

export const ERROR_CATALOG: Readonly<Record<ErrorCode, ErrorCatalogEntry>> = {
  'REQUEST.VALIDATION_FAILED': {
    title: 'The request does not match the contract',
    httpStatus: 400,
    grpcStatus: GrpcStatus.INVALID_ARGUMENT,
    retryable: false,
  },
  'REQUEST.MALFORMED': {
    title: 'The request could not be parsed',
    httpStatus: 400,
    grpcStatus: GrpcStatus.INVALID_ARGUMENT,
    retryable: false,
  },
  'REQUEST.NOT_FOUND': {
    title: 'No such resource or operation',
    httpStatus: 404,
    grpcStatus: GrpcStatus.NOT_FOUND,
    retryable: false,
  },
  'REQUEST.UNAUTHENTICATED': {
    title: 'Authentication required',
    httpStatus: 401,
    grpcStatus: GrpcStatus.UNAUTHENTICATED,
    retryable: false,
  },
  'REQUEST.FORBIDDEN': {
    title: 'Not permitted',
    httpStatus: 403,
    grpcStatus: GrpcStatus.PERMISSION_DENIED,
    retryable: false,
  },
  'REQUEST.UNSUPPORTED': {
    title: 'Method or media type not supported',
    httpStatus: 415,
    grpcStatus: GrpcStatus.UNIMPLEMENTED,
    retryable: false,
  },
  'REQUEST.METHOD_NOT_ALLOWED': {
    title: 'Method not allowed on this path',
    httpStatus: 405,
    grpcStatus: GrpcStatus.UNIMPLEMENTED,
    retryable: false,
  },
  'REQUEST.RATE_LIMITED': {
    title: 'Too many requests',
    httpStatus: 429,
    grpcStatus: GrpcStatus.RESOURCE_EXHAUSTED,
    retryable: true,
  },
  'REQUEST.TOO_LARGE': {
    title: 'The request is too large',
    httpStatus: 413,
    grpcStatus: GrpcStatus.RESOURCE_EXHAUSTED,
    retryable: false,
  },
  'CONSENT.IDENTIFIER_IN_USE': {
    title: 'The identifier is linked to another subject',
    httpStatus: 409,
    grpcStatus: GrpcStatus.ALREADY_EXISTS,
    retryable: false,
  },
  'REQUEST.INVALID_STATE': {
    title: 'The action does not apply in the current state',
    httpStatus: 409,
    grpcStatus: GrpcStatus.FAILED_PRECONDITION,
    retryable: false,
  },
  'REQUEST.IDEMPOTENCY_CONFLICT': {
    title: 'The idempotency key was used with a different request',
    httpStatus: 409,
    grpcStatus: GrpcStatus.ALREADY_EXISTS,
    retryable: false,
  },
  'PLATFORM.UNAVAILABLE': {
    title: 'The service is unavailable',
    httpStatus: 503,
    grpcStatus: GrpcStatus.UNAVAILABLE,
    retryable: true,
  },
  'PLATFORM.TIMEOUT': {
    title: 'The call timed out',
    httpStatus: 504,
    grpcStatus: GrpcStatus.DEADLINE_EXCEEDED,
    retryable: true,
  },
  'PLATFORM.SHUTTING_DOWN': {
    title: 'The service instance is shutting down',
    httpStatus: 503,
    grpcStatus: GrpcStatus.UNAVAILABLE,
    retryable: true,
  },
  'REGISTER.LOG_BEHIND': {
    title: 'The register refuses to append: its database is behind its published tree heads',
    httpStatus: 503,
    grpcStatus: GrpcStatus.FAILED_PRECONDITION,
    retryable: false,
  },
  'PLATFORM.INTERNAL': {
    title: 'Internal error',
    httpStatus: 500,
    grpcStatus: GrpcStatus.INTERNAL,
    retryable: false,
  },
};

export interface FieldError {
  /** Dot path of the field in the request (`items.0.purpose`); for configuration, the variable. */
  readonly field: string;
  /** The broken constraint, e.g. `isInt`, `max`, `whitelistValidation`. */
  readonly constraint: string;
  /** What was wrong, in words. Never contains the submitted value. */
  readonly message: string;
}

export interface ErrorBody {
  readonly code: string;
  readonly message: string;
  readonly fields?: readonly FieldError[];
  readonly correlationId?: string;
}

export function catalogEntry(code: string): ErrorCatalogEntry {
  return ERROR_CATALOG[code as ErrorCode] ?? ERROR_CATALOG['PLATFORM.INTERNAL'];
}

/**
 * The exception every service throws for an expected failure, and the error every caller
 * receives. Domains extend it with their own codes (one class per domain).
 */
export class DsgError extends Error {
  readonly code: string;
  readonly fields: readonly FieldError[];
  readonly correlationId?: string;

  constructor(
    code: string,
    message: string,
    fields: readonly FieldError[] = [],
    correlationId?: string,
  ) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.fields = fields;
    this.correlationId = correlationId;
  }

  get retryable(): boolean {
    return catalogEntry(this.code).retryable;
  }

  toBody(): ErrorBody {
    return {
      code: this.code,
      message: this.message,
      ...(this.fields.length > 0 ? { fields: this.fields } : {}),
      ...(this.correlationId ? { correlationId: this.correlationId } : {}),
    };
  }

  /** Rebuilds the most specific typed error for a body received from another process. */
  static fromBody(body: ErrorBody): DsgError {
    const fields = body.fields ?? [];
    switch (body.code) {
      case ErrorCodes.VALIDATION_FAILED:
        return new ValidationFailedError(fields, body.message, body.correlationId);
      case ErrorCodes.TIMEOUT:
        return new TimeoutError(body.message, body.correlationId);
      case ErrorCodes.UNAVAILABLE:
      case ErrorCodes.SHUTTING_DOWN:
        return new UnavailableError(body.code, body.message, body.correlationId);
      default:
        return new DsgError(body.code, body.message, fields, body.correlationId);
    }
  }
}

export class ValidationFailedError extends DsgError {
  constructor(fields: readonly FieldError[], message?: string, correlationId?: string) {
    super(
      ErrorCodes.VALIDATION_FAILED,
      message ?? `Invalid request: ${[...new Set(fields.map((f) => f.field))].join(', ')}`,
      fields,
      correlationId,
    );
  }
}

export class MalformedRequestError extends DsgError {
  constructor(message: string) {
    super(ErrorCodes.MALFORMED, message);
  }
}

export class TimeoutError extends DsgError {
  constructor(message: string, correlationId?: string) {
    super(ErrorCodes.TIMEOUT, message, [], correlationId);
  }
}

export class UnavailableError extends DsgError {
  constructor(code: string, message: string, correlationId?: string) {
    super(code, message, [], correlationId);
  }
}

/**
 * The Idempotency-Key of a command that must have one (a disclosure, a legal request, a hold …),
 * or the structured refusal naming the header.
 */
export function requireIdempotencyKey(key: string | undefined, what: string): string {
  if (!key) {
    throw new ValidationFailedError([
      {
        field: 'Idempotency-Key',
        constraint: 'required',
        message: `${what} needs an Idempotency-Key header`,
      },
    ]);
  }
  return key;
}
