import { Type } from 'class-transformer';
import { Equals, IsDateString, IsIn, IsOptional, IsString, ValidateNested } from 'class-validator';

/**
 * Public signing keys as a JWK set (RFC 7517, Ed25519 keys as RFC 8037 OKP). Every signature the
 * product makes names its key id; a key stays published after it is retired, so everything it
 * signed still verifies.
 */
export class PublicSigningKey {
  @IsString()
  kid!: string;

  @Equals('OKP')
  kty!: 'OKP';

  @Equals('Ed25519')
  crv!: 'Ed25519';

  /** Base64url public key. */
  @IsString()
  x!: string;

  @Equals('EdDSA')
  alg!: 'EdDSA';

  @Equals('sig')
  use!: 'sig';

  /** The service that signs with it. */
  @IsString()
  service!: string;

  @IsIn(['active', 'retired'])
  status!: 'active' | 'retired';

  @IsDateString()
  createdAt!: string;

  @IsOptional()
  @IsDateString()
  retiredAt?: string;
}

export class SigningKeysRequest {}

export class SigningKeysReply {
  @ValidateNested({ each: true })
  @Type(() => PublicSigningKey)
  keys!: PublicSigningKey[];
}

/** A detached signature: which key, which algorithm, and the signature bytes (base64url). */
export interface Signature {
  kid: string;
  alg: 'EdDSA';
  sig: string;
}

export class RotateSigningKeyRequest {}

export class RotateSigningKeyReply {
  /** The new active key; the previous one is retired and still verifies. */
  @IsString()
  kid!: string;
}
