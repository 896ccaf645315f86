import { type FieldError, MAX_CLOCK_SKEW_MS, type RightsRequestReply } from '@dsg/contracts';

/** A date on the request log (a receipt, an answer) is never in the future. */
export function notInTheFuture<T extends object>(value: T, field: keyof T & string): FieldError[] {
  const v = value[field] as unknown;
  if (typeof v !== 'string' || Date.parse(v) <= Date.now() + MAX_CLOCK_SKEW_MS) return [];
  return [{ field, constraint: 'notInTheFuture', message: `${field} must not be in the future` }];
}

/** The answer part of a log entry (CCP-7), as both the bare log and the rights flow reply it. */
export function answerOf(row: {
  answered_at: Date | null;
  outcome: RightsRequestReply['outcome'] | null;
  verification: RightsRequestReply['verification'] | null;
  denial_basis: string | null;
}): Pick<RightsRequestReply, 'answeredAt' | 'outcome' | 'verification' | 'denialBasis'> {
  return {
    ...(row.answered_at
      ? {
          answeredAt: row.answered_at.toISOString(),
          outcome: row.outcome ?? undefined,
          verification: row.verification ?? undefined,
        }
      : {}),
    ...(row.denial_basis ? { denialBasis: row.denial_basis } : {}),
  };
}
