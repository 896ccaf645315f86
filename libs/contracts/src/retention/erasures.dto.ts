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
import { canonicalJson } from '../log/canonical-json';
import { type KeyLike, signedBy } from '../keys/signed-by';
import { CLIENT_ID_PATTERN } from '../consent/subjects.dto';
import { UUID_PATTERN } from '../register/disclosures.dto';

/**
 * Why a subject's data is erased: a consumer's deletion request (CCP-4, POL-4), or a child's data
 * found collected without verifiable parental consent (KID-1, POL-5).
 */
export const ERASURE_BASES = ['consumer-request', 'child-without-parental-consent'] as const;
export type ErasureBasis = (typeof ERASURE_BASES)[number];

/** A privacy officer (or the rights-request flow) asks. Needs Idempotency-Key. */
export class RequestErasureRequest {
  @Matches(CLIENT_ID_PATTERN, { message: 'clientId must be 1-64 letters, digits, _ or -' })
  clientId!: string;
  @IsIn(ERASURE_BASES) basis!: ErasureBasis;
  /** The rights request or case it answers, if any. */
  @IsOptional() @IsString() @MaxLength(128) requestRef?: string;
  @IsString() @MinLength(3) @MaxLength(2000) reason!: string;
}

export class ErasureRef {
  @Matches(UUID_PATTERN, { message: 'erasureId must be a UUID' }) erasureId!: string;
}

/** What was decided for one holding, and, when it is erased, how that went. */
export class ErasureDecision {
  @IsString() system!: string;
  @IsString() category!: string;
  @IsIn(['erase', 'keep']) decision!: 'erase' | 'keep';
  /** delete or de-identify (erase). */
  @IsOptional() @IsString() action?: string;
  /** The rule relied on: CCP-4 / KID-1 / POL-5 to erase; RET-6, RET-1, RET-2, RET-4, ACC-9 … to keep. */
  @IsString() rule!: string;
  @IsString() reason!: string;
  @IsOptional() @IsString() itemId?: string;
  /** The purge item's state (erase). */
  @IsOptional() @IsString() state?: string;
}

/** A recipient the register shows received the subject's data, told of the erasure (CCP-4). */
export class ErasureNotice {
  @IsString() recipientId!: string;
  /** The register entry recording the notice. */
  @IsString() entryId!: string;
  @IsInt() position!: number;
}

/** The signed record of an erasure: what was erased, what was kept and under which rule. */
export class ErasureCertificateBody {
  @IsIn(['dsg.erasure-certificate']) type!: 'dsg.erasure-certificate';
  @IsInt() version!: 1;
  @IsString() erasureId!: string;
  @IsString() clientId!: string;
  @IsIn(ERASURE_BASES) basis!: ErasureBasis;
  @IsString() requestedAt!: string;
  @IsString() completedAt!: string;
  @IsArray() erased!: { system: string; category: string; action: string; rule: string }[];
  @IsArray() kept!: { system: string; category: string; rule: string; reason: string }[];
  /** Items that could not be erased (dead-lettered): named, never hidden. */
  @IsArray() notErased!: { system: string; category: string; rule: string; reason: string }[];
  @IsArray() notices!: ErasureNotice[];
}

export class ErasureCertificate {
  @ValidateNested() @Type(() => ErasureCertificateBody) body!: ErasureCertificateBody;
  /** The retention service's signing key (retention.system.signing-keys). */
  @IsString() kid!: string;
  @IsIn(['EdDSA']) alg!: 'EdDSA';
  /** Ed25519, base64url, over the RFC 8785 canonical JSON of `body`. */
  @IsString() signature!: string;
}

export class ErasureReply {
  @IsString() erasureId!: string;
  @IsString() clientId!: string;
  @IsIn(ERASURE_BASES) basis!: ErasureBasis;
  @IsIn(['in-progress', 'completed']) state!: 'in-progress' | 'completed';
  @IsString() requestedAt!: string;
  @IsString() requestedBy!: string;
  @IsOptional() @IsString() requestRef?: string;
  @IsOptional() @IsString() completedAt?: string;
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => ErasureDecision)
  decisions!: ErasureDecision[];
  @IsArray() @ValidateNested({ each: true }) @Type(() => ErasureNotice) notices!: ErasureNotice[];
  @IsOptional() @ValidateNested() @Type(() => ErasureCertificate) certificate?: ErasureCertificate;
}

/** Event erasure.completed. */
export class ErasureCompleted {
  @IsString() erasureId!: string;
  @IsIn(ERASURE_BASES) basis!: ErasureBasis;
  @IsInt() erased!: number;
  @IsInt() kept!: number;
  @IsInt() notErased!: number;
  @IsInt() notices!: number;
}

/**
 * Checks an erasure certificate against the retention service's published keys, offline: true
 * only if it is signed, by one of them, over exactly its body.
 */
export function verifyErasureCertificate(
  certificate: ErasureCertificate,
  keys: readonly KeyLike[],
): boolean {
  if (certificate?.alg !== 'EdDSA' || typeof certificate.body !== 'object') return false;
  const retentionKeys = keys.filter((k) => k.service === undefined || k.service === 'retention');
  return signedBy(
    canonicalJson(certificate.body),
    certificate.kid,
    certificate.signature,
    retentionKeys,
  );
}

/**
 * A consumer's deletion request carried out for a rights request (CCP-4): asked by the consent
 * service for the privacy officer who fulfils it (`actingFor`). Needs Idempotency-Key; a retry
 * with the same key returns the erasure as it stands. Caller: consent only.
 */
export class RequestErasureForRightsRequest {
  @Matches(CLIENT_ID_PATTERN, { message: 'clientId must be 1-64 letters, digits, _ or -' })
  clientId!: string;
  @Matches(UUID_PATTERN, { message: 'rightsRequestId must be a UUID' }) rightsRequestId!: string;
  @IsString() @MinLength(3) @MaxLength(2000) reason!: string;
  @IsString() @MinLength(1) @MaxLength(200) actingFor!: string;
}
