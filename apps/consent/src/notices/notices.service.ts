import type {
  ListNoticesReply,
  ListNoticesRequest,
  NoticeAudience,
  NoticeChannel,
  NoticeReply,
  NoticeType,
} from '@dsg/contracts';
import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import { NoticeDispatcher, type SentHook } from './notice-dispatcher.service';

/** A notice to enqueue: what it says, to whom, under which rule, and its once-only key. */
export interface NoticeToSend {
  type: NoticeType;
  audience: NoticeAudience;
  /** The rule the notice is owed under (POL-6, CCP-2 …). */
  rule: string;
  /** What it is about: a policy version, a rights request, an erasure, a breach assessment … */
  ref: string;
  clientId?: string;
  recipientId?: string;
  /** Default: webhook if the destination is a URL, else e-mail. */
  channel?: NoticeChannel;
  /**
   * An e-mail address or an http(s) URL. Left out, it is resolved at each delivery: a subject's
   * address from the client system, the privacy officer's from PRIVACY_OFFICER_EMAIL.
   */
  destination?: string;
  subject: string;
  body: string;
  /** Enqueuing the same key again enqueues nothing (a retry, a redelivered event). */
  dedupKey: string;
}

/** The most notices one list answers. */
const LIST_MAX = 1000;
const LIST_DEFAULT = 100;

interface NoticeRow {
  id: string;
  type: NoticeType;
  audience: NoticeAudience;
  channel: NoticeChannel;
  rule: string;
  ref: string;
  client_id: string | null;
  recipient_id: string | null;
  state: NoticeReply['state'];
  created_at: Date;
  sent_at: Date | null;
  next_attempt_at: Date | null;
}

interface AttemptRow {
  notice_id: string;
  attempt: number;
  at: Date;
  outcome: 'sent' | 'failed';
  detail: string | null;
}

/**
 * The product's one notification mechanism (issue 8): every outbound notice is enqueued here, in
 * the transaction of the change that owes it, and delivered by the dispatcher by e-mail or signed
 * webhook with its delivery state (queued, retrying, sent, failed) and every attempt kept for an
 * auditor. Nothing here returns a notice's address or text.
 */
@Injectable()
export class NoticesService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly dispatcher: NoticeDispatcher,
  ) {}

  /**
   * Inserts the notices in the caller's transaction (`manager`); one whose key is already
   * enqueued is not inserted again. Answers the ids in the order given, existing ones included.
   * The dispatcher finds them at its next poll (`kick` after the commit to send sooner).
   */
  async enqueue(manager: EntityManager, notices: NoticeToSend[]): Promise<string[]> {
    if (notices.length === 0) return [];
    const rows = notices.map((n) => ({ ...n, id: randomUUID(), channel: channelOf(n) }));
    const column = <K extends keyof (typeof rows)[number]>(key: K) => rows.map((r) => r[key]);
    await manager.query(
      `INSERT INTO consent.notices (id, type, audience, channel, rule, ref, client_id, recipient_id,
                                   destination, subject_line, body, dedup_key, next_attempt_at)
       SELECT *, now() FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[],
                                   $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
                                   $11::text[], $12::text[])
       ON CONFLICT (dedup_key) DO NOTHING`,
      [
        column('id'),
        column('type'),
        column('audience'),
        column('channel'),
        column('rule'),
        column('ref'),
        rows.map((r) => r.clientId ?? null),
        rows.map((r) => r.recipientId ?? null),
        rows.map((r) => r.destination ?? null),
        column('subject'),
        column('body'),
        column('dedupKey'),
      ],
    );
    const found = (await manager.query(
      'SELECT id, dedup_key FROM consent.notices WHERE dedup_key = ANY($1::text[])',
      [column('dedupKey')],
    )) as { id: string; dedup_key: string }[];
    const ids = new Map(found.map((f) => [f.dedup_key, f.id]));
    return rows.map((r) => ids.get(r.dedupKey)!);
  }

  /**
   * `hook` runs for each notice of `type` delivered, in the transaction that records the
   * delivery (a hook that throws rolls it back: the notice is sent again after its lease).
   */
  onSent(type: NoticeType, hook: SentHook): void {
    this.dispatcher.onSent(type, hook);
  }

  /** Dispatch soon rather than at the next poll (after a commit that enqueued notices). */
  kick(): void {
    this.dispatcher.kick();
  }

  /** Notices and every attempt, newest first; never an address or a text. */
  async list(request: ListNoticesRequest): Promise<ListNoticesReply> {
    const rows = (await this.dataSource.query(
      `SELECT id, type, audience, channel, rule, ref, client_id, recipient_id, state, created_at,
              sent_at, next_attempt_at
         FROM consent.notices
        WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR type = $2)
          AND ($3::text IS NULL OR ref = $3) AND ($4::text IS NULL OR client_id = $4)
        ORDER BY created_at DESC, id LIMIT $5`,
      [
        request.state ?? null,
        request.type ?? null,
        request.ref ?? null,
        request.clientId ?? null,
        Math.min(request.limit ?? LIST_DEFAULT, LIST_MAX),
      ],
    )) as NoticeRow[];
    const attempts = rows.length
      ? ((await this.dataSource.query(
          `SELECT notice_id, attempt, at, outcome, detail FROM consent.notice_attempts
            WHERE notice_id = ANY($1::uuid[]) ORDER BY notice_id, attempt`,
          [rows.map((r) => r.id)],
        )) as AttemptRow[])
      : [];
    return {
      notices: rows.map((row) => ({
        noticeId: row.id,
        type: row.type,
        audience: row.audience,
        channel: row.channel,
        ref: row.ref,
        ...(row.client_id ? { clientId: row.client_id } : {}),
        ...(row.recipient_id ? { recipientId: row.recipient_id } : {}),
        rule: row.rule,
        state: row.state,
        createdAt: row.created_at.toISOString(),
        ...(row.sent_at ? { sentAt: row.sent_at.toISOString() } : {}),
        ...(row.next_attempt_at ? { nextAttemptAt: row.next_attempt_at.toISOString() } : {}),
        attempts: attempts
          .filter((a) => a.notice_id === row.id)
          .map((a) => ({
            attempt: a.attempt,
            at: a.at.toISOString(),
            outcome: a.outcome,
            ...(a.detail ? { detail: a.detail } : {}),
          })),
      })),
    };
  }
}

/** The channel asked for, or the destination's: a URL is a webhook, anything else e-mail. */
export function channelOf(notice: Pick<NoticeToSend, 'channel' | 'destination'>): NoticeChannel {
  if (notice.channel) return notice.channel;
  return notice.destination && /^https?:\/\//i.test(notice.destination) ? 'webhook' : 'email';
}
