import {
  type AckPurgeReply,
  type AckPurgeRequest,
  type ConfirmPurgeReply,
  type ConfirmPurgeRequest,
  type ListPurgeItemsReply,
  type ListPurgeItemsRequest,
  PurgeAcknowledgedEvent,
  type PurgeAckResult,
  type PurgeCommand,
  type PurgeConfirmation,
  PurgeFailedEvent,
  type PurgeItemsSettled,
  type PurgeItemReply,
  type PurgeItemState,
  PurgeRequestedEvent,
  purgeSubject,
  traceHeaders,
  ValidationFailedError,
} from '@dsg/contracts';
import { Outbox, type OutboxItem } from '@dsg/platform';
import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import { RETENTION_CONFIG, type RetentionConfig } from '../config/retention.config';
import { HELD_BY } from '../holds/holds.service';

/** A purge to issue: one category of one subject's data in one system. */
export interface PurgeToIssue {
  system: string;
  clientId: string;
  category: string;
  action: string;
  rule: string;
  /** The latest clock date of the holding: what is purged is what was held up to then. */
  through?: string | null;
}

interface ItemRow {
  id: string;
  system: string;
  client_id: string;
  category: string;
  action: string;
  rule: string;
  through: Date | null;
  source: 'sweep' | 'erasure';
  sweep_id: string | null;
  erasure_id: string | null;
  state: PurgeItemState;
  attempts: number;
  issued_at: Date;
  retry_at: Date | null;
  confirmed_at: Date | null;
  finished_at: Date | null;
  detail: string | null;
  held_by: string[] | null;
}

/** Open items, in the database: 'confirmed' is 'issued' with confirmed_at (see the migration). */
const OPEN = `('issued', 'failed')`;
/**
 * SQL: when an item at attempt `attempt` is issued again if unacknowledged — the base wait doubled
 * at each attempt, at most the maximum (parameters, in milliseconds).
 */
function retryAt(attempt: string, base: string, max: string): string {
  return `now() + make_interval(secs => least(${max}::double precision,
            ${base}::double precision * power(2, least(${attempt} - 1, 30))) / 1000)`;
}

/** A due holding's place in the order of the partial index on the due date. */
export type DueKey = [dueAt: string, system: string, clientId: string, category: string];

/** What the INSERT of purge items returns (every new item is at its first attempt). */
type IssuedRow = Pick<
  ItemRow,
  'id' | 'system' | 'client_id' | 'category' | 'action' | 'rule' | 'through' | 'attempts'
>;

/**
 * SQL: new purge items from `source`, rows with system, client_id, category, action, rule and
 * through; parameters $2 to $6 are the origin (PurgesService.originParameters). An item already
 * open for the holding is not issued again (the partial unique index on open items).
 */
function insertItems(source: string): string {
  return `INSERT INTO retention.purge_items
         (id, system, client_id, category, action, rule, through, source, sweep_id, erasure_id,
          state, attempts, retry_at)
       SELECT gen_random_uuid(), system, client_id, category, action, rule, through, $2, $3, $4,
              'issued', 1, ${retryAt('1', '$5', '$6')}
         FROM ${source}
       ON CONFLICT (system, client_id, category) WHERE state IN ${OPEN} DO NOTHING
       RETURNING id, system, client_id, category, action, rule, through, attempts`;
}

/**
 * SQL: a timestamptz column as ISO 8601 text in UTC: to the millisecond as Date.toISOString
 * prints it, or to the microsecond (a keyset's key, exact).
 */
function isoText(column: string, fraction: 'MS' | 'US' = 'MS'): string {
  return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.${fraction}"Z"')`;
}

/** What names an item and says what to do, as replies and issued items carry it. */
function itemFields(
  r: Pick<ItemRow, 'id' | 'system' | 'client_id' | 'category' | 'action' | 'rule'>,
) {
  return {
    itemId: r.id,
    system: r.system,
    clientId: r.client_id,
    category: r.category,
    action: r.action,
    rule: r.rule,
  };
}

