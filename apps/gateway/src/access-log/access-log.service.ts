import { DsgError, ErrorCodes, type Principal } from '@dsg/contracts';
import { type Logger, PLATFORM_LOGGER } from '@dsg/platform';
import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';

export type AccessOutcome = 'served' | 'refused' | 'failed';

export interface AccessRecord {
  principal: Principal;
  /** The route's id (route-table.ts). */
  action: string;
  /** Path and query members of the request: which filter. Never a body. */
  filter: Record<string, unknown>;
  entries: number;
  outcome: AccessOutcome;
  status: number;
  errorCode?: string;
  requestId?: string;
}

/** An entry as auditors read it: the record, with the person as written and when. */
export interface AccessLogEntry extends Omit<AccessRecord, 'principal'> {
  id: number;
  at: string;
  actor: string;
  roles: string[];
}

export interface AccessLogQuery {
  since?: string;
  until?: string;
  actor?: string;
  action?: string;
  /** The previous page's nextAfter. */
  after?: number;
  limit?: number;
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const MAX_PAGE = 1000;
const QUERY_MEMBERS = new Set(['since', 'until', 'actor', 'action', 'after', 'limit']);

/**
 * The gateway's access log (POL-7), in its own schema, append-only (migration 1767200000000).
 * `record` is awaited before an answer leaves the gateway: if the access cannot be logged, the
 * data is not served (PLATFORM.UNAVAILABLE), so nothing is read unlogged.
 */
@Injectable()
export class AccessLogService {
  constructor(
    private readonly db: DataSource,
    @Inject(PLATFORM_LOGGER) private readonly logger: Logger,
  ) {}

  async record(entry: AccessRecord): Promise<void> {
    try {
      await this.db.query(
        `INSERT INTO gateway.access_log
           (actor, roles, action, filter, entries, outcome, status, error_code, request_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [
          entry.principal.subject,
          entry.principal.roles,
          entry.action,
          JSON.stringify(entry.filter),
          entry.entries,
          entry.outcome,
          entry.status,
          entry.errorCode ?? null,
          entry.requestId ?? null,
        ],
      );
    } catch (err) {
      // The operator's line: what PostgreSQL said (its code), never the values written.
      const correlationId = randomUUID();
      const sqlState = (err as { code?: string; driverError?: { code?: string } }).driverError
        ?.code;
      this.logger.error(
        { correlationId, sqlState, action: entry.action },
        'the access log could not be written; the access was refused',
      );
      throw new DsgError(
        ErrorCodes.UNAVAILABLE,
        'The access could not be logged (POL-7), so nothing was served; try again',
        [],
        correlationId,
      );
    }
  }

  /** Entries oldest first, a page at a time (keyset on id). Refuses bad input by field. */
  async list(query: AccessLogQuery): Promise<{ entries: AccessLogEntry[]; nextAfter?: number }> {
    const fields: { field: string; constraint: string; message: string }[] = [];
    for (const name of Object.keys(query)) {
      if (!QUERY_MEMBERS.has(name)) {
        fields.push({
          field: name,
          constraint: 'whitelistValidation',
          message: `${name} is not a member of the access-log query`,
        });
      }
    }
    for (const name of ['since', 'until'] as const) {
      const value = query[name];
      if (value !== undefined && (!TIMESTAMP.test(value) || Number.isNaN(Date.parse(value)))) {
        fields.push({
          field: name,
          constraint: 'timestamp',
          message: `${name} must be an RFC 3339 timestamp`,
        });
      }
    }
    if (query.after !== undefined && !(Number.isSafeInteger(query.after) && query.after >= 0)) {
      fields.push({
        field: 'after',
        constraint: 'min',
        message: 'after must be a whole number from 0',
      });
    }
    const limit = query.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
      fields.push({
        field: 'limit',
        constraint: 'range',
        message: `limit must be a whole number from 1 to ${MAX_PAGE}`,
      });
    }
    for (const name of ['actor', 'action'] as const) {
      const value = query[name];
      if (value !== undefined && (typeof value !== 'string' || value.length > 256)) {
        fields.push({
          field: name,
          constraint: 'maxLength',
          message: `${name} must be at most 256 characters`,
        });
      }
    }
    if (fields.length > 0) {
      throw new DsgError(ErrorCodes.VALIDATION_FAILED, 'The access-log query is not valid', fields);
    }
    const rows: {
      id: string;
      at: Date;
      actor: string;
      roles: string[];
      action: string;
      filter: Record<string, unknown>;
      entries: number;
      outcome: AccessOutcome;
      status: number;
      error_code: string | null;
      request_id: string | null;
    }[] = await this.db.query(
      `SELECT id, at, actor, roles, action, filter, entries, outcome, status, error_code, request_id
         FROM gateway.access_log
        WHERE id > $1
          AND ($2::timestamptz IS NULL OR at >= $2)
          AND ($3::timestamptz IS NULL OR at < $3)
          AND ($4::text IS NULL OR actor = $4)
          AND ($5::text IS NULL OR action = $5)
        ORDER BY id
        LIMIT $6`,
      [
        query.after ?? 0,
        query.since ?? null,
        query.until ?? null,
        query.actor ?? null,
        query.action ?? null,
        limit + 1,
      ],
    );
    const page = rows.slice(0, limit).map((r) => ({
      id: Number(r.id),
      at: r.at.toISOString(),
      actor: r.actor,
      roles: r.roles,
      action: r.action,
      filter: r.filter,
      entries: r.entries,
      outcome: r.outcome,
      status: r.status,
      ...(r.error_code ? { errorCode: r.error_code } : {}),
      ...(r.request_id ? { requestId: r.request_id } : {}),
    }));
    return {
      entries: page,
      ...(rows.length > limit ? { nextAfter: page[page.length - 1].id } : {}),
    };
  }
}
