import {
  type AnswerRightsRequest,
  DsgError,
  type ExportRequestLogReply,
  type ExportRequestLogRequest,
  type RequestLogFigure,
  type RequestLogFiguresReply,
  ErrorCodes,
  type FieldError,
  type ListRightsRequestsReply,
  type PurgeRightsRequestsReply,
  type PurgeRightsRequestsRequest,
  type RecordRightsRequest,
  type RightsRequestReply,
  ValidationFailedError,
  canonicalJson,
  unrealTimestamps,
} from '@dsg/contracts';
import { type Logger, PLATFORM_LOGGER } from '@dsg/platform';
import { Inject, Injectable } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { earlierRequest, requestHash } from './earlier-request';
import { answerOf, notInTheFuture } from './log-entry';

interface RequestRow {
  id: string;
  client_id: string;
  right: RightsRequestReply['right'];
  channel: RightsRequestReply['channel'];
  requester: RightsRequestReply['requester'];
  received_at: Date;
  answered_at: Date | null;
  outcome: RightsRequestReply['outcome'] | null;
  verification: RightsRequestReply['verification'] | null;
  denial_basis: string | null;
  request_hash: string | null;
  answer_by?: Date | null;
}

/**
 * The rights-request log (CCP-7): every request received, with its date, right, channel and who
 * asked, and once answered its response date, outcome, the verification it rested on and the
 * basis of a denial. Entries are kept 24 months (RET-3) and then deleted through the retention
 * service's sweep (`purge`, by a function only a NOLOGIN role owns). The intake, verification
 * and deadlines around a request are the rights-request feature's (issue 8); this is its record.
 */