function toIssued(r: IssuedRow): PurgeToIssue & { itemId: string } {
  return { ...itemFields(r), through: r.through?.toISOString() ?? null };
}

/** Items re-issued or dead-lettered per transaction of the retry check. */
const RETRY_BATCH = 1000;

/**
 * Purge items from issue to their end (issue 7, item 4). An item goes to its holding system in
 * a command on JetStream (through the outbox: the item and its command commit together); the
 * holder confirms it just before executing it — refused if a legal hold covers it now (RET-6) or
 * it is no longer due — then acknowledges it with what was done. An item not acknowledged in time,
 * or acknowledged as failed, is issued again with back-off; after the set number of attempts it is
 * dead-lettered, where operators see it. Each item is issued once while open (a partial unique
 * index), however many sweepers or erasures ask.
 */
@Injectable()
export class PurgesService {
  /** Called with the erasures whose items changed state (to complete them). */
  onSettled?: (erasureIds: string[]) => Promise<void>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    @Inject(RETENTION_CONFIG) private readonly config: RetentionConfig,
  ) {}

  /**
   * Issues `purges` in the caller's transaction: the items (those not open already) and their
   * commands, a command per system of at most PURGE_COMMAND_ITEMS items. Returns the items issued,
   * with their ids.
   */
  async issue(
    manager: EntityManager,
    purges: readonly PurgeToIssue[],
    origin: { source: 'sweep'; sweepId: string } | { source: 'erasure'; erasureId: string },
  ): Promise<(PurgeToIssue & { itemId: string })[]> {
    if (purges.length === 0) return [];
    const rows = purges.map((p) => ({
      system: p.system,
      client_id: p.clientId,
      category: p.category,
      action: p.action,
      rule: p.rule,
      through: p.through ?? null,
    }));
    const issued = (await manager.query(
      insertItems(`json_to_recordset($1::json) AS p(system text, client_id text, category text,
                     action text, rule text, through timestamptz)`),
      [JSON.stringify(rows), ...this.originParameters(origin)],
    )) as IssuedRow[];
    await this.command(manager, issued, origin);
    return issued.map(toIssued);
  }

  /**
   * A sweep's batch in one statement: the next `limit` due holdings after `after` in the order of
   * the partial index on the due date (keyset: due date, system, subject, category), read and
   * issued as items where no legal hold covers them (RET-6), then their commands. The holdings
   * never travel to this process and back. Returns how many were read, issued and held, and the
   * last one read (the next batch's start); undefined when none was left.
   */
  async issueDue(
    manager: EntityManager,
    sweepId: string,
    dueBy: string,
    after: DueKey,
    limit: number,
  ): Promise<{ read: number; issued: number; held: number; last: DueKey } | undefined> {
    // The items as rows, then one row with the batch's counts and its last key (a column each
    // for the items would be parsed on every row). Times as text: microseconds kept for the key,
    // and no date parsed and printed again for the commands.
    const rows = (await manager.query(
      `WITH due AS (
         SELECT h.system, h.client_id, h.category, h.action, h.rule, h.through, h.due_at,
                ${HELD_BY} AS held_by
           FROM retention.holdings h
          WHERE h.due_at IS NOT NULL AND h.due_at <= $1
            AND (h.due_at, h.system, h.client_id, h.category) > ($7::timestamptz, $8, $9, $10)
          ORDER BY h.due_at, h.system, h.client_id, h.category
          LIMIT ${Math.trunc(limit)}),
       items AS (${insertItems('due WHERE cardinality(held_by) = 0 AND action IS NOT NULL')})
       SELECT id, system, client_id, category, action, rule, ${isoText('through')} AS through,
              NULL::int AS read, NULL::int AS held, NULL::text AS last_due_at
         FROM items
       UNION ALL
       SELECT NULL, system, client_id, category, NULL, NULL, NULL,
              (SELECT count(*)::int FROM due),
              (SELECT count(*)::int FROM due WHERE cardinality(held_by) > 0 OR action IS NULL),
              ${isoText('due_at', 'US')}
         FROM (SELECT * FROM due
                ORDER BY due_at DESC, system DESC, client_id DESC, category DESC LIMIT 1) last`,
      [dueBy, ...this.originParameters({ source: 'sweep', sweepId }), ...after],
    )) as (Omit<IssuedRow, 'through' | 'attempts'> & {
      through: string | null;
      read: number | null;
      held: number | null;
      last_due_at: string | null;
    })[];
    const summary = rows.find((r) => r.read !== null);
    if (!summary) return undefined;
    const issued = rows.filter((r) => r.id !== null).map((r) => ({ ...r, attempts: 1 }));
    await this.command(manager, issued, { source: 'sweep', sweepId });
    return {
      read: summary.read!,
      issued: issued.length,
      held: summary.held!,
      last: [summary.last_due_at!, summary.system, summary.client_id, summary.category],
    };
  }

  /** $2 to $6 of insertItems. */
  private originParameters(
    origin: { source: 'sweep'; sweepId: string } | { source: 'erasure'; erasureId: string },
  ): unknown[] {
    return [
      origin.source,
      origin.source === 'sweep' ? origin.sweepId : null,
      origin.source === 'erasure' ? origin.erasureId : null,
      this.config.purgeRetryBaseMs,
      this.config.purgeRetryMaxMs,
    ];
  }

  /** The commands carrying `items` (issued or issued again), into the outbox. */
  private async command(
    manager: EntityManager,
    items: (Pick<ItemRow, 'id' | 'system' | 'client_id' | 'category' | 'action' | 'rule'> & {
      attempts: number;
      /** A date, or already its ISO text. */
      through: Date | string | null;
    })[],
    origin: { source: 'sweep'; sweepId?: string } | { source: 'erasure'; erasureId?: string },
  ): Promise<void> {
    if (items.length === 0) return;
    const bySystem = new Map<string, typeof items>();
    for (const item of items) {
      const list = bySystem.get(item.system) ?? [];
      list.push(item);
      bySystem.set(item.system, list);
    }
    const events: OutboxItem[] = [];
    const trace = traceHeaders();
    for (const [system, list] of bySystem) {
      for (let i = 0; i < list.length; i += this.config.commandItems) {
        const command: PurgeCommand = {
          commandId: randomUUID(),
          system: system as PurgeCommand['system'],
          source: origin.source,
          ...(origin.source === 'sweep' && origin.sweepId ? { sweepId: origin.sweepId } : {}),
          ...(origin.source === 'erasure' && origin.erasureId
            ? { erasureId: origin.erasureId }
            : {}),
          items: list.slice(i, i + this.config.commandItems).map((r) => ({
            itemId: r.id,
            clientId: r.client_id,
            category: r.category,
            action: r.action,
            rule: r.rule,
            attempt: r.attempts,
            ...(r.through
              ? { through: typeof r.through === 'string' ? r.through : r.through.toISOString() }
              : {}),
          })),
        };
        events.push({
          def: PurgeRequestedEvent as OutboxItem['def'],
          data: command,
          headers: trace,
          subject: purgeSubject(system),
        });
      }
    }
    await this.outbox.appendMany(manager, events);
  }

  /**
   * The holder is about to execute these items: go ahead, or not and why (RET-6 first). One
   * statement reads each item with its holding, decides, and writes the decision; a decided item
   * another transaction settled meanwhile is answered from its state then.
   */
  async confirm(request: ConfirmPurgeRequest, caller: string): Promise<ConfirmPurgeReply> {
    const ids = unique(request.itemIds, 'itemIds');
    const { answers, erasures } = await this.dataSource.transaction(async (manager) => {
      const rows = (await manager.query(
        `WITH item AS MATERIALIZED (
           -- Materialized: the legal holds are matched once per item, not once per use.
           SELECT i.id, i.state, i.source, i.erasure_id, i.sweep_id, i.attempts, i.system,
                  i.category, i.rule, h.system IS NOT NULL AS holding_exists,
                  coalesce(h.due_at <= now(), false) AS holding_due,
                  CASE WHEN h.system IS NULL THEN '{}' ELSE ${HELD_BY} END AS held_by
             FROM retention.purge_items i
             LEFT JOIN retention.holdings h USING (system, client_id, category)
            WHERE i.id = ANY($1::uuid[]) AND i.system = ANY($2::text[])),
         cur AS (
           SELECT item.*,
                  CASE WHEN state NOT IN ${OPEN} THEN 'final'
                       WHEN cardinality(held_by) > 0 THEN 'held'
                       -- A sweep's item is for a holding still due; an erasure's, for one held.
                       WHEN NOT holding_exists OR (source = 'sweep' AND NOT holding_due)
                         THEN 'superseded'
                       ELSE 'confirmed' END AS decision
             FROM item),
         written AS (
           -- A confirmed item awaits its acknowledgement for as long as this attempt's back-off;
           -- no indexed column changes (a failed one is issued again): updated in place (HOT).
           UPDATE retention.purge_items i
              SET state = CASE c.decision WHEN 'confirmed' THEN 'issued' ELSE c.decision END,
                  confirmed_at = CASE c.decision WHEN 'confirmed' THEN now() ELSE i.confirmed_at END,
                  retry_at = CASE c.decision
                               WHEN 'confirmed' THEN ${retryAt('i.attempts', '$3', '$4')} END,
                  finished_at = CASE c.decision WHEN 'confirmed' THEN i.finished_at ELSE now() END,
                  held_by = CASE c.decision WHEN 'held' THEN c.held_by ELSE i.held_by END,
                  detail = CASE c.decision
                             WHEN 'held' THEN 'kept: a legal hold covers it (RET-6)'
                             WHEN 'superseded' THEN 'not purged: declared again since, and not due'
                             ELSE i.detail END
             FROM cur c
            WHERE i.id = c.id AND c.decision IN ('held', 'superseded', 'confirmed')
              AND i.state IN ${OPEN}
            RETURNING i.id)
         -- Only the items not simply confirmed come back (usually none), and those not found.
         -- (IN: hashed once; a join to a CTE was planned as a loop over it per row.)
         SELECT id, state, erasure_id, sweep_id, attempts, system, category, rule, held_by,
                decision, id IN (SELECT id FROM written) AS written
           FROM cur
          WHERE decision <> 'confirmed' OR id NOT IN (SELECT id FROM written)
         UNION ALL
         SELECT r.id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'missing', false
           FROM unnest($1::uuid[]) AS r(id)
          WHERE r.id NOT IN (SELECT id FROM item)`,
        [ids, systemsOf(caller), this.config.purgeRetryBaseMs, this.config.purgeRetryMaxMs],
      )) as (ItemForEvent &
        Pick<ItemRow, 'state' | 'source'> & {
          held_by: string[];
          decision: 'missing' | 'final' | 'held' | 'superseded' | 'confirmed';
          written: boolean;
        })[];
      const decided = ['held', 'superseded', 'confirmed'];
      const now = await this.settledMeanwhile(
        manager,
        rows.filter((r) => decided.includes(r.decision) && !r.written),
      );
      const byId = new Map(rows.map((r) => [r.id, r]));
      const settled: Settled[] = [];
      const answers: PurgeConfirmation[] = ids.map((itemId) => {
        const row = byId.get(itemId);
        if (!row) return { itemId, proceed: true };
        if (row.decision === 'missing') return { itemId, proceed: false, code: 'NOT_FOUND' };
        if (row.decision === 'final' || !row.written) {
          return { itemId, proceed: false, code: FINAL_CODES[now.get(itemId) ?? row.state] };
        }
        if (row.decision === 'held') {
          settled.push([PurgeAcknowledgedEvent, row, 'held']);
          return { itemId, proceed: false, code: 'LEGAL_HOLD', heldBy: row.held_by };
        }
        settled.push([PurgeAcknowledgedEvent, row, 'superseded']);
        return { itemId, proceed: false, code: 'NOT_DUE' };
      });
      await this.outbox.appendMany(manager, settledEvents(settled));
      return { answers, erasures: erasuresOf(rows) };
    });
    if (erasures.length) await this.onSettled?.(erasures);
    return { items: answers };
  }

  /**
   * The states now of items a statement decided on but did not write: another transaction
   * settled them after the statement's snapshot was taken (rare; read again, locked).
   */
  private async settledMeanwhile(
    manager: EntityManager,
    rows: readonly { id: string }[],
  ): Promise<Map<string, PurgeItemState>> {
    if (rows.length === 0) return new Map();
    const now = (await manager.query(
      'SELECT id, state FROM retention.purge_items WHERE id = ANY($1::uuid[]) FOR SHARE',
      [rows.map((r) => r.id)],
    )) as { id: string; state: PurgeItemState }[];
    return new Map(now.map((r) => [r.id, r.state]));
  }

  /**
   * What the holder did with confirmed items, in one statement: each confirmed item is done
   * (its holding removed, unless declared again since the confirmation), failed (issued again
   * after its back-off) or, at its last attempt, dead-lettered.
   */
  async ack(request: AckPurgeRequest, caller: string): Promise<AckPurgeReply> {
    const ids = unique(
      request.items.map((i) => i.itemId),
      'items',
    );
    const { results, erasures } = await this.dataSource.transaction(async (manager) => {
      const rows = (await manager.query(
        `WITH cur AS (
           SELECT i.id, i.state, i.attempts, i.erasure_id, i.sweep_id, i.system, i.category,
                  i.rule, a.detail,
                  CASE WHEN i.state <> 'issued' OR i.confirmed_at IS NULL THEN NULL
                       WHEN a.outcome = 'done' THEN 'done'
                       WHEN i.attempts >= $3 THEN 'dead-lettered'
                       ELSE 'failed' END AS decision
             FROM json_to_recordset($1::json) AS a(id uuid, outcome text, detail text)
             JOIN retention.purge_items i ON i.id = a.id
            WHERE i.system = ANY($2::text[])),
         written AS (
           UPDATE retention.purge_items i
              SET state = c.decision, detail = c.detail,
                  retry_at = CASE c.decision
                               WHEN 'failed' THEN ${retryAt('i.attempts', '$4', '$5')} END,
                  finished_at = CASE c.decision WHEN 'failed' THEN i.finished_at ELSE now() END
             FROM cur c
            WHERE i.id = c.id AND c.decision IS NOT NULL
              AND i.state = 'issued' AND i.confirmed_at IS NOT NULL
            RETURNING i.id, i.state, i.system, i.client_id, i.category, i.confirmed_at),
         gone AS (
           -- The holding is gone unless it was declared again after the holder confirmed.
           DELETE FROM retention.holdings h USING written w
            WHERE w.state = 'done'
              AND (h.system, h.client_id, h.category) = (w.system, w.client_id, w.category)
              AND h.declared_at <= w.confirmed_at)
         SELECT c.id, c.state, c.attempts, c.erasure_id, c.sweep_id, c.system, c.category, c.rule,
                c.decision, c.id IN (SELECT id FROM written) AS written
           FROM cur c`,
        [
          JSON.stringify(request.items.map((i) => ({ id: i.itemId, ...i }))),
          systemsOf(caller),
          this.config.purgeMaxAttempts,
          this.config.purgeRetryBaseMs,
          this.config.purgeRetryMaxMs,
        ],
      )) as (ItemForEvent &
        Pick<ItemRow, 'state'> & {
          decision: 'done' | 'failed' | 'dead-lettered' | null;
          written: boolean;
        })[];
      const now = await this.settledMeanwhile(
        manager,
        rows.filter((r) => r.decision && !r.written),
      );
      const byId = new Map(rows.map((r) => [r.id, r]));
      const settled: Settled[] = [];
      const results: PurgeAckResult[] = ids.map((itemId) => {
        const row = byId.get(itemId);
        if (!row) return { itemId, state: 'issued', code: 'NOT_FOUND' } as PurgeAckResult;
        if (!row.decision || !row.written) {
          // Not confirmed (or no longer: issued again meanwhile), or settled already.
          const state = now.get(itemId) ?? row.state;
          return state === 'issued' || state === 'failed'
            ? { itemId, state, code: 'NOT_CONFIRMED' }
            : { itemId, state };
        }
        if (row.decision === 'done') settled.push([PurgeAcknowledgedEvent, row, 'done']);
        if (row.decision === 'dead-lettered') {
          settled.push([PurgeFailedEvent, row, 'dead-lettered']);
        }
        return { itemId, state: row.decision };
      });
      await this.outbox.appendMany(manager, settledEvents(settled));
      const changed = rows.filter((r) => r.written && r.decision !== 'failed');
      return { results, erasures: erasuresOf(changed) };
    });
    if (erasures.length) await this.onSettled?.(erasures);
    return { items: results };
  }

  /**
   * Open items whose time is up: issued again (attempt + 1, a longer wait), or dead-lettered after
   * the last attempt. FOR UPDATE SKIP LOCKED: replicas share the work, an item is handled once.
   * Returns how many were issued again and dead-lettered.
   */
  async retryDue(): Promise<{ reissued: number; deadLettered: number }> {
    let reissued = 0;
    let deadLettered = 0;
    for (;;) {
      const { count, settled } = await this.dataSource.transaction(async (manager) => {
        const rows = (await manager.query(
          `SELECT id, system, client_id, category, action, rule, through, attempts, source,
                  sweep_id, erasure_id, state, detail
             FROM retention.purge_items
            WHERE state IN ${OPEN} AND retry_at <= now()
            ORDER BY retry_at
            LIMIT ${RETRY_BATCH}
              FOR UPDATE SKIP LOCKED`,
        )) as ItemRow[];
        if (rows.length === 0) return { count: 0, settled: [] as string[] };
        const last = rows.filter((r) => r.attempts >= this.config.purgeMaxAttempts);
        const again = rows.filter((r) => r.attempts < this.config.purgeMaxAttempts);
        if (last.length) {
          await manager.query(
            `UPDATE retention.purge_items
                SET state = 'dead-lettered', retry_at = NULL, finished_at = now(),
                    detail = coalesce(detail, 'no acknowledgement')
                             || ' (after ' || attempts || ' attempts)'
              WHERE id = ANY($1::uuid[])`,
            [last.map((r) => r.id)],
          );
          await this.outbox.appendMany(
            manager,
            settledEvents(last.map((r) => [PurgeFailedEvent, r, 'dead-lettered'])),
          );
          deadLettered += last.length;
        }
        if (again.length) {
          await manager.query(
            `UPDATE retention.purge_items
                SET state = 'issued', attempts = attempts + 1, confirmed_at = NULL,
                    retry_at = ${retryAt('attempts + 1', '$2', '$3')}
              WHERE id = ANY($1::uuid[])`,
            [again.map((r) => r.id), this.config.purgeRetryBaseMs, this.config.purgeRetryMaxMs],
          );
          // A command per origin, as they were first issued.
          const groups = new Map<string, ItemRow[]>();
          for (const r of again) {
            const key = `${r.source}\u0000${r.sweep_id ?? r.erasure_id ?? ''}`;
            groups.set(key, [...(groups.get(key) ?? []), r]);
          }
          for (const list of groups.values()) {
            const [first] = list;
            await this.command(
              manager,
              list.map((r) => ({ ...r, attempts: r.attempts + 1 })),
              first.source === 'sweep'
                ? { source: 'sweep', sweepId: first.sweep_id ?? undefined }
                : { source: 'erasure', erasureId: first.erasure_id ?? undefined },
            );
          }
          reissued += again.length;
        }
        return { count: rows.length, settled: erasuresOf(last) };
      });
      if (settled.length) await this.onSettled?.(settled);
      if (count < RETRY_BATCH) return { reissued, deadLettered };
    }
  }

  async list(request: ListPurgeItemsRequest): Promise<ListPurgeItemsReply> {
    const limit = request.limit ?? 100;
    const rows = (await this.dataSource.query(
      `SELECT id, system, client_id, category, action, rule, source, sweep_id, erasure_id, state,
              attempts, issued_at, retry_at, confirmed_at, finished_at, detail, held_by
         FROM retention.purge_items
        WHERE ($1::text IS NULL
               OR ($1 = 'confirmed' AND state = 'issued' AND confirmed_at IS NOT NULL)
               OR ($1 = 'issued' AND state = 'issued' AND confirmed_at IS NULL)
               OR ($1 NOT IN ('issued', 'confirmed') AND state = $1))
          AND ($2::text IS NULL OR system = $2)
          AND ($3::uuid IS NULL OR erasure_id = $3)
          AND ($4::uuid IS NULL OR id > $4)
        ORDER BY id
        LIMIT $5`,
      [
        request.state ?? null,
        request.system ?? null,
        request.erasureId ?? null,
        request.after ?? null,
        limit + 1,
      ],
    )) as ItemRow[];
    const page = rows.slice(0, limit);
    return {
      items: page.map(toItemReply),
      ...(rows.length > limit ? { next: page[page.length - 1].id } : {}),
    };
  }
}

