import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { TIMESTAMP_PATTERN } from '../consent/subjects.dto';
import { NoticeContact } from './notices.dto';

export const RECIPIENT_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,63}$/;
/**
 * The legal relation of a recipient to the spa: its own workforce (the in-facility licensed
 * professionals), a business associate (HIPAA) or service provider (CCPA) acting for it, an
 * independent third party (a financing partner the client applies to), or a public authority.
 */
export const LEGAL_ROLES = [
  'workforce',
  'business-associate',
  'third-party',
  'public-authority',
] as const;

/** ACC-1: an accounting names the recipient's address when it is known. */
export class RecipientAddress {
  @IsString() @MinLength(1) @MaxLength(200) line1!: string;
  @IsOptional() @IsString() @MaxLength(200) line2?: string;
  @IsString() @MinLength(1) @MaxLength(100) city!: string;
  @IsString() @MinLength(1) @MaxLength(100) region!: string;
  @IsString() @MinLength(1) @MaxLength(20) postalCode!: string;
  @Matches(/^[A-Z]{2}$/, { message: 'country must be an ISO 3166 alpha-2 code' }) country!: string;
}

/** HIP-5: the business associate agreement, in force from `effectiveFrom` until it expires or ends. */
export class BusinessAssociateAgreement {
  @Matches(TIMESTAMP_PATTERN, { message: 'signedAt must be an ISO 8601 timestamp' })
  signedAt!: string;
  @Matches(TIMESTAMP_PATTERN, { message: 'effectiveFrom must be an ISO 8601 timestamp' })
  effectiveFrom!: string;
  @IsOptional()
  @Matches(TIMESTAMP_PATTERN, { message: 'expiresAt must be an ISO 8601 timestamp' })
  expiresAt?: string;
  @IsOptional()
  @Matches(TIMESTAMP_PATTERN, { message: 'terminatedAt must be an ISO 8601 timestamp' })
  terminatedAt?: string;
  /** Where the signed agreement is kept (document system reference). */
  @IsString() @MaxLength(200) reference!: string;
}

/** HIP-4 (minimum necessary): for one purpose, the categories the recipient may receive. */
export class Allowance {
  @IsString() @MaxLength(64) purpose!: string;
  @IsArray() @ArrayMaxSize(100) @IsString({ each: true }) categories!: string[];
}

/** A new version of a recipient (the first creates it); versions are never overwritten. */
export class UpsertRecipientRequest {
  @Matches(RECIPIENT_ID_PATTERN, { message: 'recipientId must be 1-64 of a-z, 0-9 and -' })
  recipientId!: string;
  @IsString() @MinLength(1) @MaxLength(200) name!: string;
  /** A recipient kind of the policy (POL-2). */
  @IsString() @MaxLength(64) kind!: string;
  @IsIn(LEGAL_ROLES) legalRole!: (typeof LEGAL_ROLES)[number];
  @ValidateNested() @Type(() => RecipientAddress) address!: RecipientAddress;
  @IsOptional()
  @ValidateNested()
  @Type(() => BusinessAssociateAgreement)
  baa?: BusinessAssociateAgreement;
  /** Minimum necessary (HIP-4): per purpose it may receive data for, the categories. */
  @IsArray()
  @ArrayMaxSize(50)
  @ValidateNested({ each: true })
  @Type(() => Allowance)
  allowances!: Allowance[];
  @IsBoolean() active!: boolean;
  /** Where the recipient takes notices of opt-outs and deletions (CCP-2, CCP-4). */
  @IsOptional() @ValidateNested() @Type(() => NoticeContact) noticeContact?: NoticeContact;
  /** Why this version was made (shown in the recipient's history). */
  @IsString() @MinLength(3) @MaxLength(500) reason!: string;
}

export class RecipientReply extends UpsertRecipientRequest {
  @IsInt() version!: number;
  @IsString() changedBy!: string;
  @IsString() changedAt!: string;
}

export class GetRecipientRequest {
  @Matches(RECIPIENT_ID_PATTERN, { message: 'recipientId must be 1-64 of a-z, 0-9 and -' })
  recipientId!: string;
  /** A past version; default the current one. */
  @IsOptional() @IsInt() @Min(1) version?: number;
}

export class ListRecipientsRequest {}

export class ListRecipientsReply {
  @ValidateNested({ each: true })
  @Type(() => RecipientReply)
  recipients!: RecipientReply[];
}
