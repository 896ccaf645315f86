import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  ValidateNested,
  IsIn,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
} from 'class-validator';
import { CLIENT_ID_PATTERN } from './subjects.dto';

/**
 * HIP-7. `disclosure`: a restriction the spa agreed to (164.522(a)); `self-pay-health-plan`: no
 * disclosure to a health plan of a service paid in full out of pocket, which the spa must agree
 * to and cannot end alone; `confidential-channel`: how and where the subject is contacted
 * (164.522(b)), honoured without asking why.
 */
export const RESTRICTION_KINDS = [
  'disclosure',
  'self-pay-health-plan',
  'confidential-channel',
] as const;

export class RequestRestrictionRequest {
  @Matches(CLIENT_ID_PATTERN, { message: 'clientId must be 1-64 letters, digits, _ or -' })
  clientId!: string;

  @IsIn(RESTRICTION_KINDS)
  kind!: (typeof RESTRICTION_KINDS)[number];

  /** Recipient kinds the restriction covers (all when empty). */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(20)
  @IsString({ each: true })
  recipientKinds?: string[];

  /** Purposes it covers (all when empty). */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(20)
  @IsString({ each: true })
  purposes?: string[];

  /** Categories it covers (all when empty). */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  categories?: string[];

  /** For a confidential channel: how to reach the subject instead (e.g. "e-mail only"). */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  channel?: string;

  /** Whether the spa agreed (a disclosure restriction binds only once agreed). */
  @IsOptional()
  @IsBoolean()
  agreed?: boolean;
}

export class EndRestrictionRequest {
  @Matches(/^[0-9a-f-]{36}$/, { message: 'restrictionId must be a UUID' })
  restrictionId!: string;

  @IsIn(['subject', 'spa'])
  endedBy!: 'subject' | 'spa';
}

export class ListRestrictionsRequest {
  @Matches(CLIENT_ID_PATTERN, { message: 'clientId must be 1-64 letters, digits, _ or -' })
  clientId!: string;
}

export class RestrictionReply {
  @IsString() restrictionId!: string;
  @IsString() clientId!: string;
  @IsIn(RESTRICTION_KINDS) kind!: (typeof RESTRICTION_KINDS)[number];
  @IsString({ each: true }) recipientKinds!: string[];
  @IsString({ each: true }) purposes!: string[];
  @IsString({ each: true }) categories!: string[];
  @IsOptional() @IsString() channel?: string;
  /** Binding now: agreed (or mandatory) and not ended. */
  @IsBoolean()
  binding!: boolean;
  @IsOptional() @IsString() endedAt?: string;
  @IsOptional() @IsString() endedBy?: string;
}

export class ListRestrictionsReply {
  @ValidateNested({ each: true })
  @Type(() => RestrictionReply)
  restrictions!: RestrictionReply[];
}
