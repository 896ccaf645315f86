import { AuthorizationChanged } from './consent/authorizations.dto';
import { ConsentChanged } from './consent/ledger.dto';
import { NotificationRequested, PolicyPublished } from './consent/policy.dto';
import { AccountingProduced } from './register/accounting.dto';
import { CorrectionRequested, RightsRequestChanged } from './consent/rights.dto';
import { NoticeRecorded } from './register/notices.dto';
import { BreachAssessmentDecided, BreachAssessmentOpened } from './register/breaches.dto';
import { LegalRequestRecorded } from './register/legal-requests.dto';
import { LegalHoldChanged } from './retention/holds.dto';
import { PurgeCommand, PurgeItemsSettled } from './retention/purges.dto';
import { ErasureCompleted } from './retention/erasures.dto';
import { DisclosureEvent, TreeHeadSealed } from './register/disclosures.dto';
import type { ServiceName } from './services';

/**
 * Every durable event, as published on JetStream and delivered to consumers. The envelope is the
 * same for every event; `type` and `schemaVersion` say how to read `data`. A consumer refuses a
 * version it does not know (it parks the event, loudly) rather than guessing.
 */
export interface EventEnvelope<T = unknown> {
  /** Unique per event; also the JetStream Nats-Msg-Id, so a re-publish is deduplicated. */
  id: string;
  type: string;
  schemaVersion: number;
  /** The service whose state change the event announces. */
  source: ServiceName;
  occurredAt: string;
  data: T;
}

/**
 * Several events of one type in one JetStream message (a batch of disclosures committed
 * together): the message carries the header EVENT_BATCH_HEADER (the number of events) and, as its
 * payload, a JSON array of these items, in order. Each event keeps its own id (its inbox key) and
 * the trace headers of the request that made it; the message's Nats-Msg-Id is the batch's own.
 */
export interface EventBatchItem<T = unknown> {
  envelope: EventEnvelope<T>;
  headers: Record<string, string>;
}

/** Marks a message whose payload is an array of EventBatchItem; its value is their number. */
export const EVENT_BATCH_HEADER = 'Dsg-Event-Batch';

/** One event type at one schema version. */
export interface EventDef<T> {
  readonly source: ServiceName;
  readonly type: string;
  readonly schemaVersion: number;
  /** The payload class (with class-validator decorators), for documents and validation. */
  readonly payload?: new () => T;
  /**
   * Published in batches: the events of one type a transaction writes go in one message
   * (EVENT_BATCH_HEADER, a JSON array of EventBatchItem). For events written many at a time.
   */
  readonly batched?: boolean;
  /**
   * Published elsewhere than `<source>.events.<type>.v<n>` (an event that is also a command to
   * one party), as a subject pattern with `{system}` for the party: for documents.
   */
  readonly channel?: string;
  /** Phantom field carrying the payload type; never set at runtime. */
  readonly __data?: T;
}

export function eventDef<T>(
  source: ServiceName,
  type: string,
  schemaVersion: number,
  payload?: new () => T,
  options: { batched?: boolean; channel?: string } = {},
): EventDef<T> {
  if (!/^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$/.test(type)) {
    throw new Error(`event type must be dotted lower-case tokens: ${type}`);
  }
  return {
    source,
    type,
    schemaVersion,
    payload,
    ...(options.batched ? { batched: true } : {}),
    ...(options.channel ? { channel: options.channel } : {}),
  };
}

/**
 * Every durable event the product publishes. The AsyncAPI document's send operations are
 * generated from this list; a service publishes only events listed here. Domain features add
 * theirs as they land.
 */
export const PolicyPublishedEvent = eventDef<PolicyPublished>(
  'consent',
  'policy.published',
  1,
  PolicyPublished,
);

export const ConsentChangedEvent = eventDef<ConsentChanged>(
  'consent',
  'consent.changed',
  1,
  ConsentChanged,
);

