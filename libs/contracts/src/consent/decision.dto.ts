import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { CLIENT_ID_PATTERN, TIMESTAMP_PATTERN } from './subjects.dto';

export const LEGAL_BASES = [
  'treatment',
  'payment',
  'health-care-operations',
  'authorization',
  'required-by-law',
  'law-enforcement',
] as const;

/** "May this be shared?" Unknown names are not errors: they are answered DENY with the reason. */
export class CheckRequest {
  @Matches(CLIENT_ID_PATTERN, { message: 'clientId must be 1-64 letters, digits, _ or -' })
  clientId!: string;

  @IsString()
  @MaxLength(64)
  recipientKind!: string;

  @IsOptional()
  @IsString()
  @MaxLength(128)
  recipientId?: string;

  @IsString()
  @MaxLength(64)
  purpose!: string;

  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(50)
  @IsString({ each: true })
  categories!: string[];

  @IsIn(LEGAL_BASES)
  legalBasis!: (typeof LEGAL_BASES)[number];

  @IsOptional()
  @Matches(/^[0-9a-f-]{36}$/, { message: 'authorizationId must be a UUID' })
  authorizationId?: string;

  /** The moment to decide for; default now. */
  @IsOptional()
  @Matches(TIMESTAMP_PATTERN, {
    message: 'at must be an ISO 8601 timestamp',
  })
  at?: string;
}

export class RuleOutcome {
  /** The rule id of ../shared/requirements/regulatory.md (POL-1, HIP-3 …). */
  @IsString() rule!: string;
  @IsIn(['pass', 'fail', 'not-applicable']) outcome!: 'pass' | 'fail' | 'not-applicable';
  @IsString() detail!: string;
}

export class CheckReply {
  @IsIn(['ALLOW', 'DENY']) decision!: 'ALLOW' | 'DENY';
  /** Every failed rule (empty when allowed). */
  @ValidateNested({ each: true })
  @Type(() => RuleOutcome)
  reasons!: RuleOutcome[];
  @IsString() policyVersion!: string;
  /** The consent state the decision used, per scope. */
  consentState!: Record<string, string>;
  @IsString() evaluatedAt!: string;
  /** With `explain`: every rule evaluated and its outcome. */
  @IsOptional()
  @ValidateNested({ each: true })
  @Type(() => RuleOutcome)
  rules?: RuleOutcome[];
}

export class CheckBatchRequest {
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(500)
  @ValidateNested({ each: true })
  @Type(() => CheckRequest)
  checks!: CheckRequest[];
}

export class CheckBatchReply {
  @ValidateNested({ each: true })
  @Type(() => CheckReply)
  results!: CheckReply[];
}
