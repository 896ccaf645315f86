import { Type } from 'class-transformer';
import {
  IsArray,
  IsBoolean,
  IsEmail,
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
import { UUID_PATTERN } from '../register/disclosures.dto';
import {
  REQUEST_CHANNELS,
  REQUEST_OUTCOMES,
  REQUEST_VERIFICATIONS,
  REQUESTERS,
  RIGHTS,
} from './requests.dto';
import { RESTRICTION_KINDS } from './restrictions.dto';
import { CLIENT_ID_PATTERN, DATE_PATTERN, TIMESTAMP_PATTERN } from './subjects.dto';

/**
 * The verification a right needs (CCP-3): none for opting out or limiting sensitive uses; two
 * matching data points to learn categories; three and a signed declaration for specific pieces
 * (a copy, an accounting) and for deletions and corrections of health information.
 */
export const VERIFICATION_LEVELS = ['none', 'two-points', 'three-points-and-declaration'] as const;
export type VerificationLevel = (typeof VERIFICATION_LEVELS)[number];

/** Where a rights request stands. */
export const RIGHTS_REQUEST_STATES = [
  'awaiting-verification',
  'awaiting-fee-acceptance',
  'in-progress',
  'answered',
  'duplicate',
] as const;
export type RightsRequestState = (typeof RIGHTS_REQUEST_STATES)[number];

/** An authorised agent's signed permission from the subject (CCP-3, 11 CCR 7063). */
export class AgentPermission {
  /** Who the agent is (a name or a registered business), for the record. */
  @IsString() @MinLength(2) @MaxLength(200) agentName!: string;
  /** The subject signed the permission. */
  @IsBoolean() signed!: boolean;
  @Matches(DATE_PATTERN, { message: 'signedOn must be a date (YYYY-MM-DD)' }) signedOn!: string;
  /** Where the signed permission is kept (a document reference, not its content). */
  @IsString() @MinLength(1) @MaxLength(200) documentRef!: string;
}

/** What an accounting request asks for: a shorter look-back than six years (ACC-4). */
export class AccountingScope {
  @IsOptional()
  @Matches(TIMESTAMP_PATTERN, { message: 'from must be an ISO 8601 timestamp' })
  from?: string;
  @IsOptional()
  @Matches(TIMESTAMP_PATTERN, { message: 'to must be an ISO 8601 timestamp' })
  to?: string;
}

/** What a correction request says is wrong (passed to the holding systems as a task). */
export class CorrectionScope {
  /** The categories the correction concerns (policy category paths). */
  @IsArray() @IsString({ each: true }) @MaxLength(100, { each: true }) categories!: string[];
  /** The correction asked for, in the requester's words. */
  @IsString() @MinLength(3) @MaxLength(2000) description!: string;
}

/** What a restriction or confidential-channel request asks for (HIP-7, 164.522). */
export class RestrictionScope {
  @IsIn(RESTRICTION_KINDS) kind!: (typeof RESTRICTION_KINDS)[number];
  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  @MaxLength(64, { each: true })
  recipientKinds?: string[];
  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  @MaxLength(64, { each: true })
  purposes?: string[];
  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  @MaxLength(100, { each: true })
  categories?: string[];
  /** For a confidential channel: how to reach the subject instead. */
  @IsOptional() @IsString() @MaxLength(200) channel?: string;
}

/**
 * A rights request received by the privacy office (POL-4, CCP-1, HIP-8). The request is logged
 * (CCP-7), its deadlines set (CCP-2, ACC-5, HIP-8) and its receipt confirmed to the requester.
 */
export class SubmitRightsRequest {
  @Matches(CLIENT_ID_PATTERN, { message: 'clientId must be 1-64 letters, digits, _ or -' })
  clientId!: string;
  @IsIn(RIGHTS) right!: (typeof RIGHTS)[number];
  @IsIn(REQUEST_CHANNELS) channel!: (typeof REQUEST_CHANNELS)[number];
  @IsIn(REQUESTERS) requester!: (typeof REQUESTERS)[number];
  /** A guardian acting for a minor: the guardian's client id, linked to the subject. */
  @IsOptional()
  @Matches(CLIENT_ID_PATTERN, { message: 'guardianId must be 1-64 letters, digits, _ or -' })
  guardianId?: string;
  /** An authorised agent: the subject's signed permission (CCP-3). */
  @IsOptional() @ValidateNested() @Type(() => AgentPermission) agentPermission?: AgentPermission;
  /** Where the answer goes (an e-mail address); otherwise the client system's address. */
  @IsOptional() @IsEmail({}, { message: 'replyTo must be an e-mail address' }) replyTo?: string;
  /** When the request arrived; defaults to now. */
  @IsOptional()
  @Matches(TIMESTAMP_PATTERN, { message: 'receivedAt must be an ISO 8601 timestamp with a zone' })
  receivedAt?: string;
  @IsOptional() @ValidateNested() @Type(() => AccountingScope) accounting?: AccountingScope;
  @IsOptional() @ValidateNested() @Type(() => CorrectionScope) correction?: CorrectionScope;
  @IsOptional() @ValidateNested() @Type(() => RestrictionScope) restriction?: RestrictionScope;
}

export class RightsRequestRef {
  @Matches(UUID_PATTERN, { message: 'requestId must be a UUID' }) requestId!: string;
}

/**
 * The data points a requester gave, matched against what the product holds for the subject
 * (keyed-hash identifiers, date of birth) and the spa's client system. Used for this match only:
 * only the kinds that matched are kept, never the values (CCP-3).
 */
export class VerificationPoints {
  @IsOptional() @IsEmail({}, { message: 'email must be an e-mail address' }) email?: string;
  @IsOptional() @IsString() @MinLength(7) @MaxLength(32) phone?: string;
  @IsOptional()
  @Matches(DATE_PATTERN, { message: 'dateOfBirth must be a date (YYYY-MM-DD)' })
  dateOfBirth?: string;
  @IsOptional() @IsString() @MinLength(2) @MaxLength(200) name?: string;
  @IsOptional() @IsString() @MinLength(3) @MaxLength(300) address?: string;
  @IsOptional()
  @Matches(DATE_PATTERN, { message: 'lastVisit must be a date (YYYY-MM-DD)' })
  lastVisit?: string;
}
export const VERIFICATION_POINT_KINDS = [
  'email',
  'phone',
  'dateOfBirth',
  'name',
  'address',
  'lastVisit',
] as const;
export type VerificationPointKind = (typeof VERIFICATION_POINT_KINDS)[number];

export class VerifyRightsRequest {
  @Matches(UUID_PATTERN, { message: 'requestId must be a UUID' }) requestId!: string;
  @ValidateNested() @Type(() => VerificationPoints) points!: VerificationPoints;
  /** The requester signed a declaration under penalty of perjury (CCP-3, specific pieces). */
  @IsOptional() @IsBoolean() signedDeclaration?: boolean;
}

/** One extension, with its reasons, told to the requester before the deadline (CCP-2, ACC-5). */
export class ExtendRightsRequest {
  @Matches(UUID_PATTERN, { message: 'requestId must be a UUID' }) requestId!: string;
  @IsString() @MinLength(10) @MaxLength(2000) reasons!: string;
}

/**
 * Carry out a verified request: an accounting produced by the register (fee accepted if one was
 * quoted, ACC-6), a deletion through the retention service, a report of what is held, correction
 * tasks. Opt-outs are carried out on receipt.
 */
export class FulfilRightsRequest {
  @Matches(UUID_PATTERN, { message: 'requestId must be a UUID' }) requestId!: string;
  /** ACC-9: the title of the staff member handling the request. */
  @IsString() @MinLength(2) @MaxLength(200) staffTitle!: string;
  /** The requester accepted the quoted fee (ACC-6). */
  @IsOptional() @IsBoolean() feeAccepted?: boolean;
  /**
   * A restriction of disclosures: whether the spa agrees (HIP-7: it may decline one, except a
   * self-pay service to a health plan; a confidential channel is honoured without asking why).
   */
  @IsOptional() @IsBoolean() restrictionAgreed?: boolean;
}

/** A denial with its basis (CCP-7); a requester who withdraws after a fee quote is one too. */
export class DenyRightsRequest {
  @Matches(UUID_PATTERN, { message: 'requestId must be a UUID' }) requestId!: string;
  @IsString() @MinLength(3) @MaxLength(500) basis!: string;
}

export class ListRightsCasesRequest {
  @IsOptional()
  @Matches(CLIENT_ID_PATTERN, { message: 'clientId must be 1-64 letters, digits, _ or -' })
  clientId?: string;
  @IsOptional() @IsIn(RIGHTS_REQUEST_STATES) state?: RightsRequestState;
  /** Only open requests past a deadline (confirmation or answer). */
  @IsOptional() @IsBoolean() overdue?: boolean;
  @IsOptional() @IsInt() @Min(1) limit?: number;
}

export class RightsDeadlines {
  /** Receipt confirmed by (10 business days, CCP-2). */
  @IsString() confirmBy!: string;
  /** Answered by: the current deadline (after any extension). */
  @IsString() answerBy!: string;
  /** The deadline before any extension: an extension is refused after it. */
  @IsString() originalAnswerBy!: string;
  /** The right allows one extension (CCP-2, ACC-5); access in California does not (HIP-8). */
  @IsBoolean() extensionAllowed!: boolean;
  @IsOptional() @IsString() extendedAt?: string;
  @IsOptional() @IsString() extensionReasons?: string;
  /** Business days are counted in America/Los_Angeles, without weekends and state holidays. */
  @IsString() rule!: string;
}

export class RightsFee {
  @IsInt() amountCents!: number;
  @IsString() currency!: string;
  @IsString() quotedAt!: string;
  @IsString() reason!: string;
}

export class RightsRequestCase {
  @IsString() requestId!: string;
  @IsString() clientId!: string;
  @IsIn(RIGHTS) right!: (typeof RIGHTS)[number];
  @IsIn(REQUEST_CHANNELS) channel!: (typeof REQUEST_CHANNELS)[number];
  @IsIn(REQUESTERS) requester!: (typeof REQUESTERS)[number];
  @IsIn(RIGHTS_REQUEST_STATES) state!: RightsRequestState;
  @IsString() receivedAt!: string;
  @IsOptional() @IsString() confirmedAt?: string;
  @IsIn(VERIFICATION_LEVELS) verificationLevel!: VerificationLevel;
  /** The kinds of data point that matched (never their values). */
  @IsArray() @IsString({ each: true }) matchedPoints!: string[];
  @IsOptional() @IsString() verifiedAt?: string;
  @ValidateNested() @Type(() => RightsDeadlines) deadlines!: RightsDeadlines;
  /** True when an open request is past a deadline. */
  @IsBoolean() overdue!: boolean;
  /** The open request this one repeats (linked, not processed twice). */
  @IsOptional() @IsString() duplicateOf?: string;
  @IsOptional() @ValidateNested() @Type(() => RightsFee) fee?: RightsFee;
  /** What fulfilment did: an erasure, an accounting, correction tasks, ledger entries. */
  @IsOptional() fulfilment?: Record<string, unknown>;
  @IsOptional() @IsString() answeredAt?: string;
  @IsOptional() @IsIn(REQUEST_OUTCOMES) outcome?: (typeof REQUEST_OUTCOMES)[number];
  @IsOptional()
  @IsIn(REQUEST_VERIFICATIONS)
  verification?: (typeof REQUEST_VERIFICATIONS)[number];
  @IsOptional() @IsString() denialBasis?: string;
}

export class ListRightsCasesReply {
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => RightsRequestCase)
  requests!: RightsRequestCase[];
}

