import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { CLIENT_ID_PATTERN, TIMESTAMP_PATTERN } from '../consent/subjects.dto';
import { UUID_PATTERN } from '../register/disclosures.dto';
import { HOLDING_SYSTEMS, type HoldingSystem } from './holdings.dto';

/**
 * What a legal hold covers (RET-6). Every field given narrows; at least one of subjects,
 * categories and systems is given. A category covers its sub-categories and the holdings of a
 * broader one (a hold on `health.history` also stops a `health` holding). The period covers the
 * holdings with a clock date (encounter, creation …) inside it, from inclusive to inclusive.
 */
export class HoldScope {
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(1000)
  @Matches(CLIENT_ID_PATTERN, {
    each: true,
    message: 'each subject must be 1-64 letters, digits, _ or -',
  })
  subjects?: string[];
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @MaxLength(128, { each: true })
  categories?: string[];
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @IsIn(HOLDING_SYSTEMS, { each: true })
  systems?: HoldingSystem[];
  @IsOptional()
  @Matches(TIMESTAMP_PATTERN, { message: 'from must be an ISO 8601 timestamp' })
  from?: string;
  @IsOptional()
  @Matches(TIMESTAMP_PATTERN, { message: 'to must be an ISO 8601 timestamp' })
  to?: string;
}

/** A privacy officer places a hold, with its reason. Needs Idempotency-Key. */
export class PlaceHoldRequest {
  @ValidateNested() @Type(() => HoldScope) scope!: HoldScope;
  /** The matter (litigation, investigation, audit) and why the hold is needed. */
  @IsString() @MinLength(10) @MaxLength(2000) reason!: string;
}

export class HoldRef {
  @Matches(UUID_PATTERN, { message: 'holdId must be a UUID' }) holdId!: string;
}

export class ReleaseHoldRequest extends HoldRef {
  @IsString() @MinLength(10) @MaxLength(2000) reason!: string;
}

export class ListHoldsRequest {
  @IsOptional() @IsBoolean() activeOnly?: boolean;
}

export class HoldHistoryItem {
  @IsString() action!: string;
  @IsString() at!: string;
  @IsString() by!: string;
  @IsString() note!: string;
}

export class HoldReply {
  @IsString() holdId!: string;
  @IsIn(['active', 'released']) state!: 'active' | 'released';
  @ValidateNested() @Type(() => HoldScope) scope!: HoldScope;
  @IsString() reason!: string;
  @IsString() placedBy!: string;
  @IsString() placedAt!: string;
  @IsOptional() @IsString() releasedBy?: string;
  @IsOptional() @IsString() releasedAt?: string;
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => HoldHistoryItem)
  history!: HoldHistoryItem[];
}

export class ListHoldsReply {
  @IsArray() @ValidateNested({ each: true }) @Type(() => HoldReply) holds!: HoldReply[];
}

/** Announced when a hold is placed or released (no personal data: the scope stays inside). */
export class LegalHoldChanged {
  @IsString() holdId!: string;
  @IsIn(['active', 'released']) state!: 'active' | 'released';
  @IsString() at!: string;
  @IsString() by!: string;
}
