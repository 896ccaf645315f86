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
import type { DataSource } from 'typeorm';
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
}

interface OutboxRow {
  id: string;
  subject: string;
  envelope: unknown;
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

  private pass(dataSource: DataSource, schema: string, batchSize: number): Promise<number> {
    return dataSource.transaction(async (manager) => {
      const rows = (await manager.query(
        `SELECT id, subject, envelope, headers FROM ${ident(schema)}.outbox
          WHERE published_at IS NULL ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [batchSize],
      )) as OutboxRow[];
      if (rows.length === 0) return 0;
      const js = this.options.jetstream();
      // Published in order on one connection, acknowledged asynchronously. Only the run of rows
      // up to the first failure is marked: the rest are published again on the next pass (as
      // duplicates JetStream drops), so the stream's order follows the outbox's.
      const results = await Promise.allSettled(rows.map((row) => this.publish(js, row)));
      const firstFailure = results.findIndex((r) => r.status === 'rejected');
      const published = (firstFailure === -1 ? rows : rows.slice(0, firstFailure)).map((r) => r.id);
      const failure =
        firstFailure === -1 ? undefined : (results[firstFailure] as PromiseRejectedResult);
      if (published.length > 0) {
        await manager.query(
          `UPDATE ${ident(schema)}.outbox SET published_at = now() WHERE id = ANY($1::uuid[])`,
          [published],
        );
      }
      if (failure) {
        this.options.logger.warn(
          { err: failure.reason, unpublished: rows.length - published.length },
          'outbox relay: publish failed; will retry',
        );
      }
      return published.length;
    });
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
        await js.publish(subject, this.encoder.encode(JSON.stringify(row.envelope)), {
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
      if (published === 0 && !this.stopping) await this.sleep(backoff);
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
