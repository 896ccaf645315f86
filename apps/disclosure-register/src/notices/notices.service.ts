import {
  DsgError,
  ErrorCodes,
  isRealTimestamp,
  NOTICE_KINDS,
  NoticeRecordedEvent,
  type RecordNoticesReply,
  type RecordNoticesRequest,
  type RedactEntriesReply,
  type RedactEntriesRequest,
  ValidationFailedError,
} from '@dsg/contracts';
import { type Logger, Outbox, PLATFORM_LOGGER } from '@dsg/platform';
import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { NEXT_POSITION, RegisterLog } from '../log/register-log.service';
import { RecipientsService } from '../recipients/recipients.service';

/**
 * The recipients a notice goes to (CCP-4, CCP-2): the spa's business associates and third
 * parties.
 */
const NOTIFIED_ROLES: string[] = ['business-associate', 'third-party'];

/** Only the retention service asks for redactions (issue 7). */
const RETENTION = 'retention';

/**
 * Who records which notice: the retention service a deletion's (CCP-4, issue 7), the consent
 * service an opt-out's (CCP-2, 7026(f), issue 8).
 */
const NOTICE_CALLERS: Record<(typeof NOTICE_KINDS)[number], string> = {
  'deletion-request': 'retention',
  'opt-out-request': 'consent',
  'limit-request': 'consent',
};

/**
 * SQL: the recipients the register shows received a subject's data — allowed disclosures and
 * reported ones (a reported disclosure happened, whatever its checks said) — by the subject
 * column's index, each checked against its leaf; with $2, only those that received it at or after
 * that moment (a reported disclosure when it occurred, any other when it was recorded).
 */
const RECIPIENTS_OF_SUBJECT = `
  SELECT DISTINCT recipient_id
    FROM disclosure_register.entries
   WHERE client_id = $1
     AND (leaf::jsonb ->> 'type' = 'reported-disclosure'
          OR (leaf::jsonb ->> 'type' = 'disclosure' AND leaf::jsonb ->> 'decision' = 'ALLOW'))
     AND leaf::jsonb -> 'recipient' ->> 'id' = recipient_id
     AND ($2::timestamptz IS NULL
          OR coalesce((leaf::jsonb ->> 'occurredAt')::timestamptz, recorded_at) >= $2::timestamptz)
   ORDER BY recipient_id`;

/**
 * Notices to the recipients of a subject's data, each itself a register entry (CCP-4 for the
 * retention service's deletions, CCP-2 for the consent service's opt-outs), each announced by a
 * `notice.recorded` event the consent service's notification mechanism delivers; and the
 * redaction path for entries' personal details (the log still verifies: the leaves stay, only
 * what their commitment hid is removed).
 */
