import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
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
import { CLIENT_ID_PATTERN, TIMESTAMP_PATTERN } from '../consent/subjects.dto';
import { DisclosureReceipt, UUID_PATTERN } from './disclosures.dto';
import { RECIPIENT_ID_PATTERN } from './recipients.dto';

/**
 * Who compels or asks: a law-enforcement agency, a court (or a party to a proceeding with the
 * court's process), or a regulator (health oversight).
 */
export const REQUESTER_KINDS = ['law-enforcement', 'court', 'regulator'] as const;
export type RequesterKind = (typeof REQUESTER_KINDS)[number];

/**
 * The instrument a request rests on. HIP-6 (164.512(f)(1)(ii)) accepts a court order or warrant,
 * a judicial or grand-jury subpoena, or an administrative request carrying its three
 * attestations; CMI-3 (Civ. Code 56.10(b)) has no administrative path. An oral statement is no
 * instrument for a disclosure: it can only suspend an accounting (ACC-8).
 */
export const LEGAL_INSTRUMENTS = [
  'court-order',
  'warrant',
  'grand-jury-subpoena',
  'judicial-subpoena',
  'administrative-request',
  'oral-statement',
] as const;
export type LegalInstrument = (typeof LEGAL_INSTRUMENTS)[number];

/**
 * refused: neither law allows it (terminal). in-review: HIPAA allows it, CMIA does not (CMI-3),
 * or it needs a person's judgement: a privacy officer decides. accepted: both laws allow it as
 * received. approved: a privacy officer approved it, perhaps narrowed. denied: a privacy
 * officer denied it. fulfilled: disclosures were recorded for it.
 */
export const LEGAL_REQUEST_STATES = [
  'refused',
  'in-review',
  'accepted',
  'approved',
  'denied',
  'fulfilled',
] as const;
export type LegalRequestState = (typeof LEGAL_REQUEST_STATES)[number];

/** The person who made the request or statement. Personal: never logged. */
export class LegalOfficial {
  @IsString() @MinLength(2) @MaxLength(200) name!: string;
  @IsString() @MinLength(2) @MaxLength(200) title!: string;
}

/**
 * 164.512(f)(1)(ii)(C): an administrative request (subpoena, summons, civil investigative
 * demand) must state all three.
 */
export class AdministrativeAttestations {
  /** The information sought is relevant and material to a legitimate law-enforcement inquiry. */
  @IsBoolean() relevantAndMaterial!: boolean;
  /** The request is specific and limited in scope as far as practicable. */
  @IsBoolean() specificAndLimited!: boolean;
  /** De-identified information could not reasonably be used. */
  @IsBoolean() deidentifiedInsufficient!: boolean;
}

/** What a request reaches: whose data, which categories, from which period. */
export class LegalScope {
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @Matches(CLIENT_ID_PATTERN, {
    each: true,
    message: 'each subject must be 1-64 letters, digits, _ or -',
  })
  subjects!: string[];
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @MaxLength(128, { each: true })
  categories!: string[];
  @IsOptional()
  @Matches(TIMESTAMP_PATTERN, { message: 'from must be an ISO 8601 timestamp' })
  from?: string;
  @IsOptional()
  @Matches(TIMESTAMP_PATTERN, { message: 'to must be an ISO 8601 timestamp' })
  to?: string;
}

/** A law-enforcement, court or regulator request received by the spa. Needs Idempotency-Key. */
export class LegalRequestIntake {
  @IsIn(REQUESTER_KINDS) requesterKind!: RequesterKind;
  @IsString() @MinLength(2) @MaxLength(200) agency!: string;
  @ValidateNested() @Type(() => LegalOfficial) official!: LegalOfficial;
  @IsIn(LEGAL_INSTRUMENTS) instrument!: LegalInstrument;
  /** The instrument's own reference (case or docket number, subpoena number). */
  @IsString() @MinLength(1) @MaxLength(128) reference!: string;
  /** The register recipient disclosures go to (of kind law-enforcement or regulator). */
  @Matches(RECIPIENT_ID_PATTERN, { message: 'recipientId must be 1-64 of a-z, 0-9 and -' })
  recipientId!: string;
  @ValidateNested() @Type(() => LegalScope) scope!: LegalScope;
  /** Only for an administrative request. */
  @IsOptional()
  @ValidateNested()
  @Type(() => AdministrativeAttestations)
  attestations?: AdministrativeAttestations;
  /** HIP-6, 164.512(f)(2): a request to identify or locate a suspect, fugitive, witness or missing person. */
  @IsOptional() @IsBoolean() identifyOrLocate?: boolean;
  /** When the spa received it; default now. */
  @IsOptional()
  @Matches(TIMESTAMP_PATTERN, { message: 'receivedAt must be an ISO 8601 timestamp' })
  receivedAt?: string;
}

