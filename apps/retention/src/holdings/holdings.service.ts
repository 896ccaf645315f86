import {
  covers,
  type DeclareHoldingsRequest,
  DsgError,
  ErrorCodes,
  type HoldingReply,
  type FieldError,
  isRealTimestamp,
  unrealTimestamps,
  type ListDueReply,
  type ListDueRequest,
  ValidationFailedError,
} from '@dsg/contracts';
import { requireCaller } from '@dsg/platform';
import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { HELD_BY } from '../holds/holds.service';
import { OWN_RECORD_SYSTEMS } from '../purges/purges.service';
import { RetentionPolicy } from '../schedules/retention-policy';
import { type Clocks, dueFor, type RetentionRule } from '../schedules/schedule';

const DEFAULT_LIMIT = 100;
/** Holdings dated again per transaction when a new policy version is in effect. */
const RECOMPUTE_BATCH = 500;
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
    const problems: FieldError[] = [];
    const seen = new Set<string>();
    request.holdings.forEach((h, i) => {
      const at = `holdings[${i}]`;
      if (!policy.categories.has(h.category)) {
        problems.push({
          field: `${at}.category`,
          constraint: 'isPolicyCategory',
          message: 'not a data category of the policy',
        });
      } else if (covers('records', h.category) && !OWN_RECORD_SYSTEMS.includes(caller)) {
        problems.push({
          field: `${at}.category`,
          constraint: 'isOwnSystem',
          message: "this product's own records are declared only by the services that keep them",
        });
      }
      problems.push(...unrealTimestamps(h.clocks, CLOCK_FIELDS, `${at}.clocks`));
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
      return {
        system: request.system,
        client_id: h.clientId,
        category: h.category,
        clocks: h.clocks,
        through: latestClock(h.clocks),
        date_of_birth: h.dateOfBirth ?? null,
        ...dueColumns(policy.rules, h.category, h.clocks, h.dateOfBirth),
        policy_version: policy.version,
      };
    });
    // One statement for the declaration: all of it is kept, or none.
    await this.dataSource.query(
      `INSERT INTO retention.holdings
         (system, client_id, category, clocks, through, date_of_birth, due_at, action, rule,
          reason, policy_version)
       SELECT system, client_id, category, clocks, through, date_of_birth, due_at, action, rule,
              reason, policy_version
         FROM json_to_recordset($1::json) AS h(system text, client_id text, category text,
              clocks jsonb, through timestamptz, date_of_birth date, due_at timestamptz,
              action text, rule text, reason text, policy_version text)
       ON CONFLICT (system, client_id, category) DO UPDATE SET
         clocks = excluded.clocks, through = excluded.through,
         date_of_birth = excluded.date_of_birth,
         due_at = excluded.due_at, action = excluded.action, rule = excluded.rule,
         reason = excluded.reason, policy_version = excluded.policy_version,
         declared_at = now()`,
      [JSON.stringify(rows)],
    );
    return rows.map((r) => toReply({ ...r, due_at: r.due_at ? new Date(r.due_at) : null }));
  }

  /**
   * Every holding dated under another policy version is dated again under the current one, a
   * batch at a time in primary-key order (FOR UPDATE SKIP LOCKED: replicas share the work, a
   * declaration in flight is not overwritten). Nothing computed under an old schedule is kept.
   * Returns how many were dated again, and under which version.
   */
  async recompute(): Promise<{ redated: number; version: string }> {
    const policy = await this.policy.current();
    let total = 0;
    let after: [string, string, string] = ['', '', ''];
    for (;;) {
      const batch = await this.dataSource.transaction(async (manager) => {
        const rows = (await manager.query(
          `SELECT system, client_id, category, clocks, policy_version,
                  to_char(date_of_birth, 'YYYY-MM-DD') AS date_of_birth
             FROM retention.holdings
            WHERE (system, client_id, category) > ($1, $2, $3)
            ORDER BY system, client_id, category
            LIMIT ${RECOMPUTE_BATCH}
              FOR UPDATE SKIP LOCKED`,
          after,
        )) as {
          system: string;
          client_id: string;
          category: string;
          clocks: Record<string, string>;
          policy_version: string;
          date_of_birth: string | null;
        }[];
        if (rows.length === 0) return undefined;
        const stale = rows
          .filter((r) => r.policy_version !== policy.version)
          .map((r) => {
            return {
              system: r.system,
              client_id: r.client_id,
              category: r.category,
              ...dueColumns(policy.rules, r.category, r.clocks, r.date_of_birth ?? undefined),
            };
          });
        if (stale.length) {
          await manager.query(
            `UPDATE retention.holdings h
                SET due_at = u.due_at, action = u.action, rule = u.rule, reason = u.reason,
                    policy_version = $2
               FROM json_to_recordset($1::json) AS u(system text, client_id text, category text,
                    due_at timestamptz, action text, rule text, reason text)
              WHERE (h.system, h.client_id, h.category) = (u.system, u.client_id, u.category)`,
            [JSON.stringify(stale), policy.version],
          );
        }
        const last = rows[rows.length - 1];
        return { stale: stale.length, last: [last.system, last.client_id, last.category] };
      });
      if (!batch) return { redated: total, version: policy.version };
      total += batch.stale;
      after = batch.last as [string, string, string];
    }
  }

  /**
   * A subject's date of birth changed in the spa's systems (client.updated): every holding of the
   * subject is dated again with it (KID-3: age is recomputed; RET-1's floor is the 19th birthday),
   * in the caller's transaction. Returns how many holdings were dated again.
   */
  async redateSubject(
    manager: EntityManager,
    clientId: string,
    dateOfBirth: string,
  ): Promise<number> {
    const policy = await this.policy.current();
    const rows = (await manager.query(
      `SELECT system, category, clocks FROM retention.holdings WHERE client_id = $1
        ORDER BY system, category FOR UPDATE`,
      [clientId],
    )) as { system: string; category: string; clocks: Record<string, string> }[];
    if (rows.length === 0) return 0;
    const dated = rows.map((r) => {
      return {
        system: r.system,
        category: r.category,
        ...dueColumns(policy.rules, r.category, r.clocks, dateOfBirth),
      };
    });
    await manager.query(
      `UPDATE retention.holdings h
          SET date_of_birth = $2, due_at = u.due_at, action = u.action, rule = u.rule,
              reason = u.reason, policy_version = $3
         FROM json_to_recordset($4::json) AS u(system text, category text, due_at timestamptz,
              action text, rule text, reason text)
        WHERE h.client_id = $1 AND (h.system, h.category) = (u.system, u.category)`,
      [clientId, dateOfBirth, policy.version, JSON.stringify(dated)],
    );
    return rows.length;
  }

  /**
   * Every holding of a subject, by system and category, each with its due date, rule and the
   * legal holds in force that cover it (RET-6), as `due` gives them: for a know report and the
   * correction tasks of a rights request. Caller: consent only.
   */
  async ofSubject(clientId: string, caller: string): Promise<HoldingReply[]> {
    requireCaller(caller, 'consent', "lists a subject's holdings, for a verified rights request");
    const rows = (await this.dataSource.query(
      `SELECT system, client_id, category, due_at, action, rule, reason, policy_version,
              ${HELD_BY} AS held_by
         FROM retention.holdings h
        WHERE client_id = $1
        ORDER BY system, category`,
      [clientId],
    )) as HoldingRow[];
    return rows.map(toReply);
  }

  /** Holdings due by `before`, soonest first; keyset on (due date, system, subject, category). */
  async due(request: ListDueRequest): Promise<ListDueReply> {
    const problems = [
      ...unrealTimestamps(request, ['before']),
      ...(request.after ? unrealTimestamps(request.after, ['dueAt'], 'after') : []),
    ];
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

/** The latest of a holding's clock dates: what a purge of it removes is what was held up to then. */
function latestClock(clocks: Clocks): string | null {
  const times = Object.values(clocks)
    .filter((at): at is string => typeof at === 'string')
    .map((at) => Date.parse(at));
  return times.length ? new Date(Math.max(...times)).toISOString() : null;
}

/** When a holding is due, and why, as the holdings table's columns. */
function dueColumns(
  rules: readonly RetentionRule[],
  category: string,
  clocks: Clocks,
  dateOfBirth: string | undefined,
) {
  const due = dueFor(rules, category, clocks, dateOfBirth);
  return {
    due_at: due.dueAt?.toISOString() ?? null,
    action: due.action ?? null,
    rule: due.rule,
    reason: due.reason,
  };
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
