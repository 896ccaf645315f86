import { Type } from 'class-transformer';
import {
  IsArray,
  IsIn,
  IsInt,
  IsString,
  Matches,
  MaxLength,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { CLIENT_ID_PATTERN, TIMESTAMP_PATTERN } from '../consent/subjects.dto';

/** Notices the register records to the recipients of a subject's data. */
export const NOTICE_KINDS = ['deletion-request'] as const;

/**
 * Record a notice to every recipient the register shows received the subject's data (allowed
 * disclosures and reported ones): one register entry each (CCP-4: service providers, contractors
 * and third parties are told of a deletion). `ref` (the erasure) makes a retry record nothing
 * twice. Caller: retention.
 */
export class RecordNoticesRequest {
  @Matches(CLIENT_ID_PATTERN, { message: 'clientId must be 1-64 letters, digits, _ or -' })
  clientId!: string;
  @IsIn(NOTICE_KINDS) notice!: (typeof NOTICE_KINDS)[number];
  /** The rule the notice is owed under (CCP-4). */
  @IsString() @MaxLength(16) rule!: string;
  @IsString() @MinLength(1) @MaxLength(128) ref!: string;
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
