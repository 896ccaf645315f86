import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { CLIENT_ID_PATTERN, TIMESTAMP_PATTERN } from './subjects.dto';

export const CONSENT_KINDS = ['grant', 'withdraw', 'opt-out', 'opt-in'] as const;
/** What an entry is about: a purpose, a data category, or the sale and sharing of data (CCP-5). */
export const SCOPE_TYPES = ['purpose', 'category', 'sale-and-sharing'] as const;
export const CONSENT_METHODS = [
  'web-form',
  'front-desk',
  'phone',
  'email-link',
  'gpc-signal',
] as const;
export const CONSENT_ACTORS = ['self', 'guardian', 'staff', 'authorised-agent'] as const;
/**
 * How a parent's identity was verified for a child under 13 (KID-1; the methods of
 * 16 CFR 312.5(b)(2)): a signed form returned, a payment-card transaction, a call with trained
 * staff, a government ID checked, knowledge-based questions, or a face matched to an ID.
 */
export const PARENTAL_VERIFICATION_METHODS = [
  'signed-form',
  'payment-card',
  'phone-or-video-call',
  'government-id',
  'knowledge-based-questions',
  'face-match-to-id',
] as const;

export class RecordConsentRequest {
  @Matches(CLIENT_ID_PATTERN, { message: 'clientId must be 1-64 letters, digits, _ or -' })
  clientId!: string;

  @IsIn(CONSENT_KINDS)
  kind!: (typeof CONSENT_KINDS)[number];

  @IsIn(SCOPE_TYPES)
  scopeType!: (typeof SCOPE_TYPES)[number];

  /** A purpose id or category path of the policy version; empty for sale-and-sharing. */
  @IsString()
  @MaxLength(128)
  scope!: string;

  @IsIn(CONSENT_METHODS)
  method!: (typeof CONSENT_METHODS)[number];

  @IsIn(CONSENT_ACTORS)
  actor!: (typeof CONSENT_ACTORS)[number];

  /** Who acted when not the subject: a guardian's client id, a staff id, an agent's reference. */
  @IsOptional()
  @IsString()
  @MaxLength(128)
  actorRef?: string;

  /** The policy version shown to the person. */
  @Matches(/^[0-9A-Za-z.-]{1,64}$/)
  policyVersion!: string;

  /** What proves it (form id, recording reference, signature reference). Redactable. */
  @IsOptional()
  @IsObject()
  evidence?: Record<string, unknown>;

  /** When the person acted; defaults to when it is recorded. */
  @IsOptional()
  @Matches(TIMESTAMP_PATTERN, {
    message: 'occurredAt must be an ISO 8601 timestamp with a zone',
  })
  occurredAt?: string;

  /**
   * KID-1: how the guardian giving a grant or opt-in was verified as the parent. A grant for a
   * child under 13 counts as verifiable parental consent only with it.
   */
  @IsOptional()
  @IsIn(PARENTAL_VERIFICATION_METHODS)
  parentalVerification?: (typeof PARENTAL_VERIFICATION_METHODS)[number];
}

export class ConsentEvent {
  @IsString() eventId!: string;
  @IsString() clientId!: string;
  @IsIn(CONSENT_KINDS) kind!: (typeof CONSENT_KINDS)[number];
  @IsIn(SCOPE_TYPES) scopeType!: (typeof SCOPE_TYPES)[number];
  @IsString() scope!: string;
  @IsIn(CONSENT_METHODS) method!: (typeof CONSENT_METHODS)[number];
  @IsIn(CONSENT_ACTORS) actor!: (typeof CONSENT_ACTORS)[number];
  @IsString() policyVersion!: string;
  @IsString() occurredAt!: string;
  @IsString() recordedAt!: string;
  @IsOptional()
  @IsIn(PARENTAL_VERIFICATION_METHODS)
  parentalVerification?: (typeof PARENTAL_VERIFICATION_METHODS)[number];
  /** Null once redacted. */
  @IsOptional() @IsObject() evidence?: Record<string, unknown> | null;
  @IsBoolean() redacted!: boolean;
}

export class ConsentHistoryRequest {
  @Matches(CLIENT_ID_PATTERN, { message: 'clientId must be 1-64 letters, digits, _ or -' })
  clientId!: string;
}

export class ConsentHistoryReply {
  @ValidateNested({ each: true })
  @Type(() => ConsentEvent)
  events!: ConsentEvent[];
}

export class ConsentStateEntry {
  @IsIn(SCOPE_TYPES) scopeType!: (typeof SCOPE_TYPES)[number];
  @IsString() scope!: string;
  /** The latest entry for the scope decides. */
  @IsIn(CONSENT_KINDS) kind!: (typeof CONSENT_KINDS)[number];
  @IsString() eventId!: string;
  @IsString() occurredAt!: string;
}

export class ConsentStateReply {
  @IsString() clientId!: string;
  @ValidateNested({ each: true })
  @Type(() => ConsentStateEntry)
  states!: ConsentStateEntry[];
}

export class RedactLedgerRequest {
  @Matches(CLIENT_ID_PATTERN, { message: 'clientId must be 1-64 letters, digits, _ or -' })
  clientId!: string;

  /** The erasure or retention rule relied on (CCP-4, RET-*). */
  @IsString()
  @MaxLength(200)
  reason!: string;
}

export class RedactLedgerReply {
  @IsString() clientId!: string;
  /** Entries whose personal details were removed now (already redacted ones are not counted). */
  @IsInt()
  redactedEntries!: number;
}

/** Payload of the `consent.changed` event. */
export class ConsentChanged {
  @IsString() eventId!: string;
  @IsString() clientId!: string;
  @IsIn(CONSENT_KINDS) kind!: string;
  @IsIn(SCOPE_TYPES) scopeType!: string;
  @IsString() scope!: string;
  @IsString() occurredAt!: string;
}

/**
 * A Global Privacy Control signal (`Sec-GPC: 1`) seen by the spa's web front end: an opt-out of
 * sale and sharing for that browser and every profile linked to it (CCP-5).
 */
export class GpcSignalRequest {
  /** The client id, when the visitor is signed in. */
  @IsOptional()
  @Matches(CLIENT_ID_PATTERN, { message: 'clientId must be 1-64 letters, digits, _ or -' })
  clientId?: string;

  /** The browser's device identifier (stored only as a keyed hash). */
  @IsOptional()
  @IsString()
  @MaxLength(256)
  deviceId?: string;

  /** An e-mail the visitor gave (stored only as a keyed hash), to find linked profiles. */
  @IsOptional()
  @IsString()
  @MaxLength(320)
  email?: string;
}

export class GpcSignalReply {
  /** Whether the signal took effect for the browser and every linked profile. */
  @IsBoolean() honored!: boolean;
  /** What the web page shows the visitor (11 CCR 7025). */
  @IsString() message!: string;
  /** Client ids of the linked profiles now opted out of sale and sharing. */
  @IsString({ each: true }) optedOut!: string[];
  /** Linked profiles whose later explicit opt-in the signal does not override. */
  @IsString({ each: true }) optInRespected!: string[];
}
