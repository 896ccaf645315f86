import {
  extractTraceContext,
  injectTraceContext,
  inSpan,
  qualifySubject,
  SpanKind,
} from '@dsg/contracts';
import { context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { headers as natsHeaders, type JetStreamClient } from 'nats';
import type { PoolClient } from 'pg';
import type { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { ident } from '../database/migration-helpers';
import type { Logger } from '../logging/logger';

export interface OutboxRelayOptions {
  dataSource: DataSource;
  jetstream: () => JetStreamClient;
  schema: string;
  subjectPrefix: string;
  logger: Logger;
  pollIntervalMs: number;
  batchSize: number;
  /**
   * After a pass that found rows but fewer than a batch, the relay waits this long before the
   * next (default 10 ms), so that under a steady trickle it publishes batches, not rows one pass
   * each: every pass is two round trips to the database whatever it carries.
   */
  gatherMs?: number;
}

/** Default of OutboxRelayOptions.gatherMs. */
const GATHER_MS = 10;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface OutboxRow {
  id: string;
  subject: string;
  /** The envelope's JSON text, published as it is. */
  envelope: string;
  headers: Record<string, string>;
}

/**
 * Publishes committed outbox rows to JetStream. Each pass takes the oldest unpublished rows with
 * FOR UPDATE SKIP LOCKED, publishes them with Nats-Msg-Id = row id, and marks the acknowledged
 * ones published in the same transaction. There is no "last published" cursor: a row whose
 * transaction commits after later rows were published is simply unpublished on the next pass,
 * so nothing is skipped. A crash between the PubAck and the commit republishes the row: JetStream
 * drops it as a duplicate within its window, and consumers' inboxes drop it after that.
 * Several replicas may run relays at once; SKIP LOCKED keeps them off each other's rows.
 */
export class OutboxRelay {
  private running?: Promise<void>;
  private stopping = false;
  private wake?: () => void;
  private readonly encoder = new TextEncoder();

  constructor(private readonly options: OutboxRelayOptions) {}

  start(): void {
    if (this.running) return;
    this.stopping = false;
    this.running = this.loop();
  }

  /** Finishes the pass in progress, then stops. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.running;
    this.running = undefined;
  }

  /**
   * One pass; returns how many rows it published. Public for tools and tests. The polling itself
   * is not traced (it would be a trace every few hundred milliseconds); each publish is, as a
   * child of the trace that wrote the event.
   */
  async relayOnce(): Promise<number> {
    const { dataSource, schema, batchSize } = this.options;
    return context.with(suppressTracing(context.active()), () =>
      this.pass(dataSource, schema, batchSize),
    );
  }

  /**
   * Two round trips: the transaction begins with the SELECT that locks the rows, and the UPDATE
   * that marks them published ends with the COMMIT (simple-protocol statements, so the ids are
   * written into the UPDATE; they are UUIDs the database gave, checked as such).
   */
  private async pass(dataSource: DataSource, schema: string, batchSize: number): Promise<number> {
    const table = `${ident(schema)}.outbox`;
    const driver = dataSource.driver as PostgresDriver;
    const [client, release] = (await driver.obtainMasterConnection()) as [
      PoolClient,
      (destroy?: unknown) => void,
    ];
    let destroy = false;
    try {
      const results = (await client.query(
        `BEGIN; SELECT id, subject, envelope::text AS envelope, headers FROM ${table}
          WHERE published_at IS NULL ORDER BY seq LIMIT ${Number(batchSize)} FOR UPDATE SKIP LOCKED`,
      )) as unknown as { rows: OutboxRow[] }[];
      const rows = results[1].rows;
      if (rows.length === 0) {
        await client.query('COMMIT');
        return 0;
      }
      const js = this.options.jetstream();
      // Published in order on one connection, acknowledged asynchronously. Only the run of rows
      // up to the first failure is marked: the rest are published again on the next pass (as
      // duplicates JetStream drops), so the stream's order follows the outbox's.
      const outcomes = await Promise.allSettled(rows.map((row) => this.publish(js, row)));
      const firstFailure = outcomes.findIndex((r) => r.status === 'rejected');
      const published = (firstFailure === -1 ? rows : rows.slice(0, firstFailure)).map((r) => r.id);
      if (!published.every((id) => UUID.test(id))) throw new Error('outbox row id is not a UUID');
      await client.query(
        published.length > 0
          ? `UPDATE ${table} SET published_at = now() WHERE id = ANY('{${published.join(',')}}'::uuid[]); COMMIT`
          : 'COMMIT',
      );
      if (firstFailure !== -1) {
        this.options.logger.warn(
          {
            err: (outcomes[firstFailure] as PromiseRejectedResult).reason,
            unpublished: rows.length - published.length,
          },
          'outbox relay: publish failed; will retry',
        );
      }
      return published.length;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => (destroy = true));
      throw err;
    } finally {
      // A connection whose transaction could not be ended is closed, not given back to the pool.
      release(destroy || undefined);
    }
  }

  private async publish(js: JetStreamClient, row: OutboxRow): Promise<void> {
    const subject = qualifySubject(this.options.subjectPrefix, row.subject);
    await inSpan(
      `${row.subject} publish`,
      SpanKind.PRODUCER,
      {
        'messaging.system': 'nats',
        'messaging.destination.name': subject,
        'messaging.message.id': row.id,
      },
      async () => {
        const h = natsHeaders();
        for (const [key, value] of Object.entries(row.headers ?? {})) h.set(key, value);
        injectTraceContext(h);
        await js.publish(subject, this.encoder.encode(row.envelope), {
          msgID: row.id,
          headers: h,
          timeout: 5000,
        });
      },
      extractTraceContext(row.headers),
    );
  }

  private async loop(): Promise<void> {
    let backoff = this.options.pollIntervalMs;
    while (!this.stopping) {
      let published = 0;
      try {
        published = await this.relayOnce();
        backoff = this.options.pollIntervalMs;
      } catch (err) {
        this.options.logger.warn({ err }, 'outbox relay pass failed');
        backoff = Math.min(backoff * 2, 10_000);
      }
      if (this.stopping) break;
      if (published === 0) await this.sleep(backoff);
      else if (published < this.options.batchSize) {
        await this.sleep(this.options.gatherMs ?? GATHER_MS);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