@Injectable()
export class NoticesService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly log: RegisterLog,
    private readonly recipients: RecipientsService,
    private readonly outbox: Outbox,
    @Inject(PLATFORM_LOGGER) private readonly logger: Logger,
  ) {}

  async record(request: RecordNoticesRequest, caller: string): Promise<RecordNoticesReply> {
    const allowed = NOTICE_CALLERS[request.notice];
    if (caller !== allowed) {
      throw new DsgError(
        ErrorCodes.FORBIDDEN,
        `Only the ${allowed} service records ${request.notice} notices`,
      );
    }
    if (request.since !== undefined && !isRealTimestamp(request.since)) {
      throw new ValidationFailedError([
        { field: 'since', constraint: 'isTimestamp', message: 'since is not a real moment' },
      ]);
    }
    let end: number | undefined;
    const reply = await this.dataSource.transaction(async (manager) => {
      // Under the log's lock: a retry of the same ref waits for the first and finds its notices.
      await this.log.lock(manager);
      const prior = (await manager.query(
        `SELECT recipient_id, entry_id, position FROM disclosure_register.notices
          WHERE caller = $1 AND ref = $2 ORDER BY recipient_id`,
        [caller, request.ref],
      )) as { recipient_id: string; entry_id: string; position: string }[];
      if (prior.length) return { notices: prior.map(toNotice) };

      const received = (
        (await manager.query(RECIPIENTS_OF_SUBJECT, [request.clientId, request.since ?? null])) as {
          recipient_id: string;
        }[]
      ).map((r) => r.recipient_id);
      // CCP-4 (1798.105(c)) names service providers, contractors and third parties: not the
      // spa's own workforce, nor the public authorities a legal request was answered to.
      const current = await Promise.all(received.map((id) => this.recipients.current(id)));
      const told = current.filter(
        (r): r is NonNullable<typeof r> => !!r && NOTIFIED_ROLES.includes(r.legalRole),
      );
      const ids = told.map((r) => r.recipientId);
      if (ids.length === 0) return { notices: [] };
      const [{ next }] = (await manager.query(`SELECT ${NEXT_POSITION} AS next`)) as {
        next: string;
      }[];
      const { statement, appended } = this.log.appendStatement(
        Number(next),
        ids.map((recipientId, i) => ({
          entryId: randomUUID(),
          // Keys in canonical order. Not a disclosure: no accounting lists it (isAccountable).
          content: {
            caller,
            categories: ['identifiers'],
            legalBasis: 'required-by-law',
            notice: request.notice,
            purpose: 'legal-obligations',
            reasons: [request.rule],
            recipient: { id: recipientId, version: told[i].version },
            ref: request.ref,
            type: 'notice',
            v: 1,
          },
          details: { clientId: request.clientId, description: noticeText(request.notice) },
        })),
      );
      await manager.query(statement.sql, statement.params);
      await manager.query(
        `INSERT INTO disclosure_register.notices (caller, ref, recipient_id, entry_id, position)
         SELECT $1, $2, r, e, p FROM unnest($3::text[], $4::uuid[], $5::bigint[]) AS n(r, e, p)`,
        [caller, request.ref, ids, appended.map((a) => a.entryId), appended.map((a) => a.position)],
      );
      // Delivered by the consent service's notification mechanism, where the recipient takes
      // notices (CCP-2, CCP-4); committed with the entries.
      for (const [i, recipient] of told.entries()) {
        await this.outbox.append(manager, NoticeRecordedEvent, {
          entryId: appended[i].entryId,
          position: appended[i].position,
          notice: request.notice,
          rule: request.rule,
          ref: request.ref,
          clientId: request.clientId,
          recipientId: recipient.recipientId,
          recipientName: recipient.name,
          ...(recipient.noticeContact ? { contact: recipient.noticeContact } : {}),
        });
      }
      end = appended[appended.length - 1].position + 1;
      return {
        notices: ids.map((recipientId, i) => ({
          recipientId,
          entryId: appended[i].entryId,
          position: appended[i].position,
        })),
      };
    });
    if (end !== undefined) this.log.appended(end);
    return reply;
  }

  async redact(request: RedactEntriesRequest, caller: string): Promise<RedactEntriesReply> {
    if (caller !== RETENTION) {
      throw new DsgError(ErrorCodes.FORBIDDEN, 'Only the retention service redacts entries');
    }
    if (!isRealTimestamp(request.before)) {
      throw new ValidationFailedError([
        { field: 'before', constraint: 'isTimestamp', message: 'before is not a real moment' },
      ]);
    }
    const [{ n }] = (await this.dataSource.query(
      'SELECT disclosure_register.redact_subject_details($1, $2, $3, $4) AS n',
      [request.clientId, request.before, request.reason, caller],
    )) as { n: number }[];
    this.logger.info({ context: 'Redaction', entries: n }, 'entry details redacted');
    return { redactedEntries: n };
  }
}

function toNotice(r: { recipient_id: string; entry_id: string; position: string }) {
  return { recipientId: r.recipient_id, entryId: r.entry_id, position: Number(r.position) };
}

function noticeText(kind: string): string {
  if (kind === 'deletion-request') {
    return 'Notice of a consumer deletion request (Cal. Civ. Code 1798.105(c)): delete the personal information received about the consumer, unless an exception applies';
  }
  if (kind === 'opt-out-request') {
    return 'Notice of a consumer opt-out of sale or sharing (11 CCR 7026(f)): do not sell or share the personal information received about the consumer after the request';
  }
  if (kind === 'limit-request') {
    return 'Notice of a consumer request to limit the use of sensitive personal information (11 CCR 7027(g)): use the sensitive personal information received about the consumer after the request only for the services we engaged you for';
  }
  return kind;
}
