import { Type } from 'class-transformer';
import {
  IsArray,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { CLIENT_ID_PATTERN } from '../consent/subjects.dto';
import { MAX_POSITION } from './disclosures.dto';
import { ExportFilter } from './exports.dto';

/**
 * Register entries matching a filter (period, recipient, purpose, subject, decision: every field
 * narrows), in position order, a page at a time. Keyset pagination: `after` is the last position
 * of the page before (the reply's `nextAfter`), so a page costs the same wherever it is and
 * entries appended meanwhile never shift it.
 */
export class QueryEntriesRequest {
  @IsOptional() @ValidateNested() @Type(() => ExportFilter) filter?: ExportFilter;
  @IsOptional() @IsInt() @Min(-1) @Max(MAX_POSITION) after?: number;
  /** Entries per page, 1-1000; default 100. */
  @IsOptional() @IsInt() @Min(1) @Max(1000) limit?: number;
}

export class RegisterEntry {
  @IsInt() position!: number;
  @IsString() entryId!: string;
  @IsString() recordedAt!: string;
  /** Hex SHA-256 leaf hash (RFC 9162). */
  @IsString() leafHash!: string;
  /** What is hashed: the canonical JSON's fields (decision, recipient, purpose, reasons …). */
  @IsObject() leaf!: Record<string, unknown>;
  /** Personal details kept apart from the hash; absent once redacted. */
  @IsOptional() @IsObject() details?: Record<string, unknown>;
}

export class QueryEntriesReply {
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => RegisterEntry)
  entries!: RegisterEntry[];
  /** Pass as `after` for the next page; absent on the last. */
  @IsOptional() @IsInt() nextAfter?: number;
}

/** A subject's entries, for a know or access report (CCP-1, HIP-8). Caller: consent. */
export class SubjectEntriesRequest {
  @Matches(CLIENT_ID_PATTERN, { message: 'clientId must be 1-64 letters, digits, _ or -' })
  clientId!: string;
}

export class SubjectEntry {
  @IsInt() position!: number;
  @IsString() type!: string;
  @IsString() recordedAt!: string;
  @IsString() recipientId!: string;
  @IsString() recipientName!: string;
  @IsString() purpose!: string;
  @IsArray() @IsString({ each: true }) categories!: string[];
}

export class SubjectEntriesReply {
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => SubjectEntry)
  entries!: SubjectEntry[];
}
