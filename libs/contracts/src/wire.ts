import type { ErrorBody } from './errors';

/** Every NATS reply is one of these, JSON-encoded. */
export type ReplyEnvelope<T> = { ok: true; data: T } | { ok: false; error: ErrorBody };

/** NATS headers the platform reads and writes. */
export const Headers = {
  /** Same key, same request: a retry. The typed client reuses it across its own retries. */
  IDEMPOTENCY_KEY: 'Idempotency-Key',
  /** Correlates log lines of one call across services. */
  REQUEST_ID: 'Request-Id',
} as const;

/** Subjects in contracts are relative; on the wire they carry the deployment's prefix. */
export function qualifySubject(prefix: string, subject: string): string {
  return `${prefix}.${subject}`;
}
