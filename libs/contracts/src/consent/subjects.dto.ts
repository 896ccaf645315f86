import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import type { FieldError } from '../errors';

/** The spa's own client id: opaque, never a name or e-mail. */
export const CLIENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
/** An ISO 8601 timestamp with a zone, as every consent operation takes moments. */
export const TIMESTAMP_PATTERN =
  /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$/;

/** TIMESTAMP_PATTERN admits 2026-02-30; this also checks the day exists in its month. */
export function isRealTimestamp(value: string): boolean {
  if (!TIMESTAMP_PATTERN.test(value)) return false;
  const [year, month, day] = value.slice(0, 10).split('-').map(Number);
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * The field errors for those of `fields` in `value` that are given and name no real moment
 * (the pattern admits 2026-02-30, which PostgreSQL would refuse); `at` prefixes their paths
 * (`scope` gives `scope.from`).
 */
export function unrealTimestamps<T extends object>(
  value: T,
  fields: readonly (keyof T & string)[],
  at?: string,
): FieldError[] {
  return fields
    .filter((field) => {
      const v = value[field] as unknown;
      return typeof v === 'string' && !isRealTimestamp(v);
    })
    .map((field) => ({
      field: at ? `${at}.${field}` : field,
      constraint: 'isTimestamp',
      message: `${field} is not a real date and time`,
    }));
}

/** A period's `from` and `to`, where given: real moments, and `to` not before `from`. */
export function periodErrors(period: { from?: string; to?: string }, at?: string): FieldError[] {
  const unreal = unrealTimestamps(period, ['from', 'to'], at);
  if (unreal.length || !period.from || !period.to) return unreal;
  if (Date.parse(period.from) <= Date.parse(period.to)) return [];
  return [
    {
      field: at ? `${at}.to` : 'to',
      constraint: 'isAfterFrom',
      message: 'to must not be before from',
    },
  ];
}

/** A moment sent this far ahead of the receiving service's clock is refused as in the future. */
/** A calendar date, YYYY-MM-DD. */
export const DATE_PATTERN = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;
export const SUBJECT_STATUSES = ['active', 'inactive'] as const;
export const IDENTIFIER_KINDS = ['email', 'phone', 'device'] as const;
/** KID-3: the bands every decision recomputes from the date of birth. */
export const AGE_BANDS = ['under-13', '13-15', '16-17', 'adult', 'unknown'] as const;

export class SubjectIdentifier {
  @IsIn(IDENTIFIER_KINDS)
  kind!: (typeof IDENTIFIER_KINDS)[number];

  /** Stored only as a keyed hash; never returned, never logged. */
  @IsString()
  @MaxLength(320)
  value!: string;
}

export class UpsertSubjectRequest {
  @Matches(CLIENT_ID_PATTERN, { message: 'clientId must be 1-64 letters, digits, _ or -' })
  clientId!: string;

  @IsOptional()
  @Matches(DATE_PATTERN, {
    message: 'dateOfBirth must be a date as YYYY-MM-DD',
  })
  dateOfBirth?: string;

  @IsOptional()
  @IsIn(SUBJECT_STATUSES)
  status?: (typeof SUBJECT_STATUSES)[number];

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(20)
  @ValidateNested({ each: true })
  @Type(() => SubjectIdentifier)
  identifiers?: SubjectIdentifier[];

  /** Client ids of the subject's parents or guardians (replaces the current links). */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(10)
  @Matches(CLIENT_ID_PATTERN, { each: true })
  guardians?: string[];
}

export class GetSubjectRequest {
  @Matches(CLIENT_ID_PATTERN, { message: 'clientId must be 1-64 letters, digits, _ or -' })
  clientId!: string;
}

export class SubjectReply {
  @IsString()
  clientId!: string;

  @IsIn(SUBJECT_STATUSES)
  status!: (typeof SUBJECT_STATUSES)[number];

  @IsOptional()
  @IsString()
  dateOfBirth?: string;

  /** Computed at the moment of the answer (KID-3), never stored. */
  @IsOptional()
  @IsInt()
  age?: number;

  @IsIn(AGE_BANDS)
  ageBand!: (typeof AGE_BANDS)[number];

  @IsArray()
  @IsString({ each: true })
  guardians!: string[];

  /** Which kinds of linked identifier exist (their values are never returned). */
  @IsArray()
  @IsString({ each: true })
  identifierKinds!: string[];

  @IsString()
  updatedAt!: string;
}