/** What the product holds and did with a subject's information (CCP-1 know, HIP-8 access). */
export class SubjectReport {
  @IsIn(['dsg.subject-report']) type!: 'dsg.subject-report';
  @IsString() clientId!: string;
  @IsString() requestId!: string;
  @IsIn(RIGHTS) right!: (typeof RIGHTS)[number];
  @IsString() producedAt!: string;
  @IsString() policyVersion!: string;
  /** The categories held, by system (retention holdings). */
  @IsArray() categoriesHeld!: { system: string; category: string; label?: string }[];
  /** The purposes the information was used or shared for, with the policy's labels. */
  @IsArray() purposes!: { id: string; label: string }[];
  /** Recipients the register shows received information, with how often and when last. */
  @IsArray() recipients!: { id: string; name: string; disclosures: number; last: string }[];
  /** Every register entry about the subject (allowed or reported disclosures, notices). */
  @IsArray() disclosures!: {
    position: number;
    date: string;
    recipient: string;
    purpose: string;
    categories: string[];
  }[];
  /** The consent ledger's latest entry per scope. */
  @IsArray() consents!: { scopeType: string; scope: string; kind: string; at: string }[];
  @IsArray() authorizations!: {
    authorizationId: string;
    status: string;
    purposes: string[];
    expiresAt: string;
  }[];
  /** The policy promises this (POL-4): exercising a right changes no service or price. */
  @IsString() nonDiscrimination!: string;
}

