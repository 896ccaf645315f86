import { canonicalJson, DsgError, ErrorCodes } from '@dsg/contracts';
import { createHash } from 'node:crypto';
import type { EntityManager } from 'typeorm';

/** The hash a request is kept with, to tell a retry from another request under the same key. */
export function requestHash(request: object): string {
  return createHash('sha256').update(canonicalJson(request)).digest('hex');
}

/**
 * A retry on the rights-request log (one Idempotency-Key per caller, `recorded_by`): the row the
 * first attempt made, or undefined when there is none; the same key with another request is
 * refused. Concurrent retries of one key wait for each other (a transaction-scoped lock), whether
 * they come through the bare log (consent.requests.record) or the rights flow.
 */
export async function earlierRequest<T extends { request_hash: string | null }>(
  manager: EntityManager,
  select: string,
  recordedBy: string,
  key: string,
  hash: string,
): Promise<T | undefined> {
  await manager.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
    `requests:${recordedBy}:${key}`,
  ]);
  const [earlier] = (await manager.query(
    `${select} WHERE recorded_by = $1 AND idempotency_key = $2`,
    [recordedBy, key],
  )) as T[];
  if (earlier && earlier.request_hash !== hash) {
    throw new DsgError(
      ErrorCodes.IDEMPOTENCY_CONFLICT,
      'This Idempotency-Key was used for another rights request',
    );
  }
  return earlier;
}
