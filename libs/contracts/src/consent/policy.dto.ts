import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsDateString,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';

export class GetPolicyRequest {
  /** A past or current version; omitted: the version in effect now. */
  @IsOptional()
  @IsString()
  @MaxLength(64)
  @Matches(/^[0-9A-Za-z.-]+$/)
  version?: string;
}

export class PolicyVersionSummary {
  @IsString()
  version!: string;

  @IsDateString()
  effectiveDate!: string;

  /** A material change: active clients are told (POL-6). */
  @IsBoolean()
  material!: boolean;

  /** SHA-256 of the bundle's canonical JSON. */
  @IsString()
  contentHash!: string;

  @IsDateString()
  publishedAt!: string;
}

export class PolicyVersionReply extends PolicyVersionSummary {
  @IsString()
  policyId!: string;

  /** Whether this is the version in effect now. */
  @IsBoolean()
  current!: boolean;

  /** The whole bundle: categories, purposes, recipient kinds, retention (README: policy bundle). */
  @IsObject()
  bundle!: Record<string, unknown>;
}

export class ListPolicyVersionsRequest {}

export class ListPolicyVersionsReply {
  /** The version in effect now. */
  @IsString()
  current!: string;

  @ValidateNested({ each: true })
  @Type(() => PolicyVersionSummary)
  versions!: PolicyVersionSummary[];
}

/** Payload of the `consent.policy.published` event. */
export class PolicyPublished {
  @IsString()
  policyId!: string;

  @IsString()
  version!: string;

  @IsDateString()
  effectiveDate!: string;

  @IsBoolean()
  material!: boolean;

  @IsString()
  contentHash!: string;
}

/** Payload of `consent.notification.requested`: a notice the product owes a person (POL-6). */
export class NotificationRequested {
  @IsString()
  taskId!: string;

  @IsString()
  clientId!: string;

  /** What the notice is about: `policy-change` for a material policy version. */
  @IsString()
  kind!: string;

  @IsString()
  policyVersion!: string;
}
