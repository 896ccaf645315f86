import {
  type DeclareHoldingsRequest,
  DsgError,
  ErrorCodes,
  type HoldingReply,
  isRealTimestamp,
  type ListDueReply,
  type ListDueRequest,
  ValidationFailedError,
} from '@dsg/contracts';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { HELD_BY } from '../holds/holds.service';
import { RetentionPolicy } from '../schedules/retention-policy';
import { dueFor } from '../schedules/schedule';

const DEFAULT_LIMIT = 100;
const CLOCK_FIELDS = ['lastEncounter', 'creation', 'endOfRelationship', 'lastEffective'] as const;

interface HoldingRow {
  system: string;
  client_id: string;
  category: string;
  due_at: Date | null;
  action: string | null;
  rule: string;
  reason: string;
  policy_version: string;
  held_by?: string[];
}

type Problem = { field: string; constraint: string; message: string };

/**
 * What each system holds (RET-1 to RET-5): a system declares, for itself only, which categories
 * it holds for which subjects and the dates that start their clocks; the service computes when
 * each is due under the policy in effect, and why, and keeps it. A declaration is a state: the
 * same subject and category again replaces the row (a retry is harmless). Due holdings are read
 * soonest first by the partial index on the due date.
 */
@Injectable()
export class HoldingsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly policy: RetentionPolicy,
  ) {}

  async declare(request: DeclareHoldingsRequest, caller: string): Promise<HoldingReply[]> {
    if (request.system !== caller) {
      throw new DsgError(
        ErrorCodes.FORBIDDEN,
        'A system declares only its own holdings (its NATS user is its name)',
      );
    }
    const policy = await this.policy.current();
    const problems: Problem[] = [];
    const seen = new Set<string>();
    request.holdings.forEach((h, i) => {
      const at = `holdings[${i}]`;
      if (!policy.categories.has(h.category)) {
        problems.push({
          field: `${at}.category`,
          constraint: 'isPolicyCategory',
          message: 'not a data category of the policy',
        });
      }
      for (const clock of CLOCK_FIELDS) {
        const value = h.clocks[clock];
        if (value !== undefined && !isRealTimestamp(value)) {
          problems.push({
            field: `${at}.clocks.${clock}`,
            constraint: 'isTimestamp',
            message: `${clock} is not a real date and time`,
          });
        }
      }
      if (h.dateOfBirth !== undefined && !isRealTimestamp(`${h.dateOfBirth}T00:00:00Z`)) {
        problems.push({
          field: `${at}.dateOfBirth`,
          constraint: 'isDate',
          message: 'dateOfBirth is not a real date',
        });
      }
      const key = `${h.clientId}\u0000${h.category}`;
      if (seen.has(key)) {
        problems.push({
          field: `${at}.category`,
          constraint: 'unique',
          message: 'the same subject and category twice in one declaration',
        });
      }
      seen.add(key);
    });
    if (problems.length) throw new ValidationFailedError(problems);

    const rows = request.holdings.map((h) => {
      const due = dueFor(policy.rules, h.category, h.clocks, h.dateOfBirth);
      return {
        system: request.system,
        client_id: h.clientId,
        category: h.category,
        clocks: h.clocks,
        date_of_birth: h.dateOfBirth ?? null,
        due_at: due.dueAt?.toISOString() ?? null,
        action: due.action ?? null,
        rule: due.rule,
        reason: due.reason,
        policy_version: policy.version,
      };
    });
    // One statement for the declaration: all of it is kept, or none.
    await this.dataSource.query(
      `INSERT INTO retention.holdings
         (system, client_id, category, clocks, date_of_birth, due_at, action, rule, reason,
          policy_version)
       SELECT system, client_id, category, clocks, date_of_birth, due_at, action, rule, reason,
              policy_version
         FROM json_to_recordset($1::json) AS h(system text, client_id text, category text,
              clocks jsonb, date_of_birth date, due_at timestamptz, action text, rule text,
              reason text, policy_version text)
       ON CONFLICT (system, client_id, category) DO UPDATE SET
         clocks = excluded.clocks, date_of_birth = excluded.date_of_birth,
         due_at = excluded.due_at, action = excluded.action, rule = excluded.rule,
         reason = excluded.reason, policy_version = excluded.policy_version,
         declared_at = now()`,
      [JSON.stringify(rows)],
    );
    return rows.map((r) => toReply({ ...r, due_at: r.due_at ? new Date(r.due_at) : null }));
  }

  /** Holdings due by `before`, soonest first; keyset on (due date, system, subject, category). */
  async due(request: ListDueRequest): Promise<ListDueReply> {
    const problems: Problem[] = [];
    if (request.before !== undefined && !isRealTimestamp(request.before)) {
      problems.push({
        field: 'before',
        constraint: 'isTimestamp',
        message: 'before is not a real date and time',
      });
    }
    if (request.after && !isRealTimestamp(request.after.dueAt)) {
      problems.push({
        field: 'after.dueAt',
        constraint: 'isTimestamp',
        message: 'dueAt is not a real date and time',
      });
    }
    if (problems.length) throw new ValidationFailedError(problems);
    const limit = request.limit ?? DEFAULT_LIMIT;
    const after = request.after;
    const rows = (await this.dataSource.query(
      `SELECT system, client_id, category, due_at, action, rule, reason, policy_version,
              ${HELD_BY} AS held_by
         FROM retention.holdings h
        WHERE due_at IS NOT NULL AND due_at <= $1
          AND ($2::text IS NULL OR system = $2)
          AND ($3::timestamptz IS NULL
               OR (due_at, system, client_id, category) > ($3, $4::text, $5::text, $6::text))
        ORDER BY due_at, system, client_id, category
        LIMIT $7`,
      [
        request.before ?? new Date().toISOString(),
        request.system ?? null,
        after?.dueAt ?? null,
        after?.system ?? null,
        after?.clientId ?? null,
        after?.category ?? null,
        limit + 1,
      ],
    )) as HoldingRow[];
    const page = rows.slice(0, limit).map(toReply);
    const last = page[page.length - 1];
    return {
      holdings: page,
      ...(rows.length > limit
        ? {
            next: {
              dueAt: last.dueAt!,
              system: last.system,
              clientId: last.clientId,
              category: last.category,
            },
          }
        : {}),
    };
  }
}

function toReply(row: HoldingRow): HoldingReply {
  return {
    system: row.system,
    clientId: row.client_id,
    category: row.category,
    ...(row.due_at ? { dueAt: row.due_at.toISOString() } : {}),
    ...(row.action ? { action: row.action } : {}),
    rule: row.rule,
    reason: row.reason,
    policyVersion: row.policy_version,
    ...(row.held_by?.length ? { heldBy: row.held_by } : {}),
  };
}
