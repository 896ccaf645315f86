import {
  EVENT_BATCH_HEADER,
  type EventBatchItem,
  type EventDef,
  type EventEnvelope,
  eventSubject,
  traceHeaders,
} from '@dsg/contracts';
import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { PlatformConfig } from '../config/platform.config';
import { ident } from '../database/migration-helpers';
import type { Statement } from '../database/statement';
import { PLATFORM_CONFIG } from '../tokens';

/**
 * Writes events into the service's outbox inside the caller's transaction, so that a state change
 * and the event announcing it commit together or not at all. The relay publishes them later.
 */
@Injectable()
export class Outbox {
  constructor(@Inject(PLATFORM_CONFIG) private readonly config: PlatformConfig) {}

  /** `manager` must be the transaction's EntityManager (`dataSource.transaction(m => ...)`). */
  async append<T>(
    manager: EntityManager,
    def: EventDef<T>,
    data: T,
    headers: Record<string, string> = {},
  ): Promise<EventEnvelope<T>> {
    return appendEvent(manager, this.config.service.schema, def, data, headers);
  }

  /** Several events in one statement; see appendEvents. */
  appendMany(manager: EntityManager, items: readonly OutboxItem[]): Promise<EventEnvelope[]> {
    return appendEvents(manager, this.config.service.schema, items);
  }

  /** The statement appendMany would run, to be run with the caller's own (combineStatements). */
  statementFor(items: readonly OutboxItem[]): { statement: Statement; envelopes: EventEnvelope[] } {
    return eventsStatement(this.config.service.schema, items);
  }
}

/** One event of a batch, with the trace headers of the request it belongs to. */
export interface OutboxItem<T = unknown> {
  def: EventDef<T>;
  data: T;
  headers?: Record<string, string>;
  /**
   * Where to publish instead of the type's subject (relative to the prefix), for an event that is
   * also a command to one party: a purge command goes to `retention.purges.<system>`. A stream
   * must capture it.
   */
  subject?: string;
}

/**
 * Many events in one statement (a batch of requests committed together). Each keeps the trace
 * headers it was given: the active context here is the batch's, not the request's.
 */
export async function appendEvents(
  manager: Pick<EntityManager, 'query'>,
  schema: string,
  items: readonly OutboxItem[],
): Promise<EventEnvelope[]> {
  if (items.length === 0) return [];
  const { statement, envelopes } = eventsStatement(schema, items);
  await manager.query(statement.sql, statement.params);
  return envelopes;
}

interface OutboxRowValues {
  id: string;
  subject: string;
  type: string;
  schema_version: number;
  envelope: EventEnvelope | EventBatchItem[];
  headers: Record<string, string>;
}

/**
 * The statement appendEvents runs, for a caller that runs it together with its own writes. Events
 * of a type published in batches (EventDef.batched) share a row per type: its envelope column
 * holds their EventBatchItems, its headers say how many (EVENT_BATCH_HEADER), and the relay
 * publishes it as one message, which EventConsumer takes apart again, event by event. For a batch
 * of requests committed together that is one row and one publish instead of one per request.
 * Other events are a row each.
 */
export function eventsStatement(
  schema: string,
  items: readonly OutboxItem[],
): { statement: Statement; envelopes: EventEnvelope[] } {
  const occurredAt = new Date().toISOString();
  const envelopes: EventEnvelope[] = items.map(({ def, data }) => ({
    id: randomUUID(),
    type: def.type,
    schemaVersion: def.schemaVersion,
    source: def.source,
    occurredAt,
    data,
  }));
  const rows = outboxRows(items, envelopes);
  // One JSON parameter for all the rows (one JSON.stringify, nothing escaped element by element).
  // The envelope is taken as json: an outbox whose column is jsonb converts it, one whose column
  // is json (the register's) keeps the text as it is. It returns the rows' ids, so that a
  // statement it is combined with can read it, and so have it run before its own main query
  // (DisclosuresService.appendOptimistically).
  const statement = {
    sql: `INSERT INTO ${ident(schema)}.outbox (id, subject, type, schema_version, envelope, headers)
     SELECT id, subject, type, schema_version, envelope, headers
       FROM json_to_recordset($1::json)
            AS e(id uuid, subject text, type text, schema_version int, envelope json, headers jsonb)
     RETURNING id`,
    params: [JSON.stringify(rows)],
  };
  return { statement, envelopes };
}

/**
 * A row per event, except for batched types: one row per type (where its first event is), each
 * event in it with its own trace headers.
 */
function outboxRows(items: readonly OutboxItem[], envelopes: EventEnvelope[]): OutboxRowValues[] {
  const rows: OutboxRowValues[] = [];
  const batches = new Map<string, OutboxRowValues & { envelope: EventBatchItem[] }>();
  envelopes.forEach((envelope, i) => {
    const { def, headers } = items[i];
    const subject = items[i].subject ?? eventSubject(def);
    if (!def.batched) {
      rows.push({
        id: envelope.id,
        subject,
        type: def.type,
        schema_version: def.schemaVersion,
        envelope,
        headers: headers ?? {},
      });
      return;
    }
    let row = batches.get(subject);
    if (!row) {
      row = {
        id: randomUUID(),
        subject,
        type: def.type,
        schema_version: def.schemaVersion,
        envelope: [],
        headers: {},
      };
      batches.set(subject, row);
      rows.push(row);
    }
    row.envelope.push({ envelope, headers: headers ?? {} });
  });
  for (const row of batches.values()) row.headers[EVENT_BATCH_HEADER] = String(row.envelope.length);
  return rows;
}

/**
 * The statement behind Outbox.append, usable where Nest's container is not (tools, tests). It is
 * appendEvents with one event, so an event of a batched type is stored (and published) as a batch
 * of one, as its contract says.
 */
export async function appendEvent<T>(
  manager: Pick<EntityManager, 'query'>,
  schema: string,
  def: EventDef<T>,
  data: T,
  headers: Record<string, string> = {},
): Promise<EventEnvelope<T>> {
  // The trace of the state change continues through the relay to every consumer.
  const [envelope] = await appendEvents(manager, schema, [
    { def: def as EventDef<unknown>, data, headers: { ...traceHeaders(), ...headers } },
  ]);
  return envelope as EventEnvelope<T>;
}