export const AuthorizationGrantedEvent = eventDef<AuthorizationChanged>(
  'consent',
  'authorization.granted',
  1,
  AuthorizationChanged,
);
export const AuthorizationRevokedEvent = eventDef<AuthorizationChanged>(
  'consent',
  'authorization.revoked',
  1,
  AuthorizationChanged,
);

export const NotificationRequestedEvent = eventDef<NotificationRequested>(
  'consent',
  'notification.requested',
  1,
  NotificationRequested,
);

export const DisclosureRecordedEvent = eventDef<DisclosureEvent>(
  'disclosure-register',
  'disclosure.recorded',
  1,
  DisclosureEvent,
  { batched: true }, // a batch of disclosures commits together
);
export const DisclosureDeniedEvent = eventDef<DisclosureEvent>(
  'disclosure-register',
  'disclosure.denied',
  1,
  DisclosureEvent,
  { batched: true }, // a batch of disclosures commits together
);
/** HIP-9: a reported disclosure failed the checks; a privacy officer must assess it. */
export const BreachAssessmentOpenedEvent = eventDef<BreachAssessmentOpened>(
  'disclosure-register',
  'breach-assessment.opened',
  1,
  BreachAssessmentOpened,
);
export const BreachAssessmentDecidedEvent = eventDef<BreachAssessmentDecided>(
  'disclosure-register',
  'breach-assessment.decided',
  1,
  BreachAssessmentDecided,
);
/** A legal request was received, decided or fulfilled (its state after the step). */
export const LegalRequestChangedEvent = eventDef<LegalRequestRecorded>(
  'disclosure-register',
  'legal-request.changed',
  1,
  LegalRequestRecorded,
);
/** ACC-9: an accounting of disclosures was produced and recorded. */
export const AccountingProducedEvent = eventDef<AccountingProduced>(
  'disclosure-register',
  'accounting.produced',
  1,
  AccountingProduced,
);
/** RET-6: a legal hold was placed or released. */
export const LegalHoldPlacedEvent = eventDef<LegalHoldChanged>(
  'retention',
  'legal-hold.placed',
  1,
  LegalHoldChanged,
);
export const LegalHoldReleasedEvent = eventDef<LegalHoldChanged>(
  'retention',
  'legal-hold.released',
  1,
  LegalHoldChanged,
);
/**
 * A purge command to one holding system: published on `retention.purges.<system>` (the stream
 * `<PREFIX>_RETENTION_PURGES`, see purgeStreamName), not on the events stream.
 */
export const PurgeRequestedEvent = eventDef<PurgeCommand>(
  'retention',
  'purge.requested',
  1,
  PurgeCommand,
  { channel: 'retention.purges.{system}' },
);
/**
 * Purge items settled, a system's items of one transaction in one event: done, kept by a legal
 * hold found at confirmation (RET-6), or superseded.
 */
export const PurgeAcknowledgedEvent = eventDef<PurgeItemsSettled>(
  'retention',
  'purge.acknowledged',
  1,
  PurgeItemsSettled,
);
/** Purge items dead-lettered after their last attempt (a system's, of one transaction). */
export const PurgeFailedEvent = eventDef<PurgeItemsSettled>(
  'retention',
  'purge.failed',
  1,
  PurgeItemsSettled,
);
/** CCP-4, KID-1, POL-5: an erasure is complete and its certificate signed. */
export const ErasureCompletedEvent = eventDef<ErasureCompleted>(
  'retention',
  'erasure.completed',
  1,
  ErasureCompleted,
);
/** CCP-2, CCP-4: a notice to a recipient was recorded; the notification mechanism delivers it. */
export const NoticeRecordedEvent = eventDef<NoticeRecorded>(
  'disclosure-register',
  'notice.recorded',
  1,
  NoticeRecorded,
);
/**
 * HIP-8, CCP-1: a correction task to one holding system, published on
 * `consent.corrections.<system>` (the stream `<PREFIX>_CONSENT_CORRECTIONS`, a work queue with a
 * consumer `corrections-<system>` per system), not on the events stream.
 */
