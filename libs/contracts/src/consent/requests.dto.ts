import { Type } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { UUID_PATTERN } from '../register/disclosures.dto';
import { CLIENT_ID_PATTERN, TIMESTAMP_PATTERN } from './subjects.dto';

/**
 * The rights the policy promises (POL-4, CCP-1, HIP-8): know, access (a copy), delete, correct,
 * opt out of sale or sharing, limit the use of sensitive information, an accounting of
 * disclosures, a restriction or a confidential channel.
 */
export const RIGHTS = [
  'know',
  'access',
  'delete',
  'correct',
  'opt-out',
  'limit-sensitive',
  'accounting',
  'restriction',
] as const;
/** The channels the policy names for requests. */
export const REQUEST_CHANNELS = ['email', 'phone', 'web-form', 'front-desk'] as const;
/** Who asked: the subject, a guardian, or an authorised agent. */
export const REQUESTERS = ['subject', 'guardian', 'authorised-agent'] as const;
export const REQUEST_OUTCOMES = ['fulfilled', 'partially-fulfilled', 'denied'] as const;
/** The verification the answer rested on (CCP-3: none is needed for an opt-out). */
export const REQUEST_VERIFICATIONS = ['not-required', 'verified', 'not-verified'] as const;

/** A rights request received (CCP-7: its date, type and channel go to the request log). */
export class RecordRightsRequest {
  @Matches(CLIENT_ID_PATTERN, { message: 'clientId must be 1-64 letters, digits, _ or -' })
  clientId!: string;

  @IsIn(RIGHTS)
  right!: (typeof RIGHTS)[number];

  @IsIn(REQUEST_CHANNELS)
  channel!: (typeof REQUEST_CHANNELS)[number];

  @IsIn(REQUESTERS)
  requester!: (typeof REQUESTERS)[number];

  /** When the request arrived; defaults to when it is recorded. */
  @IsOptional()
  @Matches(TIMESTAMP_PATTERN, { message: 'receivedAt must be an ISO 8601 timestamp with a zone' })
  receivedAt?: string;
}

/** A rights request answered (CCP-7: response date, outcome and the basis of any denial). */
export class AnswerRightsRequest {
  @Matches(UUID_PATTERN, { message: 'requestId must be a UUID' })
  requestId!: string;

  @IsIn(REQUEST_OUTCOMES)
  outcome!: (typeof REQUEST_OUTCOMES)[number];

  @IsIn(REQUEST_VERIFICATIONS)
  verification!: (typeof REQUEST_VERIFICATIONS)[number];

  /** Required for a denial, and only for one: the rule or reason relied on. */
  @IsOptional()
  @IsString()
  @MaxLength(500)
  denialBasis?: string;

  /** When the answer was sent; defaults to when it is recorded. */
  @IsOptional()
  @Matches(TIMESTAMP_PATTERN, { message: 'answeredAt must be an ISO 8601 timestamp with a zone' })
  answeredAt?: string;
}

export class ListRightsRequestsRequest {
  @Matches(CLIENT_ID_PATTERN, { message: 'clientId must be 1-64 letters, digits, _ or -' })
  clientId!: string;
}

export class RightsRequestReply {
  @IsString() requestId!: string;
  @IsString() clientId!: string;
  @IsIn(RIGHTS) right!: (typeof RIGHTS)[number];
  @IsIn(REQUEST_CHANNELS) channel!: (typeof REQUEST_CHANNELS)[number];
  @IsIn(REQUESTERS) requester!: (typeof REQUESTERS)[number];
  @IsString() receivedAt!: string;
  @IsOptional() @IsString() answeredAt?: string;
  @IsOptional() @IsIn(REQUEST_OUTCOMES) outcome?: (typeof REQUEST_OUTCOMES)[number];
  @IsOptional()
  @IsIn(REQUEST_VERIFICATIONS)
  verification?: (typeof REQUEST_VERIFICATIONS)[number];
  @IsOptional() @IsString() denialBasis?: string;
}

export class ListRightsRequestsReply {
  @ValidateNested({ each: true })
  @Type(() => RightsRequestReply)
  requests!: RightsRequestReply[];
}

/** RET-3: the log's entries of a subject whose 24 months have run, deleted. Caller: retention. */
export class PurgeRightsRequestsRequest {
  @Matches(CLIENT_ID_PATTERN, { message: 'clientId must be 1-64 letters, digits, _ or -' })
  clientId!: string;

  /** Entries whose latest date (received or answered) is at or before this moment go. */
  @Matches(TIMESTAMP_PATTERN, { message: 'through must be an ISO 8601 timestamp with a zone' })
  through!: string;

  /** The retention rule relied on. */
  @IsString()
  @MaxLength(200)
  reason!: string;
}

export class PurgeRightsRequestsReply {
  @IsString() clientId!: string;
  /** Entries deleted now. */
  @IsInt() deletedEntries!: number;
  /** Entries of the period kept because their request is still open (not answered yet). */
  @IsInt() keptOpen!: number;
}
