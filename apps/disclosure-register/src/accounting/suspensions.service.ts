import {
  type AccountingSuspensionReply,
  isRealTimestamp,
  MAX_CLOCK_SKEW_MS,
  unrealTimestamps,
  type SuspendAccountingRequest,
  ValidationFailedError,
} from '@dsg/contracts';
import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { RecipientsService } from '../recipients/recipients.service';

/** ACC-8: an oral statement suspends for at most this long unless a written one follows. */
export const ORAL_SUSPENSION_MS = 30 * 86_400_000;

export interface SuspensionRow {
  id: string;
  form: 'written' | 'oral';
  agency: string;
  official: AccountingSuspensionReply['official'];
  recipient_id: string;
  legal_request_ids: string[];
  subjects: string[];
  statement: string;
  reference: string | null;
  received_at: Date;
  until: Date | null;
  ends_at: Date;
  follows_oral: string | null;
  superseded_by: string | null;
  recorded_by: string;
  recorded_at: Date;
}

/**
 * ACC-8 (164.528(a)(2)): a health-oversight agency's or law-enforcement official's statement that
 * an accounting would impede its work. While one is in force, the disclosures it covers are left
 * out of a subject's accountings: a written statement until its date, an oral one (logged with the
 * official's identity) for at most 30 days, unless a written statement follows it, which then
 * governs.
 */
@Injectable()
export class SuspensionsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly recipients: RecipientsService,
  ) {}

  async record(request: SuspendAccountingRequest, by: string): Promise<AccountingSuspensionReply> {
    const now = Date.now();
    const problems = unrealTimestamps(request, ['receivedAt', 'until']);
    const moment = (field: 'receivedAt' | 'until') => {
      const value = request[field];
      return value !== undefined && isRealTimestamp(value) ? Date.parse(value) : undefined;
    };
    const receivedAt = moment('receivedAt') ?? now;
    const until = moment('until');
    if (receivedAt > now + MAX_CLOCK_SKEW_MS) {
      problems.push({
        field: 'receivedAt',
        constraint: 'isPast',
        message: 'receivedAt must not be in the future',
      });
    }
    if (request.form === 'written' && until === undefined) {
      problems.push({
        field: 'until',
        constraint: 'required',
        message: 'a written statement gives the date the suspension ends (ACC-8)',
      });
    }
    if (until !== undefined && until <= receivedAt) {
      problems.push({
        field: 'until',
        constraint: 'isAfterReceived',
        message: 'until must be after receivedAt',
      });
    }
    const recipient = await this.recipients.current(request.recipientId);
    if (!recipient || !['law-enforcement', 'regulator'].includes(recipient.kind)) {
      problems.push({
        field: 'recipientId',
        constraint: 'isOversightOrLawEnforcement',
        message:
          'only a health-oversight agency or law enforcement may suspend an accounting (ACC-8)',
      });
    }
    if (request.legalRequestIds?.length) {
      const [{ n }] = (await this.dataSource.query(
        `SELECT count(*)::int AS n FROM disclosure_register.legal_requests
          WHERE id = ANY($1::uuid[]) AND recipient_id = $2`,
        [request.legalRequestIds, request.recipientId],
      )) as { n: number }[];
      if (n !== new Set(request.legalRequestIds).size) {
        problems.push({
          field: 'legalRequestIds',
          constraint: 'exists',
          message: 'each legal request must exist and be to the same recipient',
        });
      }
    }
    if (request.followsOral) {
      const [oral] = (await this.dataSource.query(
        'SELECT * FROM disclosure_register.accounting_suspensions WHERE id = $1',
        [request.followsOral],
      )) as SuspensionRow[];
      if (
        request.form !== 'written' ||
        !oral ||
        oral.form !== 'oral' ||
        oral.superseded_by !== null ||
        oral.recipient_id !== request.recipientId
      ) {
        problems.push({
          field: 'followsOral',
          constraint: 'isOpenOralSuspension',
          message:
            'a written statement may follow one oral suspension to the same recipient not followed before',
        });
      }
    }
    if (problems.length) throw new ValidationFailedError(problems);

    const endsAt =
      request.form === 'written'
        ? until!
        : Math.min(until ?? receivedAt + ORAL_SUSPENSION_MS, receivedAt + ORAL_SUSPENSION_MS);
    const id = randomUUID();
    await this.dataSource.transaction(async (manager) => {
      await manager.query(
        `INSERT INTO disclosure_register.accounting_suspensions
           (id, form, agency, official, recipient_id, legal_request_ids, subjects, statement,
            reference, received_at, until, ends_at, follows_oral, recorded_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
        [
          id,
          request.form,
          request.agency,
          request.official,
          request.recipientId,
          request.legalRequestIds ?? [],
          request.subjects ?? [],
          request.statement,
          request.reference ?? null,
          new Date(receivedAt),
          until === undefined ? null : new Date(until),
          new Date(endsAt),
          request.followsOral ?? null,
          by,
        ],
      );
      if (request.followsOral) {
        const updated = (await manager.query(
          `UPDATE disclosure_register.accounting_suspensions SET superseded_by = $2
            WHERE id = $1 AND superseded_by IS NULL RETURNING id`,
          [request.followsOral, id],
        )) as [unknown[], number];
        if (updated[1] === 0) {
          throw new ValidationFailedError([
            {
              field: 'followsOral',
              constraint: 'isOpenOralSuspension',
              message: 'that oral suspension was followed meanwhile',
            },
          ]);
        }
      }
    });
    return (await this.list(false, id))[0];
  }

  /** Every suspension (or only those in force), oldest first. */
  async list(activeOnly: boolean, id?: string): Promise<AccountingSuspensionReply[]> {
    const rows = (await this.dataSource.query(
      `SELECT * FROM disclosure_register.accounting_suspensions
        WHERE ($1::uuid IS NULL OR id = $1)
          AND (NOT $2 OR (superseded_by IS NULL AND ends_at > now()))
        ORDER BY received_at, id`,
      [id ?? null, activeOnly],
    )) as SuspensionRow[];
    return rows.map(toReply);
  }

  /** Those in force at `at` (not superseded, not ended), for accountings. */
  async inForce(at: Date): Promise<SuspensionRow[]> {
    return (await this.dataSource.query(
      `SELECT * FROM disclosure_register.accounting_suspensions
        WHERE superseded_by IS NULL AND ends_at > $1`,
      [at],
    )) as SuspensionRow[];
  }
}

function toReply(row: SuspensionRow): AccountingSuspensionReply {
  return {
    suspensionId: row.id,
    form: row.form,
    agency: row.agency,
    official: row.official,
    recipientId: row.recipient_id,
    legalRequestIds: row.legal_request_ids,
    subjects: row.subjects,
    statement: row.statement,
    ...(row.reference ? { reference: row.reference } : {}),
    receivedAt: row.received_at.toISOString(),
    ...(row.until ? { until: row.until.toISOString() } : {}),
    endsAt: row.ends_at.toISOString(),
    ...(row.follows_oral ? { followsOral: row.follows_oral } : {}),
    ...(row.superseded_by ? { supersededBy: row.superseded_by } : {}),
    recordedBy: row.recorded_by,
    recordedAt: row.recorded_at.toISOString(),
  };
}