export class LegalRequestRef {
  @Matches(UUID_PATTERN, { message: 'requestId must be a UUID' }) requestId!: string;
}

export class ListLegalRequestsRequest {
  @IsOptional() @IsIn(LEGAL_REQUEST_STATES) state?: LegalRequestState;
}

export const LEGAL_REQUEST_DECISIONS = ['approve', 'narrow', 'deny'] as const;

/**
 * A privacy officer's decision on a request in review (or one accepted and not yet fulfilled):
 * approve as it stands, narrow it to a smaller scope, or deny it; always with reasons.
 */
export class DecideLegalRequest extends LegalRequestRef {
  @IsIn(LEGAL_REQUEST_DECISIONS) decision!: (typeof LEGAL_REQUEST_DECISIONS)[number];
  @IsString() @MinLength(10) @MaxLength(4000) reasons!: string;
  /** For `narrow`: the scope approved, within the one requested. */
  @IsOptional() @ValidateNested() @Type(() => LegalScope) scope?: LegalScope;
}

/** One disclosure made in answer to the request. */
export class LegalDisclosureItem {
  @Matches(CLIENT_ID_PATTERN, { message: 'clientId must be 1-64 letters, digits, _ or -' })
  clientId!: string;
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @MaxLength(128, { each: true })
  categories!: string[];
  /** ACC-1: a brief description of what is disclosed. Personal: kept apart from the hash. */
  @IsString() @MinLength(3) @MaxLength(500) description!: string;
}

/** Records the disclosures made for an accepted or approved request. Needs Idempotency-Key. */
export class FulfilLegalRequest extends LegalRequestRef {
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @ValidateNested({ each: true })
  @Type(() => LegalDisclosureItem)
  disclosures!: LegalDisclosureItem[];
}

/** Why a law allows or does not allow the request, by rule id. */
export class LegalFinding {
  @IsString() rule!: string;
  @IsString() detail!: string;
}

export class LegalValidation {
  /** HIP-6: HIPAA permits the disclosure on this instrument. */
  @IsBoolean() hipaaAllows!: boolean;
  /** CMI-3: CMIA permits it. */
  @IsBoolean() cmiaAllows!: boolean;
  @IsArray() @ValidateNested({ each: true }) @Type(() => LegalFinding) findings!: LegalFinding[];
}

export class LegalRequestHistoryItem {
  @IsString() action!: string;
  @IsString() at!: string;
  /** The privacy officer (subject of the gateway assertion), or `register`. */
  @IsString() by!: string;
  @IsOptional() @IsString() note?: string;
}

export class LegalRequestDisclosure {
  @IsString() entryId!: string;
  @IsInt() @Min(0) position!: number;
  @IsString() decision!: string;
}

export class LegalRequestReply {
  @IsString() requestId!: string;
  @IsIn(LEGAL_REQUEST_STATES) state!: LegalRequestState;
  @IsIn(REQUESTER_KINDS) requesterKind!: RequesterKind;
  @IsString() agency!: string;
  @ValidateNested() @Type(() => LegalOfficial) official!: LegalOfficial;
  @IsIn(LEGAL_INSTRUMENTS) instrument!: LegalInstrument;
  @IsString() reference!: string;
  @IsString() recipientId!: string;
  @IsString() receivedAt!: string;
  /** As received. */
  @ValidateNested() @Type(() => LegalScope) requestedScope!: LegalScope;
  /** What may be disclosed: as received, cut to the 512(f)(2) fields, or narrowed. */
  @ValidateNested() @Type(() => LegalScope) scope!: LegalScope;
  @IsOptional()
  @ValidateNested()
  @Type(() => AdministrativeAttestations)
  attestations?: AdministrativeAttestations;
  @IsBoolean() identifyOrLocate!: boolean;
  @ValidateNested() @Type(() => LegalValidation) validation!: LegalValidation;
  @IsOptional() @IsString() decisionReasons?: string;
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => LegalRequestHistoryItem)
  history!: LegalRequestHistoryItem[];
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => LegalRequestDisclosure)
  disclosures!: LegalRequestDisclosure[];
}

export class ListLegalRequestsReply {
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => LegalRequestReply)
  requests!: LegalRequestReply[];
}