@Injectable()
export class RequestLogService {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(PLATFORM_LOGGER) private readonly logger: Logger,
  ) {}

  async record(
    request: RecordRightsRequest,
    caller: string,
    idempotencyKey?: string,
  ): Promise<RightsRequestReply> {
    const problems = unrealTimestamps(request, ['receivedAt']);
    if (!problems.length) problems.push(...notInTheFuture(request, 'receivedAt'));
    if (problems.length) throw new ValidationFailedError(problems);
    const hash = requestHash(request);
    const row = await this.dataSource.transaction(async (manager) => {
      if (idempotencyKey) {
        const earlier = await earlierRequest<RequestRow>(
          manager,
          SELECT,
          caller,
          idempotencyKey,
          hash,
        );
        if (earlier) return earlier;
      }
      const [inserted] = (await manager.query(
        `INSERT INTO consent.rights_requests (id, client_id, "right", channel, requester, received_at,
                                             recorded_by, idempotency_key, request_hash)
         VALUES ($1, $2, $3, $4, $5, coalesce($6::timestamptz, now()), $7, $8, $9)
         RETURNING ${COLUMNS}`,
        [
          randomUUID(),
          request.clientId,
          request.right,
          request.channel,
          request.requester,
          request.receivedAt ?? null,
          caller,
          idempotencyKey ?? null,
          idempotencyKey ? hash : null,
        ],
      )) as RequestRow[];
      return inserted;
    });
    return toReply(row);
  }

  async answer(request: AnswerRightsRequest, caller: string): Promise<RightsRequestReply> {
    const problems: FieldError[] = unrealTimestamps(request, ['answeredAt']);
    if (!problems.length) problems.push(...notInTheFuture(request, 'answeredAt'));
    if ((request.outcome === 'denied') !== (request.denialBasis !== undefined)) {
      problems.push({
        field: 'denialBasis',
        constraint: 'CCP-7',
        message:
          request.outcome === 'denied'
            ? 'a denial states its basis'
            : 'a basis of denial belongs to a denial only',
      });
    }
    if (problems.length) throw new ValidationFailedError(problems);
    return this.dataSource.transaction(async (manager) => {
      const [current] = (await manager.query(
        `SELECT ${COLUMNS}, answer_by FROM consent.rights_requests WHERE id = $1 FOR UPDATE`,
        [request.requestId],
      )) as RequestRow[];
      if (!current) throw new DsgError(ErrorCodes.NOT_FOUND, 'No such rights request');
      if (current.answered_at) {
        throw new DsgError(ErrorCodes.INVALID_STATE, 'This rights request is answered already');
      }
      if (current.answer_by) {
        // Received through consent.rights.submit: its answer comes from that flow (notices,
        // duplicates, fulfilment), not from the bare log.
        throw new DsgError(
          ErrorCodes.INVALID_STATE,
          'This request is handled through consent.rights.*: answer it with consent.rights.fulfil or consent.rights.deny',
        );
      }
      const answeredAt = request.answeredAt ? new Date(request.answeredAt) : new Date();
      if (answeredAt < current.received_at) {
        throw new ValidationFailedError([
          {
            field: 'answeredAt',
            constraint: 'notBeforeReceipt',
            message: 'answeredAt must not be before the request was received',
          },
        ]);
      }
      const [[row]] = (await manager.query(
        `UPDATE consent.rights_requests
            SET answered_at = $2, outcome = $3, verification = $4, denial_basis = $5, answered_by = $6,
                state = 'answered'
          WHERE id = $1
          RETURNING ${COLUMNS}`,
        [
          request.requestId,
          answeredAt.toISOString(),
          request.outcome,
          request.verification,
          request.denialBasis ?? null,
          caller,
        ],
      )) as [RequestRow[], number];
      return toReply(row);
    });
  }

  async list(clientId: string): Promise<ListRightsRequestsReply> {
    const rows = (await this.dataSource.query(
      `${SELECT} WHERE client_id = $1 ORDER BY received_at, id`,
      [clientId],
    )) as RequestRow[];
    return { requests: rows.map(toReply) };
  }

  /**
   * CCP-7, for an auditor: the log's entries received in a period (from inclusive, to exclusive),
   * oldest first, with whether each was answered by the deadline in force, and a hash of them.
   */
  async export(request: ExportRequestLogRequest): Promise<ExportRequestLogReply> {
    const period = checkPeriod(request);
    const rows = (await this.dataSource.query(
      `SELECT id, received_at, "right", channel, requester, verification, answered_at, outcome,
              denial_basis, duplicate_of,
              CASE WHEN answered_at IS NULL OR answer_by IS NULL THEN NULL
                   ELSE answered_at <= answer_by END AS on_time
         FROM consent.rights_requests
        WHERE received_at >= $1 AND received_at < $2
        ORDER BY received_at, id`,
      [period.from, period.to],
    )) as ExportRow[];
    const entries = rows.map((r) => ({
      requestId: r.id,
      receivedAt: r.received_at.toISOString(),
      right: r.right,
      channel: r.channel,
      requester: r.requester,
      ...(r.verification ? { verification: r.verification } : {}),
      ...(r.answered_at ? { answeredAt: r.answered_at.toISOString() } : {}),
      ...(r.outcome ? { outcome: r.outcome } : {}),
      ...(r.denial_basis ? { denialBasis: r.denial_basis } : {}),
      ...(r.duplicate_of ? { duplicateOf: r.duplicate_of } : {}),
      ...(r.on_time === null ? {} : { onTime: r.on_time }),
    }));
    return {
      from: period.from,
      to: period.to,
      entries,
      contentHash: createHash('sha256').update(canonicalJson(entries)).digest('hex'),
    };
  }

  /** CCP-7 figures of a period: by right, received, answered, met, denied, open, median days. */
  async figures(request: ExportRequestLogRequest): Promise<RequestLogFiguresReply> {
    const period = checkPeriod(request);
    const rows = (await this.dataSource.query(
      `SELECT coalesce("right", 'all') AS "right",
              count(*)::int AS received,
              count(answered_at)::int AS answered,
              count(*) FILTER (WHERE answered_at IS NOT NULL
                                 AND (answer_by IS NULL OR answered_at <= answer_by))::int AS met,
              count(*) FILTER (WHERE outcome = 'denied')::int AS denied,
              count(*) FILTER (WHERE answered_at IS NULL)::int AS open,
              percentile_cont(0.5) WITHIN GROUP (
                ORDER BY extract(epoch FROM answered_at - received_at) / 86400) AS median
         FROM consent.rights_requests
        WHERE received_at >= $1 AND received_at < $2
        GROUP BY ROLLUP ("right")
        ORDER BY "right"`,
      [period.from, period.to],
    )) as (Omit<RequestLogFigure, 'medianDaysToAnswer'> & { median: number | null })[];
    const figure = (r: (typeof rows)[number]): RequestLogFigure => ({
      right: r.right,
      received: r.received,
      answered: r.answered,
      met: r.met,
      denied: r.denied,
      open: r.open,
      medianDaysToAnswer: r.median === null ? null : Math.round(r.median * 10) / 10,
    });
    const total = rows.find((r) => r.right === 'all');
    return {
      from: period.from,
      to: period.to,
      byRight: rows.filter((r) => r !== total).map(figure),
      total: total
        ? figure(total)
        : {
            right: 'all',
            received: 0,
            answered: 0,
            met: 0,
            denied: 0,
            open: 0,
            medianDaysToAnswer: null,
          },
    };
  }

  /**
   * RET-3: the retention service's purge path. A subject's answered entries whose latest date is
   * at or before `through` are deleted, by consent.purge_request_log() (owned by a NOLOGIN role,
   * the only one with DELETE), which records each use; open requests are kept and counted.
   */
  async purge(
    request: PurgeRightsRequestsRequest,
    caller: string,
  ): Promise<PurgeRightsRequestsReply> {
    if (caller !== 'retention') {
      throw new DsgError(
        ErrorCodes.FORBIDDEN,
        'Only the retention service deletes entries of the rights-request log',
      );
    }
    const problems = unrealTimestamps(request, ['through']);
    if (problems.length) throw new ValidationFailedError(problems);
    const [{ deleted, kept_open }] = (await this.dataSource.query(
      'SELECT deleted, kept_open FROM consent.purge_request_log($1, $2, $3, $4)',
      [request.clientId, request.through, request.reason, caller],
    )) as { deleted: number; kept_open: number }[];
    this.logger.info(
      { context: 'RequestLog', entries: deleted, keptOpen: kept_open },
      'rights-request log entries deleted after their period',
    );
    return { clientId: request.clientId, deletedEntries: deleted, keptOpen: kept_open };
  }
}

