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
  Max,
  Min,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { Type } from 'class-transformer';
import { LEGAL_BASES } from '../consent/decision.dto';
import { CLIENT_ID_PATTERN, TIMESTAMP_PATTERN } from '../consent/subjects.dto';
import { RECIPIENT_ID_PATTERN } from './recipients.dto';

/**
 * "May I share this, and record that I did?" The calling service is known from its NATS
 * identity; an Idempotency-Key header is required.
 */
export class DiscloseRequest {
  @Matches(CLIENT_ID_PATTERN, { message: 'clientId must be 1-64 letters, digits, _ or -' })
  clientId!: string;
  @Matches(RECIPIENT_ID_PATTERN, { message: 'recipientId must be 1-64 of a-z, 0-9 and -' })
  recipientId!: string;
  @IsString() @MaxLength(64) purpose!: string;
  @IsIn(LEGAL_BASES) legalBasis!: (typeof LEGAL_BASES)[number];
  @IsOptional()
  @Matches(/^[0-9a-f-]{36}$/, { message: 'authorizationId must be a UUID' })
  authorizationId?: string;
  /**
   * The legal request (its requestId from legal-requests.intake) a disclosure answers. Required
   * on the law-enforcement basis: without a request that may be fulfilled and covers it, the
   * disclosure is denied (HIP-6, CMI-3).
   */
  @IsOptional() @IsString() @MaxLength(128) legalRequestRef?: string;
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(50)
  @IsString({ each: true })
  categories!: string[];
  /** ACC-1: a brief description of what is disclosed. Personal: kept apart from the hash. */
  // A pattern, not @MinLength: it compiles faithfully to the fast validator (see
  // CompiledValidators); it counts UTF-16 units as JSON Schema's pattern does.
  @IsString()
  @Matches(/^[\s\S]{3,}$/, { message: 'description must be at least 3 characters' })
  @MaxLength(500)
  description!: string;
  /** The person acting, if any (staff id). Personal: kept apart from the hash. */
  @IsOptional() @IsString() @MaxLength(128) actingPerson?: string;
}

export const REPORT_SOURCES = ['business-associate', 'emergency', 'staff'] as const;

/**
 * A disclosure that has already happened, recorded the same way (ACC-3: one a business associate
 * made on the spa's behalf; one made in an emergency; one found later). The same checks run; a
 * disclosure that fails them is flagged and opens a breach assessment (HIP-9).
 */
export class ReportDisclosureRequest extends DiscloseRequest {
  /** When the disclosure was made. */
  @Matches(TIMESTAMP_PATTERN, { message: 'occurredAt must be an ISO 8601 timestamp' })
  occurredAt!: string;
  @IsIn(REPORT_SOURCES) source!: (typeof REPORT_SOURCES)[number];
  /** ACC-3: the business associate (a recipient id) whose report this is. */
  @IsOptional()
  @Matches(RECIPIENT_ID_PATTERN, { message: 'reportedBy must be 1-64 of a-z, 0-9 and -' })
  reportedBy?: string;
}

export const DISCLOSURE_DECISIONS = ['ALLOW', 'DENY'] as const;

/** A receipt's place in the batch signed with it, and its audit path to the batch's root. */
export class ReceiptBatch {
  /** Receipts in the batch. */
  @IsInt() @Min(1) size!: number;
  /** This receipt's leaf index among them. */
  @IsInt() @Min(0) index!: number;
  /** Hex SHA-256 hashes, from the leaf up (RFC 9162 2.1.3.1). */
  @IsArray() @IsString({ each: true }) proof!: string[];
}

/**
 * Signed by the register's key (`kid`), a batch at a time (see receipts.ts): `signature` is over
 * the canonical JSON of `{receipts: root, size}`, where root is the Merkle root of the batch's
 * receipts, which `batch.proof` leads this one's leaf to. `receiptSignedMessage` computes it.
 */
export class DisclosureReceipt {
  @IsString() entryId!: string;
  /** The entry's leaf index in the log. */
  @IsInt() position!: number;
  /** Hex SHA-256 leaf hash (RFC 9162) of the entry. */
  @IsString() leafHash!: string;
  @IsIn(DISCLOSURE_DECISIONS) decision!: (typeof DISCLOSURE_DECISIONS)[number];
  /** Every failed rule, by rule id. */
  @IsArray() @IsString({ each: true }) reasons!: string[];
  /** CONSENT_UNAVAILABLE when the consent service could not answer (fail closed). */
  @IsOptional() @IsString() code?: string;
  @IsString() recordedAt!: string;
  /** The entry an earlier CONSENT_UNAVAILABLE attempt under the same key made. */
  @IsOptional() @IsString() retryOf?: string;
  @ValidateNested() @Type(() => ReceiptBatch) batch!: ReceiptBatch;
  @IsString() kid!: string;
  @IsString() signature!: string;
}