/** A disclosure of the fulfilment that could not be recorded (its index in the request). */
export class FulfilmentFailure {
  @IsInt() @Min(0) index!: number;
  @IsString() code!: string;
  @IsString() message!: string;
}

export class FulfilLegalRequestReply {
  @ValidateNested() @Type(() => LegalRequestReply) request!: LegalRequestReply;
  /** One per disclosure recorded, in the request's order: each a register entry linked to it. */
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => DisclosureReceipt)
  receipts!: DisclosureReceipt[];
  /** Disclosures that could not be recorded (when none could, the call fails instead). */
  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => FulfilmentFailure)
  failures?: FulfilmentFailure[];
}

export class LegalRequestRecorded {
  @IsString() requestId!: string;
  @IsIn(LEGAL_REQUEST_STATES) state!: LegalRequestState;
  @IsIn(REQUESTER_KINDS) requesterKind!: RequesterKind;
  @IsIn(LEGAL_INSTRUMENTS) instrument!: LegalInstrument;
  @IsString() at!: string;
}

export const SUSPENSION_FORMS = ['written', 'oral'] as const;

/**
 * ACC-8 (164.528(a)(2)): a health-oversight agency or law-enforcement official states that an
 * accounting would impede its work. A written statement hides the disclosures it covers until
 * the date it gives; an oral one, logged with the official's identity, for at most 30 days unless
 * a written one follows (`followsOral`).
 */
export class SuspendAccountingRequest {
  @IsIn(SUSPENSION_FORMS) form!: (typeof SUSPENSION_FORMS)[number];
  @IsString() @MinLength(2) @MaxLength(200) agency!: string;
  @ValidateNested() @Type(() => LegalOfficial) official!: LegalOfficial;
  /** The recipient whose disclosures are suspended (of kind law-enforcement or regulator). */
  @Matches(RECIPIENT_ID_PATTERN, { message: 'recipientId must be 1-64 of a-z, 0-9 and -' })
  recipientId!: string;
  /** Only the disclosures made for these legal requests; default every one to the recipient. */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @Matches(UUID_PATTERN, { each: true, message: 'each legalRequestId must be a UUID' })
  legalRequestIds?: string[];
  /** Only these subjects' disclosures; default every subject's. */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @Matches(CLIENT_ID_PATTERN, {
    each: true,
    message: 'each subject must be 1-64 letters, digits, _ or -',
  })
  subjects?: string[];
  /** Why an accounting would impede the agency's work. */
  @IsString() @MinLength(10) @MaxLength(2000) statement!: string;
  /** The written statement's reference, if any. */
  @IsOptional() @IsString() @MaxLength(128) reference?: string;
  /** When it was made; default now. */
  @IsOptional()
  @Matches(TIMESTAMP_PATTERN, { message: 'receivedAt must be an ISO 8601 timestamp' })
  receivedAt?: string;
  /** The end date the statement gives (required for a written one). */
  @IsOptional()
  @Matches(TIMESTAMP_PATTERN, { message: 'until must be an ISO 8601 timestamp' })
  until?: string;
  /** The oral statement this written one confirms. */
  @IsOptional()
  @Matches(UUID_PATTERN, { message: 'followsOral must be a UUID' })
  followsOral?: string;
}

export class AccountingSuspensionReply {
  @IsString() suspensionId!: string;
  @IsIn(SUSPENSION_FORMS) form!: (typeof SUSPENSION_FORMS)[number];
  @IsString() agency!: string;
  @ValidateNested() @Type(() => LegalOfficial) official!: LegalOfficial;
  @IsString() recipientId!: string;
  @IsArray() @IsString({ each: true }) legalRequestIds!: string[];
  @IsArray() @IsString({ each: true }) subjects!: string[];
  @IsString() statement!: string;
  @IsOptional() @IsString() reference?: string;
  @IsString() receivedAt!: string;
  /** The end date the statement gave, if any. */
  @IsOptional() @IsString() until?: string;
  /** When the suspension ends: `until`, or for an oral one at most 30 days after it was made. */
  @IsString() endsAt!: string;
  @IsOptional() @IsString() followsOral?: string;
  /** The written statement that replaced this oral one. */
  @IsOptional() @IsString() supersededBy?: string;
  @IsString() recordedBy!: string;
  @IsString() recordedAt!: string;
}

export class ListSuspensionsRequest {
  /** Only those in force now. */
  @IsOptional() @IsBoolean() activeOnly?: boolean;
}

export class ListSuspensionsReply {
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => AccountingSuspensionReply)
  suspensions!: AccountingSuspensionReply[];
}
