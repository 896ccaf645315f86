import { Type } from 'class-transformer';
import {
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { CLIENT_ID_PATTERN, TIMESTAMP_PATTERN } from '../consent/subjects.dto';
import { MAX_POSITION, TreeHeadReply } from './disclosures.dto';
import { RECIPIENT_ID_PATTERN } from './recipients.dto';

export const EXPORT_FORMATS = ['csv', 'jsonl'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/**
 * Which entries an auditor asks for. Every field narrows; none at all is a contiguous range
 * (see ExportManifestRequest). The period is of the register's clock (recordedAt), from
 * inclusive, to exclusive.
 */
export class ExportFilter {
  @IsOptional()
  @Matches(TIMESTAMP_PATTERN, { message: 'recordedFrom must be an RFC 3339 timestamp' })
  recordedFrom?: string;
  @IsOptional()
  @Matches(TIMESTAMP_PATTERN, { message: 'recordedTo must be an RFC 3339 timestamp' })
  recordedTo?: string;
  @IsOptional()
  @Matches(RECIPIENT_ID_PATTERN, { message: 'recipientId must be 1-64 of a-z, 0-9 and -' })
  recipientId?: string;
  @IsOptional() @IsString() @MaxLength(64) purpose?: string;
  @IsOptional() @IsIn(['ALLOW', 'DENY']) decision?: 'ALLOW' | 'DENY';
  /** The subject (personal: it is in the export's lines anyway, never in a log). */
  @IsOptional()
  @Matches(CLIENT_ID_PATTERN, { message: 'clientId must be 1-64 letters, digits, _ or -' })
  clientId?: string;
}

/**
 * An export is asked for in two steps: this request answers the signed manifest (what the export
 * holds and proves, fixed to one sealed tree head), then the lines are fetched page by page
 * (ExportPageRequest) with the manifest's own terms. Without a filter the export is the
 * contiguous range [fromPosition, toPosition) of the log (default: all of it up to the tree
 * head), which verifies by recomputing every leaf and the head's root; with a filter each line
 * carries its inclusion proof.
 */
export class ExportManifestRequest {
  @IsIn(EXPORT_FORMATS) format!: ExportFormat;
  /** A sealed tree head's size; default the newest. */
  @IsOptional() @IsInt() @Min(1) @Max(MAX_POSITION) treeSize?: number;
  @IsOptional() @IsInt() @Min(0) @Max(MAX_POSITION) fromPosition?: number;
  @IsOptional() @IsInt() @Min(1) @Max(MAX_POSITION) toPosition?: number;
  @IsOptional() @ValidateNested() @Type(() => ExportFilter) filter?: ExportFilter;
}

/** The compact-range proof of a contiguous export: subtree roots left and right of it. */
export class ExportRangeProof {
  /** [height, hex] of the complete subtrees of [0, fromPosition), left to right. */
  @IsArray() left!: [number, string][];
  /** [height, hex] of the complete subtrees of [toPosition, treeSize), left to right. */
  @IsArray() right!: [number, string][];
}

/** What an export holds and what it proves, signed by the register. */
export class ExportManifest {
  @IsInt() v!: 1;
  @IsIn(['range', 'filtered']) kind!: 'range' | 'filtered';
  @IsIn(EXPORT_FORMATS) format!: ExportFormat;
  /** The columns (CSV) or members (JSON Lines) of every line, in order. */
  @IsArray() @IsString({ each: true }) columns!: string[];
  /** Range: the positions exported. Filtered: the positions searched. */
  @IsInt() fromPosition!: number;
  @IsInt() toPosition!: number;
  @IsOptional() @ValidateNested() @Type(() => ExportFilter) filter?: ExportFilter;
  /** Lines of entries (a CSV export has one header line before them). */
  @IsInt() entries!: number;
  /** Hex SHA-256 of the exported entries' leaf hashes, concatenated in order. */
  @IsString() leavesDigest!: string;
  @ValidateNested() @Type(() => TreeHeadReply) treeHead!: TreeHeadReply;
  @IsOptional() @ValidateNested() @Type(() => ExportRangeProof) rangeProof?: ExportRangeProof;
  /** In words: what a successful verification of this export shows. */
  @IsString() proves!: string;
  @IsString() createdAt!: string;
  @IsString() kid!: string;
  /** Over the canonical JSON of every other member. */
  @IsString() signature!: string;
}

/** One page of an export: the manifest's terms, and where to continue (a position). */
export class ExportPageRequest {
  @IsIn(EXPORT_FORMATS) format!: ExportFormat;
  @IsInt() @Min(1) @Max(MAX_POSITION) treeSize!: number;
  @IsOptional() @IsInt() @Min(0) @Max(MAX_POSITION) fromPosition?: number;
  @IsOptional() @IsInt() @Min(1) @Max(MAX_POSITION) toPosition?: number;
  @IsOptional() @ValidateNested() @Type(() => ExportFilter) filter?: ExportFilter;
  /** The first position this page may hold (the previous page's `next`). */
  @IsOptional() @IsInt() @Min(0) @Max(MAX_POSITION) from?: number;
  @IsOptional() @IsInt() @Min(1) @Max(5000) limit?: number;
}

/**
 * A page's lines are not in the JSON reply: they follow it as raw bytes (the `Dsg-Body` header
 * says so), and the typed client puts them in `body`.
 */
export class ExportPageReply {
  @IsInt() entries!: number;
  /** The position to ask the next page from; absent after the last page. */
  @IsOptional() @IsInt() next?: number;
  body?: Uint8Array;
}

/**
 * HTTP `GET /exports/lines` on the register (its gateway's route to stream a contiguous export):
 * the lines of [fromPosition, toPosition) under the sealed head of `treeSize`, as one response
 * streamed straight from PostgreSQL's COPY (no CSV header line: the client writes it from the
 * manifest). Query parameters are strings on the wire; they are read as integers.
 */
export class ExportLinesQuery {
  @IsIn(EXPORT_FORMATS) format!: ExportFormat;
  @Type(() => Number) @IsInt() @Min(1) @Max(MAX_POSITION) treeSize!: number;
  @IsOptional() @Type(() => Number) @IsInt() @Min(0) @Max(MAX_POSITION) fromPosition?: number;
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(MAX_POSITION) toPosition?: number;
}