/**
 * The receipt of a reported disclosure: `decision` is what the checks say of it (DENY: it was not
 * permitted); such a disclosure is `flagged` and names the breach assessment it opened.
 */
export class ReportReceipt extends DisclosureReceipt {
  @IsBoolean() flagged!: boolean;
  @IsOptional() @IsString() breachAssessmentId?: string;
}

export class TreeHeadRequest {}

/** A signed tree head: the log of `treeSize` entries has this root (RFC 9162). */
export class TreeHeadReply {
  @IsInt() treeSize!: number;
  /** Hex SHA-256. */
  @IsString() rootHash!: string;
  @IsString() sealedAt!: string;
  @IsString() kid!: string;
  /** Over the canonical JSON of {treeSize, rootHash, sealedAt}. */
  @IsString() signature!: string;
}

/**
 * The largest log position or size a request may name: PostgreSQL's bigint holds more, but a
 * JSON number above this is no longer exact (an out-of-range one would otherwise fail in SQL).
 */
export const MAX_POSITION = Number.MAX_SAFE_INTEGER;

/** A UUID as PostgreSQL and randomUUID() write it (entries, breach assessments). */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The audit path of one entry (by id) to a sealed tree head (default: the newest). */
export class InclusionProofRequest {
  @Matches(UUID_PATTERN, { message: 'entryId must be a UUID' }) entryId!: string;
  /** A sealed tree head's size; default the newest. */
  @IsOptional() @IsInt() @Min(1) @Max(MAX_POSITION) treeSize?: number;
}

/** RFC 9162 2.1.3: `proof` leads from `leafHash` at `position` to the root of `treeHead`. */
export class InclusionProofReply {
  @IsInt() position!: number;
  @IsString() leafHash!: string;
  /** Hex SHA-256 hashes, from the leaf's sibling up. */
  @IsArray() @IsString({ each: true }) proof!: string[];
  @ValidateNested() @Type(() => TreeHeadReply) treeHead!: TreeHeadReply;
}

/** That the log of `fromSize` entries is a prefix of the log of `toSize` (default: newest). */
export class ConsistencyProofRequest {
  @IsInt() @Min(1) @Max(MAX_POSITION) fromSize!: number;
  @IsOptional() @IsInt() @Min(1) @Max(MAX_POSITION) toSize?: number;
}

/** RFC 9162 2.1.4: `proof` shows `from` is a prefix of `to`; both are signed tree heads. */
export class ConsistencyProofReply {
  @IsArray() @IsString({ each: true }) proof!: string[];
  @ValidateNested() @Type(() => TreeHeadReply) from!: TreeHeadReply;
  @ValidateNested() @Type(() => TreeHeadReply) to!: TreeHeadReply;
}

export class VerifyLogRequest {}

export class VerifyLogReply {
  @IsIn(['valid', 'invalid']) result!: 'valid' | 'invalid';
  @IsInt() entries!: number;
  @IsInt() treeHeadsChecked!: number;
  /** The first entry whose content, hash or place does not match. */
  @IsOptional() @IsInt() firstBadPosition?: number;
  @IsOptional() @IsString() problem?: string;
}

export class DisclosureEvent {
  @IsString() entryId!: string;
  /** Present on a reported disclosure (one that had already happened). */
  @IsOptional() @IsString() occurredAt?: string;
  @IsInt() position!: number;
  @IsString() recipientId!: string;
  @IsString() purpose!: string;
  @IsIn(DISCLOSURE_DECISIONS) decision!: (typeof DISCLOSURE_DECISIONS)[number];
  @IsArray() @IsString({ each: true }) reasons!: string[];
  @IsString() recordedAt!: string;
}

export class TreeHeadSealed {
  @IsInt() treeSize!: number;
  @IsString() rootHash!: string;
  @IsString() sealedAt!: string;
  @IsString() kid!: string;
  @IsString() signature!: string;
}