interface ExportRow {
  id: string;
  received_at: Date;
  right: string;
  channel: string;
  requester: string;
  verification: string | null;
  answered_at: Date | null;
  outcome: string | null;
  denial_basis: string | null;
  duplicate_of: string | null;
  on_time: boolean | null;
}

function checkPeriod(request: ExportRequestLogRequest): { from: string; to: string } {
  const problems = unrealTimestamps(request, ['from', 'to']);
  if (!problems.length && Date.parse(request.from) >= Date.parse(request.to)) {
    problems.push({ field: 'to', constraint: 'afterFrom', message: 'to must be after from' });
  }
  if (problems.length) throw new ValidationFailedError(problems);
  return {
    from: new Date(request.from).toISOString(),
    to: new Date(request.to).toISOString(),
  };
}

const COLUMNS = `id, client_id, "right", channel, requester, received_at, answered_at, outcome,
                 verification, denial_basis, request_hash`;
const SELECT = `SELECT ${COLUMNS} FROM consent.rights_requests`;

function toReply(row: RequestRow): RightsRequestReply {
  return {
    requestId: row.id,
    clientId: row.client_id,
    right: row.right,
    channel: row.channel,
    requester: row.requester,
    receivedAt: row.received_at.toISOString(),
    ...answerOf(row),
  };
}
