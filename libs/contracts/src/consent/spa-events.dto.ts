import { IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { CLIENT_ID_PATTERN, SUBJECT_STATUSES, TIMESTAMP_PATTERN } from './subjects.dto';

/**
 * Events the spa's own systems (booking, CRM, billing: NATS users `booking`, `crm`, `billing`)
 * publish with JetStream on `<prefix>.spa.events.<type>.v<version>`, in the product's envelope
 * (EventEnvelope with source "spa"). The consent service keeps the stream and consumes them.
 */
export const SPA_EVENTS_STREAM_SUBJECTS = 'spa.events.>';

/** The stream the consent service keeps for them: `<PREFIX>_SPA_EVENTS`. */
export function spaEventsStreamName(prefix: string): string {
  return `${prefix}_spa_events`.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
}

export function spaEventSubject(type: string, schemaVersion: number): string {
  return `spa.events.${type}.v${schemaVersion}`;
}

/** `client.updated` v1: a client's status or date of birth changed in the spa's systems. */
export class ClientUpdated {
  @Matches(CLIENT_ID_PATTERN, { message: 'clientId must be 1-64 letters, digits, _ or -' })
  clientId!: string;

  @IsOptional()
  @IsIn(SUBJECT_STATUSES)
  status?: (typeof SUBJECT_STATUSES)[number];

  @IsOptional()
  @Matches(/^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, {
    message: 'dateOfBirth must be a date as YYYY-MM-DD',
  })
  dateOfBirth?: string;
}

/**
 * `client.event-occurred` v1: something happened to a client that an authorization may name as
 * its expiry event (HIP-1: "expiration date or event"), such as the end of a treatment plan.
 */
export class ClientEventOccurred {
  @Matches(CLIENT_ID_PATTERN, { message: 'clientId must be 1-64 letters, digits, _ or -' })
  clientId!: string;

  /** Compared exactly with an authorization's `expiryEvent`. */
  @IsString()
  @MaxLength(200)
  event!: string;

  @Matches(TIMESTAMP_PATTERN, { message: 'occurredAt must be an ISO 8601 timestamp' })
  occurredAt!: string;
}

export const SPA_EVENT_TYPES = {
  'client.updated': { schemaVersion: 1, payload: ClientUpdated },
  'client.event-occurred': { schemaVersion: 1, payload: ClientEventOccurred },
} as const;
