import { Type } from 'class-transformer';
import {
  ArrayMinSize,
  Equals,
  IsArray,
  IsIn,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { CLIENT_ID_PATTERN, TIMESTAMP_PATTERN } from './subjects.dto';

/** HIP-1's required statements; each must be present in the signed form. */
export class AuthorizationStatements {
  @Equals(true, { message: 'the statement of the right to revoke is required (HIP-1)' })
  revocationRight!: boolean;

  @Equals(true, {
    message: 'the statement that treatment is not conditioned on signing is required (HIP-1)',
  })
  nonConditioning!: boolean;

  @Equals(true, {
    message: 'the statement that disclosed information may be redisclosed is required (HIP-1)',
  })
  redisclosure!: boolean;
}

/** CMI-2: how the form itself was made. */
export class AuthorizationForm {
  @IsIn(['handwritten', 'typed-14pt'], {
    message: 'the form must be handwritten or in at least 14-point type (CMI-2)',
  })
  format!: 'handwritten' | 'typed-14pt';

  @Equals(true, { message: 'the authorization must be a separate document (CMI-2)' })
  separateDocument!: boolean;

  @Equals(true, { message: 'the right to a copy must be stated (CMI-2)' })
  copyOffered!: boolean;
}

/**
 * A HIPAA (164.508) and CMIA (56.11) authorization, with every element both require: the stricter
 * rule wins, so CMIA's specific end date is required even where HIPAA would accept an event.
 */
export class RecordAuthorizationRequest {
  @Matches(CLIENT_ID_PATTERN, { message: 'clientId must be 1-64 letters, digits, _ or -' })
  clientId!: string;

  /** A specific, meaningful description of the information (HIP-1). */
  @IsString()
  @MinLength(10, { message: 'phiDescription must describe the information specifically (HIP-1)' })
  @MaxLength(1000)
  phiDescription!: string;

  /** The policy categories it covers. */
  @IsArray()
  @ArrayMinSize(1, { message: 'categories must name at least one category (HIP-1)' })
  @IsString({ each: true })
  categories!: string[];

  /** Who may disclose (HIP-1). */
  @IsString()
  @MinLength(2)
  @MaxLength(200)
  discloser!: string;

  /** The recipients, by name or class (HIP-1, CMI-2). */
  @IsArray()
  @ArrayMinSize(1, { message: 'recipients must name at least one recipient (HIP-1)' })
  @IsString({ each: true })
  @MaxLength(200, { each: true })
  recipients!: string[];

  /** Each purpose (policy purpose ids) (HIP-1, CMI-2). */
  @IsArray()
  @ArrayMinSize(1, { message: 'purposes must name each purpose (HIP-1)' })
  @IsString({ each: true })
  purposes!: string[];

  /** A specific end date (CMI-2; HIP-1 accepts a date or an event). */
  @Matches(TIMESTAMP_PATTERN, {
    message: 'expiresAt must be a specific end date, as an ISO 8601 timestamp (CMI-2)',
  })
  expiresAt!: string;

  /** An expiry event as well, if the form names one (HIP-1). */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  expiryEvent?: string;

  @Matches(TIMESTAMP_PATTERN, { message: 'signedAt must be an ISO 8601 timestamp (HIP-1)' })
  signedAt!: string;

  @IsIn(['self', 'guardian', 'legal-representative'])
  signedBy!: 'self' | 'guardian' | 'legal-representative';

  /** The guardian's client id or the representative's name, when not signed by the subject. */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  signerRef?: string;

  /** The representative's authority (HIP-1), when not signed by the subject. */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  representativeAuthority?: string;

  @ValidateNested()
  @Type(() => AuthorizationStatements)
  statements!: AuthorizationStatements;

  @ValidateNested()
  @Type(() => AuthorizationForm)
  form!: AuthorizationForm;

  @Matches(/^[0-9A-Za-z.-]{1,64}$/)
  policyVersion!: string;
}

export class AuthorizationRef {
  @Matches(/^[0-9a-f-]{36}$/, { message: 'authorizationId must be a UUID' })
  authorizationId!: string;

  /** The moment to evaluate at; default now. */
  @IsOptional()
  @Matches(TIMESTAMP_PATTERN, { message: 'at must be an ISO 8601 timestamp' })
  at?: string;
}

export class RevokeAuthorizationRequest {
  @Matches(/^[0-9a-f-]{36}$/, { message: 'authorizationId must be a UUID' })
  authorizationId!: string;

  @IsIn(['web-form', 'front-desk', 'phone', 'email-link', 'in-writing'])
  receivedVia!: string;
}

export class AuthorizationReply {
  @IsString() authorizationId!: string;
  @IsString() clientId!: string;
  @IsIn(['valid', 'expired', 'revoked']) status!: 'valid' | 'expired' | 'revoked';
  @IsString({ each: true }) purposes!: string[];
  @IsString({ each: true }) categories!: string[];
  @IsString({ each: true }) recipients!: string[];
  @IsString() expiresAt!: string;
  @IsString() signedAt!: string;
  /** When the revocation was received (HIP-2: effective from then, not before). */
  @IsOptional() @IsString() revokedAt?: string;
  /** The moment the status was evaluated at. */
  @IsString() at!: string;
}

/** Payload of `consent.authorization.granted` and `consent.authorization.revoked`. */
export class AuthorizationChanged {
  @IsString() authorizationId!: string;
  @IsString() clientId!: string;
  @IsString({ each: true }) purposes!: string[];
  @IsString() at!: string;
}
