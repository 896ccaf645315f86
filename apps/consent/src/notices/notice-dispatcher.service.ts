import type { NoticeAudience, NoticeChannel, NoticeType } from '@dsg/contracts';
import { type Logger, PLATFORM_LOGGER } from '@dsg/platform';
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { CONSENT_CONFIG, type ConsentConfig } from '../config/consent.config';
import { ClientDirectory } from '../rights/client-directory';
import { type DeliveryOutcome, NoticeDelivery, type OutgoingNotice } from './notice-delivery';

/** Runs in the transaction that records a notice's delivery (NoticesService.onSent). */
export type SentHook = (
  manager: EntityManager,
  notice: { id: string; ref: string; clientId?: string; sentAt: Date },
) => Promise<void>;

/** Notices one pass claims; delivered side by side. */
const BATCH = 20;
/**
 * A replica's lease on the notices it claimed: longer than any attempt takes (a webhook answers
 * within 10 s, an SMTP exchange times out within about 40 s). A replica that dies mid-send leaves
 * its notices to be sent again when the lease runs out: delivery is at least once.
 */
const LEASE_MS = 120_000;
/** The longest wait between two attempts, however many have failed. */
const MAX_RETRY_WAIT_MS = 86_400_000;

interface ClaimedRow {
  id: string;
  type: NoticeType;
  audience: NoticeAudience;
  channel: NoticeChannel;
  rule: string;
  ref: string;
  client_id: string | null;
  recipient_id: string | null;
  destination: string | null;
  subject_line: string;
  body: string;
  /** The lease as stored, to the microsecond: recording checks it is still this replica's. */
  lease: string;
}

/**
 * Delivers due notices: every NOTICE_POLL_MS (and when kicked), claims notices queued or retrying
 * whose time has come and whose lease is free (FOR UPDATE SKIP LOCKED: replicas share the work),
 * delivers them outside any transaction, then records the attempt and the new state — sent; or
 * retrying after NOTICE_RETRY_MS doubled at each failed attempt; or failed for good after
 * NOTICE_MAX_ATTEMPTS. Logs name a notice's id, type and outcome code, never its address or text.
 */
