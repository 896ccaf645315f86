import { Type } from 'class-transformer';
import {
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { CLIENT_ID_PATTERN, TIMESTAMP_PATTERN } from '../consent/subjects.dto';

/**
 * Notices the register records to the recipients of a subject's data: a deletion (CCP-4, asked by
 * the retention service) or an opt-out (CCP-2, 7026(f), asked by the consent service: only the
 * recipients that received data since the request), or a request to limit the use of sensitive
 * personal information (CCP-1, 11 CCR 7027(g), asked by the consent service, the same recipients).
 */
export const NOTICE_KINDS = ['deletion-request', 'opt-out-request', 'limit-request'] as const;

/**
 * Record a notice to every recipient the register shows received the subject's data (allowed
 * disclosures and reported ones): one register entry each (CCP-4: service providers, contractors
 * and third parties are told of a deletion). `ref` (the erasure) makes a retry record nothing
 * twice. Callers: retention (deletion-request), consent (opt-out-request).
 */
export class RecordNoticesRequest {
  @Matches(CLIENT_ID_PATTERN, { message: 'clientId must be 1-64 letters, digits, _ or -' })
  clientId!: string;
  @IsIn(NOTICE_KINDS) notice!: (typeof NOTICE_KINDS)[number];
  /** The rule the notice is owed under (CCP-4). */
  @IsString() @MaxLength(16) rule!: string;
  @IsString() @MinLength(1) @MaxLength(128) ref!: string;
  /** Only recipients that received the subject's data at or after this moment (opt-out). */
  @IsOptional()
  @Matches(TIMESTAMP_PATTERN, { message: 'since must be an ISO 8601 timestamp' })
  since?: string;
}

export class RecordedNotice {
  @IsString() recipientId!: string;
  @IsString() entryId!: string;
  @IsInt() position!: number;
}

export class RecordNoticesReply {
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => RecordedNotice)
  notices!: RecordedNotice[];
}

/**
 * The register's redaction path: a subject's personal details leave the entries recorded before
 * `before`; the leaves stay, and the log still verifies. Caller: retention.
 */
export class RedactEntriesRequest {
  @Matches(CLIENT_ID_PATTERN, { message: 'clientId must be 1-64 letters, digits, _ or -' })
  clientId!: string;
  @Matches(TIMESTAMP_PATTERN, { message: 'before must be an ISO 8601 timestamp' })
  before!: string;
  @IsString() @MinLength(3) @MaxLength(500) reason!: string;
}

export class RedactEntriesReply {
  @IsInt() redactedEntries!: number;
}

/** Where a recipient takes notices (e-mail or a webhook; a signed POST). */
export class NoticeContact {
  @IsOptional() @IsString() @MaxLength(320) email?: string;
  @IsOptional() @IsString() @MaxLength(2000) webhookUrl?: string;
}

/**
 * Payload of `disclosure-register.notice.recorded`: a notice to a recipient was recorded in the
 * register (its entry); the consent service's notification mechanism delivers it.
 */
export class NoticeRecorded {
  @IsString() entryId!: string;
  @IsInt() position!: number;
  @IsIn(NOTICE_KINDS) notice!: (typeof NOTICE_KINDS)[number];
  @IsString() rule!: string;
  @IsString() ref!: string;
  @IsString() clientId!: string;
  @IsString() recipientId!: string;
  @IsString() recipientName!: string;
  @IsOptional() @ValidateNested() @Type(() => NoticeContact) contact?: NoticeContact;
}