/** A know or access request's report (JSON; also rendered as a PDF). */
export class RightsReportRequest {
  @Matches(UUID_PATTERN, { message: 'requestId must be a UUID' }) requestId!: string;
  @IsOptional() @IsIn(['json', 'pdf']) format?: 'json' | 'pdf';
}

export class RightsReportReply {
  @IsString() requestId!: string;
  @IsIn(['json', 'pdf']) format!: 'json' | 'pdf';
  /** The report (format json). */
  @IsOptional() report?: SubjectReport;
  /** Base64 PDF (format pdf). */
  @IsOptional() @IsString() pdf?: string;
  @IsString() contentHash!: string;
}

/** The request log for an auditor (CCP-7): entries of a period, oldest first. */
export class ExportRequestLogRequest {
  @Matches(TIMESTAMP_PATTERN, { message: 'from must be an ISO 8601 timestamp' }) from!: string;
  @Matches(TIMESTAMP_PATTERN, { message: 'to must be an ISO 8601 timestamp' }) to!: string;
}

export class RequestLogEntry {
  @IsString() requestId!: string;
  @IsString() receivedAt!: string;
  @IsString() right!: string;
  @IsString() channel!: string;
  @IsString() requester!: string;
  @IsOptional() @IsString() verification?: string;
  @IsOptional() @IsString() answeredAt?: string;
  @IsOptional() @IsString() outcome?: string;
  @IsOptional() @IsString() denialBasis?: string;
  @IsOptional() @IsString() duplicateOf?: string;
  /** Answered by the deadline in force (after any extension). */
  @IsOptional() @IsBoolean() onTime?: boolean;
}

