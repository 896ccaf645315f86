/**
 * Personal data never reaches a log line, a trace attribute or an error message. Redaction is by
 * key, at any depth: whatever value sits under one of these keys is replaced, whatever its shape.
 * Keys are compared case-insensitively with `_` and `-` removed, so `date_of_birth`,
 * `dateOfBirth` and `Date-Of-Birth` are one key.
 */
const PERSONAL_KEYS = [
  // identifiers and contact (privacy policy 1.a)
  'name',
  'firstName',
  'lastName',
  'middleName',
  'fullName',
  'givenName',
  'familyName',
  'displayName',
  'email',
  'emailAddress',
  'phone',
  'phoneNumber',
  'mobile',
  'address',
  'street',
  'streetAddress',
  'postalCode',
  'zip',
  'zipCode',
  'billingAddress',
  'dateOfBirth',
  'dob',
  'birthDate',
  'birthday',
  'gender',
  'sex',
  'emergencyContact',
  'ssn',
  'socialSecurityNumber',
  'driverLicense',
  'passport',
  // health and medical (1.b)
  'medicalHistory',
  'medications',
  'allergies',
  'diagnosis',
  'treatment',
  'treatmentNotes',
  'consultationNotes',
  'notes',
  'photo',
  'photos',
  'image',
  // payment (1.c)
  'cardNumber',
  'pan',
  'cvv',
  'cvc',
  'cardVerificationCode',
  'track',
  'trackData',
  'pin',
  'iban',
  'accountNumber',
  // consent evidence (forms, recordings, signatures) and linking identifiers: whole values
  'evidence',
  'identifier',
  'identifiers',
  // who asked for data and what was disclosed (legal requests, the register's details); client
  // ids stay: they are the product's pseudonymous keys, which operators correlate by
  'subjects',
  'official',
  'actingPerson',
  'description',
  'statement',
  // where notices go: an e-mail address or a webhook URL
  'destination',
  'noticeContact',
  'webhookUrl',
  // website usage (1.d)
  'ip',
  'ipAddress',
  'remoteAddress',
  'userAgent',
  'deviceId',
  'cookie',
  'cookies',
  // request bodies: they may carry any of the above
  'payload',
  'body',
  'data',
  'request',
  'params',
  'query',
  // secrets
  'password',
  'passphrase',
  'secret',
  'token',
  'accessToken',
  'refreshToken',
  'idToken',
  'authorization',
  'apiKey',
  'privateKey',
  'connectionString',
  'databaseUrl',
  'url',
] as const;

export const REDACTED = '[REDACTED]';

const normalise = (key: string): string => key.toLowerCase().replace(/[-_]/g, '');
const KEYS = new Set(PERSONAL_KEYS.map(normalise));

export function isPersonalKey(key: string): boolean {
  return KEYS.has(normalise(key));
}

/** Returns a copy of `value` with every personal key's value replaced. Cycles are cut. */
export function redact(value: unknown, seen: WeakSet<object> = new WeakSet()): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((item) => redact(item, seen));
  if (value instanceof Date) return value;
  if (value instanceof Error) return serializeError(value);
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    out[key] = isPersonalKey(key) ? REDACTED : redact(inner, seen);
  }
  return out;
}

/**
 * Errors keep only type, message, code and stack, whatever key they are logged under: drivers
 * attach row values to errors (PostgreSQL's `detail`: "Key (email)=(...) already exists").
 */
export function serializeError(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) {
    return { message: typeof err === 'string' ? err : 'non-error thrown' };
  }
  const code = (err as { code?: unknown }).code;
  return {
    type: err.name,
    message: err.message,
    ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
    stack: err.stack,
  };
}