@Injectable()
export class NoticeDispatcher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly hooks = new Map<NoticeType, SentHook[]>();
  private readonly stop = new AbortController();
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly delivery: NoticeDelivery,
    private readonly directory: ClientDirectory,
    @Inject(CONSENT_CONFIG) private readonly config: ConsentConfig,
    @Inject(PLATFORM_LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.kick(), this.config.noticePollMs);
    this.timer.unref();
    this.kick();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    // Webhooks in flight are abandoned and their notices released; e-mails finish.
    this.stop.abort();
    await this.running;
  }

  onSent(type: NoticeType, hook: SentHook): void {
    this.hooks.set(type, [...(this.hooks.get(type) ?? []), hook]);
  }

  /** One run at a time; a kick during a run starts another after it. */
  kick(): void {
    if (this.stop.signal.aborted) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          while (!this.stop.signal.aborted && (await this.pass()) === BATCH);
        } catch (err) {
          this.logger.warn(
            { context: 'Notices', code: (err as { code?: string }).code ?? 'INTERNAL' },
            'notices could not be claimed now; the next poll tries again',
          );
        }
      } while (this.again && !this.stop.signal.aborted);
    })().finally(() => {
      this.running = undefined;
    });
  }

  /** Claims one batch of due notices and delivers them; answers how many it claimed. */
  private async pass(): Promise<number> {
    // (TypeORM answers an UPDATE … RETURNING with [rows, count].)
    const [claimed] = (await this.dataSource.query(
      `WITH due AS (
         SELECT id FROM consent.notices
          WHERE state IN ('queued', 'retrying') AND next_attempt_at <= now()
            AND (claimed_until IS NULL OR claimed_until <= now())
          ORDER BY next_attempt_at, id
          LIMIT $1
          FOR UPDATE SKIP LOCKED)
       UPDATE consent.notices n SET claimed_until = now() + $2 * interval '1 millisecond'
         FROM due WHERE n.id = due.id
       RETURNING n.id, n.type, n.audience, n.channel, n.rule, n.ref, n.client_id, n.recipient_id,
                 n.destination, n.subject_line, n.body, n.claimed_until::text AS lease`,
      [BATCH, LEASE_MS],
    )) as [ClaimedRow[], number];
    await Promise.all(claimed.map((row) => this.deliver(row)));
    return claimed.length;
  }

  private async deliver(row: ClaimedRow): Promise<void> {
    const outcome = await this.attempt(row);
    try {
      if (outcome.outcome === 'interrupted') {
        await this.dataSource.query(
          'UPDATE consent.notices SET claimed_until = NULL WHERE id = $1 AND claimed_until = $2::timestamptz',
          [row.id, row.lease],
        );
        return;
      }
      await this.record(row, outcome);
    } catch (err) {
      // The lease runs out and the notice is tried again (sent twice if this attempt was sent).
      this.logger.error(
        {
          context: 'Notices',
          noticeId: row.id,
          type: row.type,
          code: (err as { code?: string }).code ?? 'INTERNAL',
        },
        'a delivery attempt could not be recorded; the notice is tried again after its lease',
      );
    }
  }

  /** One delivery attempt; never throws. */
  private async attempt(row: ClaimedRow): Promise<DeliveryOutcome> {
    try {
      if (row.channel === 'email' && !this.delivery.canEmail) {
        return { outcome: 'failed', code: 'NO_SMTP' };
      }
      const destination = row.destination ?? (await this.resolve(row));
      if (!destination) return { outcome: 'failed', code: 'NO_DESTINATION' };
      const notice: OutgoingNotice = {
        id: row.id,
        type: row.type,
        channel: row.channel,
        rule: row.rule,
        ref: row.ref,
        ...(row.client_id ? { clientId: row.client_id } : {}),
        ...(row.recipient_id ? { recipientId: row.recipient_id } : {}),
        subject: row.subject_line,
        body: row.body,
      };
      return await this.delivery.send(notice, destination, this.stop.signal);
    } catch {
      // Whatever went wrong may quote the address: only the fact is kept.
      return { outcome: 'failed', code: 'INTERNAL' };
    }
  }

  /** Where a notice without a destination goes: the client's address, or the privacy officer's. */
  private async resolve(row: ClaimedRow): Promise<string | undefined> {
    if (row.audience === 'subject' && row.client_id) {
      return this.directory.contact(row.client_id);
    }
    if (row.audience === 'privacy-officer') return this.config.privacyOfficerEmail;
    return undefined;
  }

  /** The attempt and the notice's new state, with the sent hooks, in one transaction. */
  private async record(
    row: ClaimedRow,
    outcome: Exclude<DeliveryOutcome, { outcome: 'interrupted' }>,
  ): Promise<void> {
    const result = await this.dataSource.transaction(async (manager) => {
      const [held] = (await manager.query(
        `SELECT attempts FROM consent.notices
          WHERE id = $1 AND claimed_until = $2::timestamptz AND state IN ('queued', 'retrying')
          FOR UPDATE`,
        [row.id, row.lease],
      )) as { attempts: number }[];
      // The lease ran out and another replica took the notice over: it records its own attempt.
      if (!held) return undefined;
      const attempt = held.attempts + 1;
      await manager.query(
        `INSERT INTO consent.notice_attempts (notice_id, attempt, outcome, detail)
         VALUES ($1, $2, $3, $4)`,
        [row.id, attempt, outcome.outcome, outcome.outcome === 'failed' ? outcome.code : null],
      );
      if (outcome.outcome === 'sent') {
        const [[{ sent_at }]] = (await manager.query(
          `UPDATE consent.notices
              SET state = 'sent', attempts = $2, sent_at = now(), next_attempt_at = NULL,
                  claimed_until = NULL
            WHERE id = $1 RETURNING sent_at`,
          [row.id, attempt],
        )) as [{ sent_at: Date }[], number];
        for (const hook of this.hooks.get(row.type) ?? []) {
          await hook(manager, {
            id: row.id,
            ref: row.ref,
            ...(row.client_id ? { clientId: row.client_id } : {}),
            sentAt: sent_at,
          });
        }
        return { attempt, state: 'sent' };
      }
      if (attempt >= this.config.noticeMaxAttempts) {
        await manager.query(
          `UPDATE consent.notices
              SET state = 'failed', attempts = $2, next_attempt_at = NULL, claimed_until = NULL
            WHERE id = $1`,
          [row.id, attempt],
        );
        return { attempt, state: 'failed' };
      }
      const wait = Math.min(this.config.noticeRetryMs * 2 ** (attempt - 1), MAX_RETRY_WAIT_MS);
      await manager.query(
        `UPDATE consent.notices
            SET state = 'retrying', attempts = $2,
                next_attempt_at = now() + $3 * interval '1 millisecond', claimed_until = NULL
          WHERE id = $1`,
        [row.id, attempt, wait],
      );
      return { attempt, state: 'retrying' };
    });
    if (!result) return;
    const fields = {
      context: 'Notices',
      noticeId: row.id,
      type: row.type,
      attempt: result.attempt,
      outcome: outcome.outcome === 'failed' ? outcome.code : 'sent',
      state: result.state,
    };
    if (result.state === 'sent') this.logger.info(fields, 'notice delivered');
    else if (result.state === 'failed') this.logger.error(fields, 'notice failed for good');
    else this.logger.warn(fields, 'notice delivery failed; it is tried again');
  }
}
