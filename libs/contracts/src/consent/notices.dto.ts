import { Type } from 'class-transformer';
import {
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { CLIENT_ID_PATTERN } from './subjects.dto';

/**
 * Every outbound notice the product owes, delivered by one mechanism (issue 8): policy changes to
 * active clients (POL-6); opt-out and deletion notices to recipients (CCP-2, CCP-4); a rights
 * request's confirmation, extension, fee quote and answer (CCP-2, ACC-5, ACC-6); overdue
 * requests and breach deadlines to privacy officers (HIP-9).
 */
export const NOTICE_TYPES = [
  'policy-change',
  'request-confirmation',
  'request-extension',
  'request-fee-quote',
  'request-answer',
  'opt-out-to-recipient',
  'limit-to-recipient',
  'deletion-to-recipient',
  'request-overdue',
  'breach-deadline',
] as const;
export type NoticeType = (typeof NOTICE_TYPES)[number];
export const NOTICE_AUDIENCES = ['subject', 'recipient', 'privacy-officer'] as const;
export type NoticeAudience = (typeof NOTICE_AUDIENCES)[number];
export const NOTICE_CHANNELS = ['email', 'webhook'] as const;
export type NoticeChannel = (typeof NOTICE_CHANNELS)[number];
/**
 * queued: not tried yet; retrying: an attempt failed and another is scheduled; sent: delivered to
 * the mail server or accepted by the webhook (2xx); failed: every attempt failed (dead letter).
 */
export const NOTICE_STATES = ['queued', 'retrying', 'sent', 'failed'] as const;
export type NoticeState = (typeof NOTICE_STATES)[number];

export class ListNoticesRequest {
  @IsOptional() @IsIn(NOTICE_STATES) state?: NoticeState;
  @IsOptional() @IsIn(NOTICE_TYPES) type?: NoticeType;
  /** What the notice is about: a rights request id, a policy version, an erasure, a breach … */
  @IsOptional() @IsString() @MaxLength(128) ref?: string;
  @IsOptional()
  @Matches(CLIENT_ID_PATTERN, { message: 'clientId must be 1-64 letters, digits, _ or -' })
  clientId?: string;
  @IsOptional() @IsInt() @Min(1) limit?: number;
}

export class NoticeAttempt {
  @IsInt() attempt!: number;
  @IsString() at!: string;
  @IsIn(['sent', 'failed']) outcome!: 'sent' | 'failed';
  /** A stable reason for a failure (SMTP reply code, HTTP status, NO_DESTINATION …). */
  @IsOptional() @IsString() detail?: string;
}

/** A notice and its delivery state, as an auditor sees it: never its address or body. */
export class NoticeReply {
  @IsString() noticeId!: string;
  @IsIn(NOTICE_TYPES) type!: NoticeType;
  @IsIn(NOTICE_AUDIENCES) audience!: NoticeAudience;
  @IsIn(NOTICE_CHANNELS) channel!: NoticeChannel;
  @IsString() ref!: string;
  @IsOptional() @IsString() clientId?: string;
  @IsOptional() @IsString() recipientId?: string;
  /** The rule the notice is owed under. */
  @IsString() rule!: string;
  @IsIn(NOTICE_STATES) state!: NoticeState;
  @IsString() createdAt!: string;
  @IsOptional() @IsString() sentAt?: string;
  @IsOptional() @IsString() nextAttemptAt?: string;
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => NoticeAttempt)
  attempts!: NoticeAttempt[];
}

export class ListNoticesReply {
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => NoticeReply)
  notices!: NoticeReply[];
}
