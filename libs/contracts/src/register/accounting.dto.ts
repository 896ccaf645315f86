import { Type } from 'class-transformer';
import {
  IsArray,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { CLIENT_ID_PATTERN, TIMESTAMP_PATTERN } from '../consent/subjects.dto';
import { UUID_PATTERN } from './disclosures.dto';

/**
 * An accounting of disclosures for one subject (45 CFR 164.528). The look-back is six years
 * before `requestedAt` (ACC-4) unless the individual asked for a shorter period (`from`, `to`,
 * inside it). Produced by a privacy officer, whose title is kept with it (ACC-9).
 */
export class ProduceAccountingRequest {
  @Matches(CLIENT_ID_PATTERN, { message: 'clientId must be 1-64 letters, digits, _ or -' })
  clientId!: string;
  /** When the individual asked; default now, never in the future. */
  @IsOptional()
  @Matches(TIMESTAMP_PATTERN, { message: 'requestedAt must be an ISO 8601 timestamp' })
  requestedAt?: string;
  /** A shorter period the individual asked for (ACC-4): from, inclusive. */
  @IsOptional()
  @Matches(TIMESTAMP_PATTERN, { message: 'from must be an ISO 8601 timestamp' })
  from?: string;
  /** To, inclusive; default `requestedAt`. */
  @IsOptional()
  @Matches(TIMESTAMP_PATTERN, { message: 'to must be an ISO 8601 timestamp' })
  to?: string;
  /** ACC-9: the title of the staff member handling the request. */
  @IsString() @MinLength(2) @MaxLength(200) staffTitle!: string;
  /** The rights request this answers, if any. */
  @IsOptional() @IsString() @MaxLength(128) rightsRequestRef?: string;
}

export class AccountingRef {
  @Matches(UUID_PATTERN, { message: 'accountingId must be a UUID' }) accountingId!: string;
}

export class ListAccountingsRequest {
  @Matches(CLIENT_ID_PATTERN, { message: 'clientId must be 1-64 letters, digits, _ or -' })
  clientId!: string;
}

export class AccountingRecipient {
  @IsString() id!: string;
  @IsString() name!: string;
  /** ACC-1: the address, where known. */
  @IsOptional() @IsString() address?: string;
}

/**
 * One line of an accounting (ACC-1): the date, the recipient and its address, a brief
 * description of what was disclosed, and a brief statement of purpose (or, for a legal request,
 * what the request was). Repeated disclosures to one recipient for one purpose are one line
 * (ACC-7): the first in full, how many, and the date of the last.
 */
export class AccountingLine {
  /** The date of the (first) disclosure. */
  @IsString() date!: string;
  @ValidateNested() @Type(() => AccountingRecipient) recipient!: AccountingRecipient;
  @IsString() description!: string;
  @IsArray() @IsString({ each: true }) categories!: string[];
  @IsString() purpose!: string;
  @IsString() legalBasis!: string;
  /** How many disclosures the line stands for (1 unless summarised). */
  @IsInt() @Min(1) count!: number;
  /** The date of the last of them, when summarised. */
  @IsOptional() @IsString() lastDate?: string;
  /** The register positions of the disclosures (an auditor proves each against a tree head). */
  @IsArray() @IsInt({ each: true }) positions!: number[];
}

export class AccountingPeriod {
  @IsString() from!: string;
  @IsString() to!: string;
}

export class AccountingReply {
  @IsString() accountingId!: string;
  @IsString() clientId!: string;
  @IsString() requestedAt!: string;
  @ValidateNested() @Type(() => AccountingPeriod) period!: AccountingPeriod;
  @IsString() producedAt!: string;
  /** ACC-9: who produced it (the assertion's subject) and their title. */
  @IsString() producedBy!: string;
  @IsString() staffTitle!: string;
  @IsOptional() @IsString() rightsRequestRef?: string;
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => AccountingLine)
  disclosures!: AccountingLine[];
  /** Hex SHA-256 of the canonical JSON of everything above: what was recorded (ACC-9). */
  @IsString() contentHash!: string;
}

export class AccountingSummary {
  @IsString() accountingId!: string;
  @IsString() requestedAt!: string;
  @ValidateNested() @Type(() => AccountingPeriod) period!: AccountingPeriod;
  @IsString() producedAt!: string;
  @IsString() producedBy!: string;
  @IsString() staffTitle!: string;
  @IsInt() lines!: number;
  @IsString() contentHash!: string;
}

export class ListAccountingsReply {
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => AccountingSummary)
  accountings!: AccountingSummary[];
}

/** The PDF follows the reply as raw bytes (Dsg-Body). */
export class AccountingPdfReply {
  @IsString() accountingId!: string;
  @IsString() contentType!: string;
  @IsInt() bytes!: number;
}

export class AccountingProduced {
  @IsString() accountingId!: string;
  @IsString() producedAt!: string;
  @IsInt() lines!: number;
  @IsString() contentHash!: string;
}

/**
 * An accounting for a rights request (ACC-5, ACC-6), asked by the consent service for the privacy
 * officer who fulfils the request (`actingFor`, kept as the producer with the title, ACC-9).
 * Caller: consent only.
 */
export class ProduceAccountingForRightsRequest extends ProduceAccountingRequest {
  @IsString() @MinLength(1) @MaxLength(200) actingFor!: string;
}

/** A subject's accountings, for the consent service's fee check (ACC-6). Caller: consent. */
export class SubjectAccountingsRequest {
  @Matches(CLIENT_ID_PATTERN, { message: 'clientId must be 1-64 letters, digits, _ or -' })
  clientId!: string;
}
