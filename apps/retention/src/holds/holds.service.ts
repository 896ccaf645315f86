import {
  canonicalJson,
  DsgError,
  ErrorCodes,
  type HoldReply,
  type FieldError,
  periodErrors,
  requireIdempotencyKey,
  LegalHoldPlacedEvent,
  LegalHoldReleasedEvent,
  type PlaceHoldRequest,
  type ReleaseHoldRequest,
  ValidationFailedError,
} from '@dsg/contracts';
import { Outbox } from '@dsg/platform';
import { Injectable } from '@nestjs/common';
import { hash, randomUUID } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import { RetentionPolicy } from '../schedules/retention-policy';

/**
 * SQL: the ids of the legal holds in force that cover the holding row `h` (RET-6): its subject,
 * system and category (either way: a hold on `health.history` covers a `health` holding and the
 * reverse), and a clock date inside the hold's period. Whether any hold is in force is asked once
 * per statement (an uncorrelated subquery): without one, a sweep's rows skip the search.
 */
export const HELD_BY = `(CASE WHEN (SELECT EXISTS (
  SELECT 1 FROM retention.legal_holds WHERE released_at IS NULL)) THEN (
  SELECT coalesce(array_agg(l.id::text ORDER BY l.placed_at, l.id), '{}')
    FROM retention.legal_holds l
   WHERE l.released_at IS NULL
     AND (NOT l.scope ? 'subjects' OR l.scope -> 'subjects' ? h.client_id)
     AND (NOT l.scope ? 'systems' OR l.scope -> 'systems' ? h.system)
     AND (NOT l.scope ? 'categories' OR EXISTS (
           SELECT 1 FROM jsonb_array_elements_text(l.scope -> 'categories') AS c(cat)
            WHERE h.category = c.cat
               OR left(h.category, length(c.cat) + 1) = c.cat || '.'
               OR left(c.cat, length(h.category) + 1) = h.category || '.'))
     AND (NOT (l.scope ? 'from' OR l.scope ? 'to') OR EXISTS (
           SELECT 1 FROM jsonb_each_text(h.clocks) AS k(clock, at)
            WHERE k.at::timestamptz >= coalesce((l.scope ->> 'from')::timestamptz, '-infinity')
              AND k.at::timestamptz <= coalesce((l.scope ->> 'to')::timestamptz, 'infinity'))))
  ELSE '{}'::text[] END)`;

interface HoldRow {
  id: string;
  request_hash: string;
  scope: HoldReply['scope'];
  reason: string;
  placed_by: string;
  placed_at: Date;
  released_by: string | null;
  released_at: Date | null;
}

/**
 * Legal holds (RET-6): a privacy officer places one by subject, category, system and period, with
 * its reason, and releases it, with the reason; while it is in force what it covers is neither
 * expired nor erased (the due list names the holds on each holding; sweeps and erasure will
 * check them). Placing and releasing are each a row of the hold's history and an event.
 */