/**
 * The systems whose items a caller may confirm and acknowledge: its own; and for the retention
 * service, this product's own records, which it purges itself through their services' redaction
 * paths (OwnRecordsHolder).
 */
export const OWN_RECORD_SYSTEMS = ['consent', 'disclosure-register'];
function systemsOf(caller: string): string[] {
  return caller === 'retention' ? OWN_RECORD_SYSTEMS : [caller];
}

const FINAL_CODES: Record<string, string> = {
  done: 'ALREADY_DONE',
  held: 'LEGAL_HOLD',
  superseded: 'NOT_DUE',
  'dead-lettered': 'DEAD_LETTERED',
};

type ItemForEvent = Pick<
  ItemRow,
  'id' | 'system' | 'category' | 'rule' | 'attempts' | 'erasure_id' | 'sweep_id'
>;
type Settled = [typeof PurgeAcknowledgedEvent, ItemForEvent, PurgeItemState];

/** The events announcing settled items: one per event type and system, listing its items. */
function settledEvents(settled: readonly Settled[]): OutboxItem[] {
  const groups = new Map<string, { def: Settled[0]; data: PurgeItemsSettled }>();
  for (const [def, row, state] of settled) {
    const key = `${def.type}\u0000${row.system}`;
    let group = groups.get(key);
    if (!group) {
      group = { def, data: { system: row.system, items: [] } };
      groups.set(key, group);
    }
    group.data.items.push({
      itemId: row.id,
      category: row.category,
      rule: row.rule,
      state,
      attempts: row.attempts,
      ...(row.erasure_id ? { erasureId: row.erasure_id } : {}),
      ...(row.sweep_id ? { sweepId: row.sweep_id } : {}),
    });
  }
  return [...groups.values()].map((g) => ({ def: g.def as OutboxItem['def'], data: g.data }));
}

function erasuresOf(rows: { erasure_id: string | null }[]): string[] {
  return [...new Set(rows.map((r) => r.erasure_id).filter((e): e is string => !!e))];
}

/** The same item twice in one request is refused whole: nothing is half-done. */
function unique(ids: string[], field: string): string[] {
  if (new Set(ids).size !== ids.length) {
    throw new ValidationFailedError([
      { field, constraint: 'unique', message: 'the same item twice in one request' },
    ]);
  }
  return ids;
}

export function toItemReply(r: ItemRow): PurgeItemReply {
  return {
    ...itemFields(r),
    source: r.source,
    ...(r.sweep_id ? { sweepId: r.sweep_id } : {}),
    ...(r.erasure_id ? { erasureId: r.erasure_id } : {}),
    state: r.state === 'issued' && r.confirmed_at ? 'confirmed' : r.state,
    attempts: r.attempts,
    issuedAt: r.issued_at.toISOString(),
    ...(r.retry_at ? { retryAt: r.retry_at.toISOString() } : {}),
    ...(r.finished_at ? { finishedAt: r.finished_at.toISOString() } : {}),
    ...(r.detail ? { detail: r.detail } : {}),
    ...(r.held_by?.length ? { heldBy: r.held_by } : {}),
  };
}
