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
      id: randomUUID(),
      system: p.system,
      client_id: p.clientId,
      category: p.category,
      action: p.action,
      rule: p.rule,
      through: p.through ?? null,
    }));
    const issued = (await manager.query(
      `INSERT INTO retention.purge_items
         (id, system, client_id, category, action, rule, through, source, sweep_id, erasure_id,
          state, attempts, retry_at)
       SELECT id, system, client_id, category, action, rule, through, $2, $3, $4, 'issued', 1,
              ${retryAt('1', '$5', '$6')}
         FROM json_to_recordset($1::json) AS p(id uuid, system text, client_id text,
              category text, action text, rule text, through timestamptz)
       ON CONFLICT (system, client_id, category) WHERE state IN ${OPEN} DO NOTHING
       RETURNING id, system, client_id, category, action, rule, through`,
      [
        JSON.stringify(rows),
        origin.source,
        origin.source === 'sweep' ? origin.sweepId : null,
        origin.source === 'erasure' ? origin.erasureId : null,
        this.config.purgeRetryBaseMs,
        this.config.purgeRetryMaxMs,
      ],
    )) as Pick<
      ItemRow,
      'id' | 'system' | 'client_id' | 'category' | 'action' | 'rule' | 'through'
    >[];
    await this.command(
      manager,
      issued.map((r) => ({ ...r, attempts: 1 })),
      origin,
    );
    return issued.map((r) => ({
      itemId: r.id,
      system: r.system,
      clientId: r.client_id,
      category: r.category,
      action: r.action,
      rule: r.rule,
      through: r.through?.toISOString() ?? null,
    }));
  }

  /** The commands carrying `items` (issued or issued again), into the outbox. */
  private async command(
    manager: EntityManager,
    items: Pick<
      ItemRow,
      'id' | 'system' | 'client_id' | 'category' | 'action' | 'rule' | 'through' | 'attempts'
    >[],
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
            ...(r.through ? { through: new Date(r.through).toISOString() } : {}),
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

  /** The holder is about to execute these items: go ahead, or not and why (RET-6 first). */
  async confirm(request: ConfirmPurgeRequest, caller: string): Promise<ConfirmPurgeReply> {
    const ids = unique(request.itemIds, 'itemIds');
    const { answers, erasures } = await this.dataSource.transaction(async (manager) => {
      const rows = (await manager.query(
        `SELECT i.id, i.state, i.source, i.erasure_id, i.sweep_id, i.attempts, i.system,
                i.category, i.rule,
                h.system IS NOT NULL AS holding_exists,
                h.due_at IS NOT NULL AND h.due_at <= now() AS holding_due,
                CASE WHEN h.system IS NULL THEN '{}' ELSE ${HELD_BY} END AS held_by
           FROM retention.purge_items i
           LEFT JOIN retention.holdings h USING (system, client_id, category)
          WHERE i.id = ANY($1::uuid[]) AND i.system = ANY($2::text[])
          ORDER BY i.id
            FOR UPDATE OF i`,
        [ids, systemsOf(caller)],
      )) as (Pick<
        ItemRow,
        | 'id'
        | 'state'
        | 'source'
        | 'erasure_id'
        | 'sweep_id'
        | 'attempts'
        | 'system'
        | 'category'
        | 'rule'
      > & { holding_exists: boolean; holding_due: boolean; held_by: string[] })[];
      const byId = new Map(rows.map((r) => [r.id, r]));
      const confirmed: string[] = [];
      const held: { id: string; held_by: string[] }[] = [];
      const superseded: string[] = [];
      const settled: Settled[] = [];
      const answers: PurgeConfirmation[] = ids.map((itemId) => {
        const row = byId.get(itemId);
        if (!row) return { itemId, proceed: false, code: 'NOT_FOUND' };
        if (!['issued', 'failed'].includes(row.state)) {
          return { itemId, proceed: false, code: FINAL_CODES[row.state] };
        }
        if (row.held_by.length) {
          held.push({ id: itemId, held_by: row.held_by });
          settled.push([PurgeAcknowledgedEvent, row, 'held']);
          return { itemId, proceed: false, code: 'LEGAL_HOLD', heldBy: row.held_by };
        }
        // A sweep's item is for a holding still due; an erasure's, for one still held.
        if (!row.holding_exists || (row.source === 'sweep' && !row.holding_due)) {
          superseded.push(itemId);
          settled.push([PurgeAcknowledgedEvent, row, 'superseded']);
          return { itemId, proceed: false, code: 'NOT_DUE' };
        }
        confirmed.push(itemId);
        return { itemId, proceed: true };
      });
      if (confirmed.length) {
        // The acknowledgement is awaited for as long as this attempt's back-off. No indexed
        // column changes for an issued item (a failed one is issued again): updated in place.
        await manager.query(
          `UPDATE retention.purge_items
              SET confirmed_at = now(), state = 'issued',
                  retry_at = ${retryAt('attempts', '$2', '$3')}
            WHERE id = ANY($1::uuid[])`,
          [confirmed, this.config.purgeRetryBaseMs, this.config.purgeRetryMaxMs],
        );
      }
      if (held.length) {
        await manager.query(
          `UPDATE retention.purge_items i
              SET state = 'held', held_by = h.held_by, retry_at = NULL, finished_at = now(),
                  detail = 'kept: a legal hold covers it (RET-6)'
             FROM json_to_recordset($1::json) AS h(id uuid, held_by text[])
            WHERE i.id = h.id`,
          [JSON.stringify(held)],
        );
      }
      if (superseded.length) {
        await manager.query(
          `UPDATE retention.purge_items
              SET state = 'superseded', retry_at = NULL, finished_at = now(),
                  detail = 'not purged: declared again since, and not due'
            WHERE id = ANY($1::uuid[])`,
          [superseded],
        );
      }
      await this.outbox.appendMany(manager, settledEvents(settled));
      const going = new Set(confirmed);
      return { answers, erasures: erasuresOf(rows.filter((r) => !going.has(r.id))) };
    });
    if (erasures.length) await this.onSettled?.(erasures);
    return { items: answers };
  }

  /** What the holder did with confirmed items. */
  async ack(request: AckPurgeRequest, caller: string): Promise<AckPurgeReply> {
    const ids = unique(
      request.items.map((i) => i.itemId),
      'items',
    );
    const outcomes = new Map(request.items.map((i) => [i.itemId, i]));
    const { results, erasures } = await this.dataSource.transaction(async (manager) => {
      const rows = (await manager.query(
        `SELECT id, state, confirmed_at, attempts, erasure_id, sweep_id, system, category, rule
           FROM retention.purge_items
          WHERE id = ANY($1::uuid[]) AND system = ANY($2::text[])
          ORDER BY id
            FOR UPDATE`,
        [ids, systemsOf(caller)],
      )) as Pick<
        ItemRow,
        | 'id'
        | 'state'
        | 'confirmed_at'
        | 'attempts'
        | 'erasure_id'
        | 'sweep_id'
        | 'system'
        | 'category'
        | 'rule'
      >[];
      const byId = new Map(rows.map((r) => [r.id, r]));
      const done: { id: string; detail: string }[] = [];
      const failed: { id: string; detail: string }[] = [];
      const dead: { id: string; detail: string }[] = [];
      const settled: Settled[] = [];
      const results: PurgeAckResult[] = ids.map((itemId) => {
        const row = byId.get(itemId);
        if (!row) return { itemId, state: 'issued', code: 'NOT_FOUND' } as PurgeAckResult;
        const { outcome, detail } = outcomes.get(itemId)!;
        if (row.state !== 'issued' || !row.confirmed_at) {
          return row.state === 'issued' || row.state === 'failed'
            ? { itemId, state: row.state, code: 'NOT_CONFIRMED' }
            : { itemId, state: row.state };
        }
        if (outcome === 'done') {
          done.push({ id: itemId, detail });
          settled.push([PurgeAcknowledgedEvent, row, 'done']);
          return { itemId, state: 'done' };
        }
        if (row.attempts >= this.config.purgeMaxAttempts) {
          dead.push({ id: itemId, detail });
          settled.push([PurgeFailedEvent, row, 'dead-lettered']);
          return { itemId, state: 'dead-lettered' };
        }
        failed.push({ id: itemId, detail });
        return { itemId, state: 'failed' };
      });
      if (done.length) {
        // The holding is gone unless it was declared again after the holder confirmed.
        await manager.query(
          `WITH d AS (
             UPDATE retention.purge_items i
                SET state = 'done', retry_at = NULL, finished_at = now(), detail = a.detail
               FROM json_to_recordset($1::json) AS a(id uuid, detail text)
              WHERE i.id = a.id
             RETURNING i.system, i.client_id, i.category, i.confirmed_at)
           DELETE FROM retention.holdings h USING d
            WHERE (h.system, h.client_id, h.category) = (d.system, d.client_id, d.category)
              AND h.declared_at <= d.confirmed_at`,
          [JSON.stringify(done)],
        );
      }
      if (failed.length) {
        await manager.query(
          `UPDATE retention.purge_items i
              SET state = 'failed', detail = a.detail,
                  retry_at = ${retryAt('i.attempts', '$2', '$3')}
             FROM json_to_recordset($1::json) AS a(id uuid, detail text)
            WHERE i.id = a.id`,
          [JSON.stringify(failed), this.config.purgeRetryBaseMs, this.config.purgeRetryMaxMs],
        );
      }
      if (dead.length) {
        await manager.query(
          `UPDATE retention.purge_items i
              SET state = 'dead-lettered', retry_at = NULL, finished_at = now(), detail = a.detail
             FROM json_to_recordset($1::json) AS a(id uuid, detail text)
            WHERE i.id = a.id`,
          [JSON.stringify(dead)],
        );
      }
      await this.outbox.appendMany(manager, settledEvents(settled));
      const changed = new Set([...done, ...dead].map((d) => d.id));
      return { results, erasures: erasuresOf(rows.filter((r) => changed.has(r.id))) };
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
    itemId: r.id,
    system: r.system,
    clientId: r.client_id,
    category: r.category,
    action: r.action,
    rule: r.rule,
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
