import { BreachAssessmentDecided, NoticeRecorded } from '@dsg/contracts';
import {
  ensureEventStream,
  type EventConsumer,
  EventConsumers,
  type EventHandler,
  eventData,
} from '@dsg/platform';
import type { JetStreamManager } from 'nats';
import {
  type BeforeApplicationShutdown,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { NoticesService, type NoticeToSend } from './notices.service';

/** The durable consumers (and inbox names) of the register's events that owe notices. */
export const REGISTER_NOTICES_CONSUMER = 'consent-register-notices';
export const REGISTER_BREACHES_CONSUMER = 'consent-register-breaches';

/**
 * Notices the disclosure register records are delivered by the consent service's notification
 * mechanism: a deletion (CCP-4) or opt-out (CCP-2) notice to each recipient that received the
 * subject's data, to the recipient's webhook or e-mail (none: the notice fails, visibly, with
 * NO_DESTINATION); and a notifiable breach's deadline to the privacy officer (HIP-9). Each event
 * is handled once (inbox) and each notice enqueued once (its key).
 */
@Injectable()
export class RegisterNoticeEventsService
  implements OnApplicationBootstrap, BeforeApplicationShutdown
{
  private readonly consumers: EventConsumer[] = [];

  constructor(
    private readonly eventConsumers: EventConsumers,
    private readonly notices: NoticesService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // The register's stream, as it creates it (whichever service boots first).
    const stream = (jsm: JetStreamManager, prefix: string, n: number) =>
      ensureEventStream(jsm, { subjectPrefix: prefix, source: 'disclosure-register', replicas: n });
    this.consumers.push(
      await this.eventConsumers.start({
        stream,
        durable: REGISTER_NOTICES_CONSUMER,
        filterSubject: 'disclosure-register.events.notice.recorded.>',
        handlers: { 'notice.recorded': { 1: this.noticeRecorded } },
      }),
      await this.eventConsumers.start({
        stream,
        durable: REGISTER_BREACHES_CONSUMER,
        filterSubject: 'disclosure-register.events.breach-assessment.decided.>',
        handlers: { 'breach-assessment.decided': { 1: this.breachDecided } },
      }),
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all(this.consumers.map((c) => c.stop()));
  }

  private readonly noticeRecorded: EventHandler = async (event, manager) => {
    const data = eventData(NoticeRecorded, event);
    await this.notices.enqueue(manager, [recipientNotice(data)]);
    return async () => this.notices.kick();
  };

  private readonly breachDecided: EventHandler = async (event, manager) => {
    const data = eventData(BreachAssessmentDecided, event);
    if (!data.notifiable) return undefined;
    await this.notices.enqueue(manager, [breachDeadlineNotice(data)]);
    return async () => this.notices.kick();
  };
}

/** What a recipient is told, per kind of register notice. */
const RECIPIENT_TEXT: Record<
  NoticeRecorded['notice'],
  { type: NoticeToSend['type']; subject: string; body: string }
> = {
  'deletion-request': {
    type: 'deletion-to-recipient',
    subject: 'Deletion request',
    body: 'asked us to delete their personal information (Cal. Civ. Code 1798.105(c)). Delete the personal information you received from us about them, unless an exception applies, and tell your own service providers and contractors to do the same.',
  },
  'opt-out-request': {
    type: 'opt-out-to-recipient',
    subject: 'Opt-out of sale or sharing',
    body: 'opted out of the sale or sharing of their personal information (11 CCR 7026(f)). You received their personal information from us after the request: do not sell or share it.',
  },
  'limit-request': {
    type: 'limit-to-recipient',
    subject: 'Limit the use of sensitive personal information',
    body: 'asked us to limit the use of their sensitive personal information (11 CCR 7027(g)). You received it from us after the request: use it only for the services we engaged you for.',
  },
};

/** CCP-4, CCP-2: the notice to one recipient of a subject's data, where it takes notices. */
export function recipientNotice(data: NoticeRecorded): NoticeToSend {
  const destination = data.contact?.webhookUrl || data.contact?.email || undefined;
  const text = RECIPIENT_TEXT[data.notice];
  return {
    type: text.type,
    audience: 'recipient',
    rule: data.rule,
    ref: data.ref,
    clientId: data.clientId,
    recipientId: data.recipientId,
    ...(destination ? { destination } : {}),
    subject: `${text.subject}: client ${data.clientId}`,
    body: `To ${data.recipientName}: the consumer who is our client ${data.clientId} ${text.body} Reference ${data.ref}, register entry ${data.entryId}.`,
    dedupKey: `recipient:${data.entryId}`,
  };
}

/** HIP-9: a breach decided notifiable, and the deadline of its notifications, to the privacy officer. */
export function breachDeadlineNotice(data: BreachAssessmentDecided): NoticeToSend {
  const by = data.notifyBy ? data.notifyBy.slice(0, 10) : undefined;
  return {
    type: 'breach-deadline',
    audience: 'privacy-officer',
    rule: 'HIP-9',
    ref: data.assessmentId,
    subject: by
      ? `Notifiable breach: notifications due by ${by}`
      : 'Notifiable breach: notifications due within 60 days of discovery',
    body: `Breach assessment ${data.assessmentId} was decided notifiable on ${data.decidedAt}. The individuals affected and the Secretary of HHS must be notified ${
      data.notifyBy
        ? `by ${data.notifyBy}`
        : 'within 60 days of its discovery (see the assessment for the date)'
    } (45 CFR 164.404, 164.408; Civ. Code 1798.82). Record each notification in the register (disclosure-register.breaches.notify).`,
    dedupKey: `breach-deadline:${data.assessmentId}`,
  };
}
