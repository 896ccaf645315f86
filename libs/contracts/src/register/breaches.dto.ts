import { Type } from 'class-transformer';
import {
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
import { TIMESTAMP_PATTERN } from '../consent/subjects.dto';
import { UUID_PATTERN } from './disclosures.dto';

/**
 * HIP-9: an impermissible disclosure starts a breach assessment (45 CFR 164.402-.408; Civ. Code
 * 1798.82). Its lifecycle: open → under-review → decided (notifiable or not, with reasons) →
 * for a notifiable breach, individuals and the regulator notified by their deadline (60 days
 * from discovery) → closed.
 */
export const BREACH_STATES = ['open', 'under-review', 'decided', 'closed'] as const;
export type BreachState = (typeof BREACH_STATES)[number];
export const BREACH_AUDIENCES = ['individuals', 'regulator', 'media'] as const;

/**
 * The four factors of 45 CFR 164.402(2): a disclosure is presumed a breach unless a risk
 * assessment of these shows a low probability that the information was compromised.
 */
export class BreachRiskFactors {
  /** Nature and extent of the information (identifiers, sensitivity, likelihood of re-identification). */
  @IsString() @MinLength(3) @MaxLength(2000) natureAndExtent!: string;
  /** Who received or used it. */
  @IsString() @MinLength(3) @MaxLength(2000) unauthorizedPerson!: string;
  /** Whether it was actually acquired or viewed. */
  @IsString() @MinLength(3) @MaxLength(2000) acquiredOrViewed!: string;
  /** How far the risk was mitigated. */
  @IsString() @MinLength(3) @MaxLength(2000) mitigation!: string;
}

export class ListBreachesRequest {
  @IsOptional() @IsIn(BREACH_STATES) state?: BreachState;
}

export class GetBreachRequest {
  @Matches(UUID_PATTERN, { message: 'assessmentId must be a UUID' }) assessmentId!: string;
}

/** A privacy officer takes the assessment up (open → under-review). */
export class ReviewBreachRequest extends GetBreachRequest {
  @IsOptional() @IsString() @MaxLength(2000) note?: string;
}

/** The decision, with its reasons and the four-factor assessment it rests on. */
export class DecideBreachRequest extends GetBreachRequest {
  @IsBoolean() notifiable!: boolean;
  @IsString() @MinLength(10) @MaxLength(4000) reasons!: string;
  @ValidateNested() @Type(() => BreachRiskFactors) factors!: BreachRiskFactors;
}

/** A notification sent for a notifiable breach. */
export class NotifyBreachRequest extends GetBreachRequest {
  @IsIn(BREACH_AUDIENCES) audience!: (typeof BREACH_AUDIENCES)[number];
  @Matches(TIMESTAMP_PATTERN, { message: 'notifiedAt must be an ISO 8601 timestamp' })
  notifiedAt!: string;
  /** How (letter, e-mail, the HHS portal …) and any reference it produced. */
  @IsString() @MinLength(3) @MaxLength(500) method!: string;
}

export class CloseBreachRequest extends GetBreachRequest {
  @IsOptional() @IsString() @MaxLength(2000) note?: string;
}

export class BreachHistoryItem {
  @IsString() action!: string;
  @IsString() at!: string;
  /** The privacy officer (subject of the gateway assertion), or `register` for the opening. */
  @IsString() by!: string;
  @IsOptional() @IsString() note?: string;
}

export class BreachNotification {
  @IsIn(BREACH_AUDIENCES) audience!: (typeof BREACH_AUDIENCES)[number];
  @IsString() notifiedAt!: string;
  @IsString() method!: string;
}

export class BreachAssessmentReply {
  @IsString() assessmentId!: string;
  /** The register entry of the disclosure that opened it. */
  @IsString() entryId!: string;
  @IsIn(BREACH_STATES) state!: BreachState;
  /** Rule ids the disclosure failed. */
  @IsArray() @IsString({ each: true }) reasons!: string[];
  @IsString() discoveredAt!: string;
  /** 164.404: individuals, no later than 60 days after discovery. */
  @IsString() individualsDueBy!: string;
  /** 164.408 (and Civ. Code 1798.82): the regulator, set here at the same 60 days. */
  @IsString() regulatorDueBy!: string;
  /** A deadline passed with its notification not sent (only a notifiable or undecided breach). */
  @IsBoolean() overdue!: boolean;
  @IsOptional() @IsBoolean() notifiable?: boolean;
  @IsOptional() @IsString() decisionReasons?: string;
  @IsOptional() @ValidateNested() @Type(() => BreachRiskFactors) factors?: BreachRiskFactors;
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => BreachNotification)
  notifications!: BreachNotification[];
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => BreachHistoryItem)
  history!: BreachHistoryItem[];
}

export class ListBreachesReply {
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => BreachAssessmentReply)
  assessments!: BreachAssessmentReply[];
}

export class BreachAssessmentOpened {
  @IsString() assessmentId!: string;
  @IsString() entryId!: string;
  @IsArray() @IsString({ each: true }) reasons!: string[];
  @IsString() discoveredAt!: string;
  @IsString() individualsDueBy!: string;
  @IsString() regulatorDueBy!: string;
}

export class BreachAssessmentDecided {
  @IsString() assessmentId!: string;
  @IsBoolean() notifiable!: boolean;
  @IsString() decidedAt!: string;
  /** A notifiable breach's deadline for its notifications (60 days from discovery). */
  @IsOptional() @IsString() notifyBy?: string;
}