@Injectable()
export class HoldsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    private readonly policy: RetentionPolicy,
  ) {}

  async place(
    request: PlaceHoldRequest,
    caller: string,
    idempotencyKey: string | undefined,
    by: string,
  ): Promise<HoldReply> {
    const key = requireIdempotencyKey(idempotencyKey, 'a hold');
    const { scope } = request;
    const problems: FieldError[] = [];
    if (!scope.subjects && !scope.categories && !scope.systems) {
      problems.push({
        field: 'scope',
        constraint: 'narrows',
        message: 'a hold names its subjects, categories or systems (at least one)',
      });
    }
    if (scope.categories) {
      const known = (await this.policy.current()).categories;
      const unknown = scope.categories.filter((c) => !known.has(c));
      if (unknown.length) {
        problems.push({
          field: 'scope.categories',
          constraint: 'isPolicyCategory',
          message: `not data categories of the policy: ${unknown.join(', ')}`,
        });
      }
    }
    problems.push(...periodErrors(scope, 'scope'));
    if (problems.length) throw new ValidationFailedError(problems);

    const requestHash = hash('sha256', canonicalJson(request), 'hex');
    const id = randomUUID();
    const placed = await this.dataSource.transaction(async (manager) => {
      const rows = (await manager.query(
        `INSERT INTO retention.legal_holds (id, caller, idempotency_key, request_hash, scope, reason, placed_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (caller, idempotency_key) DO NOTHING RETURNING placed_at`,
        [id, caller, key, requestHash, scope, request.reason, by],
      )) as { placed_at: Date }[];
      if (rows.length === 0) return false;
      await this.step(manager, id, 'placed', by, request.reason);
      await this.outbox.append(manager, LegalHoldPlacedEvent, {
        holdId: id,
        state: 'active',
        at: rows[0].placed_at.toISOString(),
        by,
      });
      return true;
    });
    if (placed) return this.get(id);
    // The key was used: the same hold (a retry), or a conflict.
    const [prior] = (await this.dataSource.query(
      'SELECT id, request_hash FROM retention.legal_holds WHERE caller = $1 AND idempotency_key = $2',
      [caller, key],
    )) as { id: string; request_hash: string }[];
    if (prior.request_hash !== requestHash) {
      throw new DsgError(
        ErrorCodes.IDEMPOTENCY_CONFLICT,
        'This Idempotency-Key was used for another hold',
      );
    }
    return this.get(prior.id);
  }

  async release(request: ReleaseHoldRequest, by: string): Promise<HoldReply> {
    await this.dataSource.transaction(async (manager) => {
      const [row] = (await manager.query(
        'SELECT released_at FROM retention.legal_holds WHERE id = $1 FOR UPDATE',
        [request.holdId],
      )) as { released_at: Date | null }[];
      if (!row) throw new DsgError(ErrorCodes.NOT_FOUND, 'No legal hold has this id');
      if (row.released_at) {
        throw new DsgError(ErrorCodes.INVALID_STATE, 'This legal hold was released already');
      }
      const [released] = (await manager.query(
        `UPDATE retention.legal_holds SET released_by = $2, released_at = now()
          WHERE id = $1 RETURNING released_at`,
        [request.holdId, by],
      )) as [{ released_at: Date }[], number];
      await this.step(manager, request.holdId, 'released', by, request.reason);
      await this.outbox.append(manager, LegalHoldReleasedEvent, {
        holdId: request.holdId,
        state: 'released',
        at: released[0].released_at.toISOString(),
        by,
      });
    });
    return this.get(request.holdId);
  }

  async get(id: string): Promise<HoldReply> {
    const [row] = (await this.dataSource.query(
      'SELECT * FROM retention.legal_holds WHERE id = $1',
      [id],
    )) as HoldRow[];
    if (!row) throw new DsgError(ErrorCodes.NOT_FOUND, 'No legal hold has this id');
    return (await this.withHistory([row]))[0];
  }

  async list(activeOnly: boolean): Promise<HoldReply[]> {
    const rows = (await this.dataSource.query(
      `SELECT * FROM retention.legal_holds WHERE NOT $1 OR released_at IS NULL
        ORDER BY placed_at, id`,
      [activeOnly],
    )) as HoldRow[];
    return this.withHistory(rows);
  }

  private async withHistory(rows: HoldRow[]): Promise<HoldReply[]> {
    const history = rows.length
      ? ((await this.dataSource.query(
          `SELECT hold_id, action, at, by, note FROM retention.legal_hold_history
            WHERE hold_id = ANY($1::uuid[]) ORDER BY id`,
          [rows.map((r) => r.id)],
        )) as { hold_id: string; action: string; at: Date; by: string; note: string }[])
      : [];
    return rows.map((row) => ({
      holdId: row.id,
      state: row.released_at ? 'released' : 'active',
      scope: row.scope,
      reason: row.reason,
      placedBy: row.placed_by,
      placedAt: row.placed_at.toISOString(),
      ...(row.released_by ? { releasedBy: row.released_by } : {}),
      ...(row.released_at ? { releasedAt: row.released_at.toISOString() } : {}),
      history: history
        .filter((h) => h.hold_id === row.id)
        .map((h) => ({ action: h.action, at: h.at.toISOString(), by: h.by, note: h.note })),
    }));
  }

  private async step(manager: EntityManager, id: string, action: string, by: string, note: string) {
    await manager.query(
      'INSERT INTO retention.legal_hold_history (hold_id, action, by, note) VALUES ($1, $2, $3, $4)',
      [id, action, by, note],
    );
  }
}