export const CorrectionRequestedEvent = eventDef<CorrectionRequested>(
  'consent',
  'correction.requested',
  1,
  CorrectionRequested,
  { channel: 'consent.corrections.{system}' },
);
/** A rights request moved: received, verified, answered … (its state after the step). */
export const RightsRequestChangedEvent = eventDef<RightsRequestChanged>(
  'consent',
  'rights-request.changed',
  1,
  RightsRequestChanged,
);
export const TreeHeadSealedEvent = eventDef<TreeHeadSealed>(
  'disclosure-register',
  'tree-head.sealed',
  1,
  TreeHeadSealed,
);

export const EVENTS: readonly EventDef<unknown>[] = [
  PolicyPublishedEvent as EventDef<unknown>,
  ConsentChangedEvent as EventDef<unknown>,
  AuthorizationGrantedEvent as EventDef<unknown>,
  AuthorizationRevokedEvent as EventDef<unknown>,
  NotificationRequestedEvent as EventDef<unknown>,
  CorrectionRequestedEvent as EventDef<unknown>,
  RightsRequestChangedEvent as EventDef<unknown>,
  NoticeRecordedEvent as EventDef<unknown>,
  DisclosureRecordedEvent as EventDef<unknown>,
  DisclosureDeniedEvent as EventDef<unknown>,
  TreeHeadSealedEvent as EventDef<unknown>,
  BreachAssessmentOpenedEvent as EventDef<unknown>,
  BreachAssessmentDecidedEvent as EventDef<unknown>,
  LegalRequestChangedEvent as EventDef<unknown>,
  AccountingProducedEvent as EventDef<unknown>,
  LegalHoldPlacedEvent as EventDef<unknown>,
  LegalHoldReleasedEvent as EventDef<unknown>,
  PurgeRequestedEvent as EventDef<unknown>,
  PurgeAcknowledgedEvent as EventDef<unknown>,
  PurgeFailedEvent as EventDef<unknown>,
  ErasureCompletedEvent as EventDef<unknown>,
];

/**
 * Subject of an event, relative to the deployment prefix:
 * `<source>.events.<type>.v<schemaVersion>`.
 */
export function eventSubject(
  def: Pick<EventDef<unknown>, 'source' | 'type' | 'schemaVersion'>,
): string {
  return `${def.source}.events.${def.type}.v${def.schemaVersion}`;
}

/** The JetStream stream holding one service's events: `<PREFIX>_<SERVICE>_EVENTS`. */
export function eventStreamName(prefix: string, source: ServiceName): string {
  return `${prefix}_${source}_events`.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
}

/** Subjects captured by that stream (relative to the prefix). */
export function eventStreamSubjects(source: ServiceName): string {
  return `${source}.events.>`;
}

/** Subject of the purge commands to one holding system, relative to the prefix. */
export function purgeSubject(system: string): string {
  return `retention.purges.${system}`;
}

/** The JetStream stream of purge commands: `<PREFIX>_RETENTION_PURGES`. */
export function purgeStreamName(prefix: string): string {
  return `${prefix}_retention_purges`.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
}

/** Subject of the correction tasks to one holding system (HIP-8, CCP-1), relative to the prefix. */
export function correctionSubject(system: string): string {
  return `consent.corrections.${system}`;
}

/** The JetStream stream of correction tasks: `<PREFIX>_CONSENT_CORRECTIONS`. */
export function correctionStreamName(prefix: string): string {
  return `${prefix}_consent_corrections`.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
}

/** The durable consumer one holding system pulls its correction tasks from. */
export function correctionConsumerName(system: string): string {
  return `corrections-${system}`;
}

/** The durable consumer one holding system pulls its purge commands from. */
export function purgeConsumerName(system: string): string {
  return `purges-${system}`;
}
