import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { CLIENT_ID_PATTERN, TIMESTAMP_PATTERN } from '../consent/subjects.dto';

/**
 * The systems that hold personal data and declare it to the retention service. A system
 * declares only for itself: its NATS user is its name.
 */
export const HOLDING_SYSTEMS = [
  'booking',
  'crm',
  'billing',
  'treatment-records',
  'website-analytics',
  'consent',
  'disclosure-register',
] as const;
export type HoldingSystem = (typeof HOLDING_SYSTEMS)[number];

/** The dates a retention period may run from (the bundle's `from`: last-encounter, …). */
export class HoldingClocks {
  @IsOptional()
  @Matches(TIMESTAMP_PATTERN, { message: 'lastEncounter must be an ISO 8601 timestamp' })
  lastEncounter?: string;
  @IsOptional()
  @Matches(TIMESTAMP_PATTERN, { message: 'creation must be an ISO 8601 timestamp' })
  creation?: string;
  @IsOptional()
  @Matches(TIMESTAMP_PATTERN, { message: 'endOfRelationship must be an ISO 8601 timestamp' })
  endOfRelationship?: string;
  @IsOptional()
  @Matches(TIMESTAMP_PATTERN, { message: 'lastEffective must be an ISO 8601 timestamp' })
  lastEffective?: string;
}

/** One category of one subject's data held by the declaring system, with its clocks. */
export class Holding {
  @Matches(CLIENT_ID_PATTERN, { message: 'clientId must be 1-64 letters, digits, _ or -' })
  clientId!: string;
  @IsString() @MaxLength(128) category!: string;
  @ValidateNested() @Type(() => HoldingClocks) clocks!: HoldingClocks;
  /** For RET-1's floor on a minor's record (the 19th birthday). Personal: never logged. */
  @IsOptional()
  @Matches(/^\d{4}-\d{2}-\d{2}$/, { message: 'dateOfBirth must be a date, YYYY-MM-DD' })
  dateOfBirth?: string;
}

/**
 * A system declares (or updates: the same subject and category again) what it holds. The
 * service answers when each holding is due and why. Needs nothing else: a declaration is a
 * state, so a retry is harmless.
 */
export class DeclareHoldingsRequest {
  @IsIn(HOLDING_SYSTEMS) system!: HoldingSystem;
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(1000)
  @ValidateNested({ each: true })
  @Type(() => Holding)
  holdings!: Holding[];
}

export class HoldingReply {
  @IsString() system!: string;
  @IsString() clientId!: string;
  @IsString() category!: string;
  /** When the action is due; absent when it cannot be computed (`reason` says why). */
  @IsOptional() @IsString() dueAt?: string;
  @IsOptional() @IsString() action?: string;
  /** The rule it rests on (RET-1 … RET-5). */
  @IsString() rule!: string;
  @IsString() reason!: string;
  /** The policy bundle version the due date was computed under. */
  @IsString() policyVersion!: string;
  /** The legal holds in force that cover it (RET-6): while any does, it is not expired. */
  @IsOptional() @IsArray() @IsString({ each: true }) heldBy?: string[];
}

export class DeclareHoldingsReply {
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => HoldingReply)
  holdings!: HoldingReply[];
}

/** Where a page of due holdings ended (keyset: due date, then system, subject, category). */
export class DueCursor {
  @Matches(TIMESTAMP_PATTERN, { message: 'dueAt must be an ISO 8601 timestamp' }) dueAt!: string;
  @IsString() @MaxLength(64) system!: string;
  @IsString() @MaxLength(64) clientId!: string;
  @IsString() @MaxLength(128) category!: string;
}

/** Holdings due by `before` (default now), soonest first, a page at a time. */
export class ListDueRequest {
  @IsOptional()
  @Matches(TIMESTAMP_PATTERN, { message: 'before must be an ISO 8601 timestamp' })
  before?: string;
  @IsOptional() @IsIn(HOLDING_SYSTEMS) system?: HoldingSystem;
  @IsOptional() @ValidateNested() @Type(() => DueCursor) after?: DueCursor;
  @IsOptional() @IsInt() @Min(1) @Max(1000) limit?: number;
}

export class ListDueReply {
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => HoldingReply)
  holdings!: HoldingReply[];
  @IsOptional() @ValidateNested() @Type(() => DueCursor) next?: DueCursor;
}

/** Every holding of one subject (for a know report, correction tasks). Caller: consent. */
export class SubjectHoldingsRequest {
  @Matches(CLIENT_ID_PATTERN, { message: 'clientId must be 1-64 letters, digits, _ or -' })
  clientId!: string;
}

export class SubjectHoldingsReply {
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => HoldingReply)
  holdings!: HoldingReply[];
}