export class ExportRequestLogReply {
  @IsString() from!: string;
  @IsString() to!: string;
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => RequestLogEntry)
  entries!: RequestLogEntry[];
  /** Hex SHA-256 of the canonical JSON of the entries. */
  @IsString() contentHash!: string;
}

export class RequestLogFigure {
  @IsString() right!: string;
  @IsInt() received!: number;
  @IsInt() answered!: number;
  /** Answered by their deadline. */
  @IsInt() met!: number;
  @IsInt() denied!: number;
  @IsInt() open!: number;
  /** Median calendar days from receipt to answer (null when none answered). */
  medianDaysToAnswer!: number | null;
}

export class RequestLogFiguresReply {
  @IsString() from!: string;
  @IsString() to!: string;
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => RequestLogFigure)
  byRight!: RequestLogFigure[];
  @ValidateNested() @Type(() => RequestLogFigure) total!: RequestLogFigure;
}

/**
 * Payload of `consent.correction.requested`: a correction task for one holding system (HIP-8
 * amendment, CCP-1 correct). The system corrects the subject's record and keeps the change's
 * history (CMI-6).
 */
export class CorrectionRequested {
  @IsString() requestId!: string;
  @IsString() clientId!: string;
  @IsString() system!: string;
  @IsArray() @IsString({ each: true }) categories!: string[];
  @IsString() description!: string;
}

/** Payload of `consent.rights-request.changed`: a rights request's state after a step. */
export class RightsRequestChanged {
  @IsString() requestId!: string;
  @IsIn(RIGHTS) right!: (typeof RIGHTS)[number];
  @IsIn(RIGHTS_REQUEST_STATES) state!: RightsRequestState;
  @IsOptional() @IsIn(REQUEST_OUTCOMES) outcome?: (typeof REQUEST_OUTCOMES)[number];
}
