import { type EventDef, type EventEnvelope, eventSubject, traceHeaders } from '@dsg/contracts';
import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { PlatformConfig } from '../config/platform.config';
import { ident } from '../database/migration-helpers';
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
}

/** The statement behind Outbox.append, usable where Nest's container is not (tools, tests). */
export async function appendEvent<T>(
  manager: Pick<EntityManager, 'query'>,
  schema: string,
  def: EventDef<T>,
  data: T,
  headers: Record<string, string> = {},
): Promise<EventEnvelope<T>> {
  // The trace of the state change continues through the relay to every consumer.
  const allHeaders = { ...traceHeaders(), ...headers };
  const envelope: EventEnvelope<T> = {
    id: randomUUID(),
    type: def.type,
    schemaVersion: def.schemaVersion,
    source: def.source,
    occurredAt: new Date().toISOString(),
    data,
  };
  await manager.query(
    `INSERT INTO ${ident(schema)}.outbox (id, subject, type, schema_version, envelope, headers)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [envelope.id, eventSubject(def), def.type, def.schemaVersion, envelope, allHeaders],
  );
  return envelope;
}
