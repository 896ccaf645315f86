import {
  EVENT_BATCH_HEADER,
  extractTraceContext,
  injectTraceContext,
  inSpan,
  qualifySubject,
  RequestMux,
  SpanKind,
} from '@dsg/contracts';
import { context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { headers as natsHeaders, type NatsConnection } from 'nats';
import type { DataSource } from 'typeorm';
import { holdConnection } from '../database/connection';
import { ident } from '../database/migration-helpers';
import type { Logger } from '../logging/logger';

export interface OutboxRelayOptions {
  dataSource: DataSource;
  /** The service's NATS connection (JetStream publishes are requests on it). */
  connection: () => NatsConnection;
  /** The inbox prefix the service's NATS user may subscribe to (its PubAcks arrive there). */
  inboxPrefix: string;
  schema: string;
  subjectPrefix: string;
  logger: Logger;
  pollIntervalMs: number;
  batchSize: number;
  /**
   * After a pass that found rows but fewer than a batch, the relay waits this long before the
   * next (OUTBOX_GATHER_MS), so that under a steady stream it publishes batches, not
   * a row or two a pass: every pass is two round trips to the database and a commit whatever it
   * carries (measured on the register at 8,000 disclosures/s: 10 ms passes cost about 3% of its
   * throughput against 50 ms ones). It is the longest an event waits for the relay under load.
   */
  gatherMs: number;
}

/** How long a publish waits for JetStream's acknowledgement. */
const PUBLISH_TIMEOUT_MS = 5000;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface OutboxRow {
  id: string;
  subject: string;
  /** The envelope's JSON text, published as it is. */
  envelope: string;
  headers: Record<string, string>;
}

/**
 * Publishes committed outbox rows to JetStream. Each pass takes the oldest unpublished rows,
 * publishes them with Nats-Msg-Id = row id, and marks the acknowledged ones published in the same
 * transaction. There is no "last published" cursor: a row whose transaction commits after later
 * rows were published is simply unpublished on the next pass, so nothing is skipped. A crash
 * between the PubAck and the commit republishes the row: JetStream drops it as a duplicate within
 * its window, and consumers' inboxes drop it after that. Every replica runs a relay, but one
 * relays at a time: a pass runs under a transaction-level advisory lock of the service's outbox,
 * taken only if it is free (the others' passes find nothing to do). So the stream's order follows
 * the outbox's across replicas, and no row needs a lock of its own (a row lock is a write).
 */
export class OutboxRelay {
  private running?: Promise<void>;
  private stopping = false;
  private wake?: () => void;
  private readonly encoder = new TextEncoder();
  private readonly decoder = new TextDecoder();
  private mux?: { on: NatsConnection; mux: RequestMux };

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
    this.mux?.mux.close();
    this.mux = undefined;
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
   * Two round trips: the transaction begins with the SELECTs that take the relay's lock and read
   * the rows, and the UPDATE that marks them published ends with the COMMIT (simple-protocol
   * statements, so the ids are written into the UPDATE; they are UUIDs the database gave, checked
   * as such).
   */
  private async pass(dataSource: DataSource, schema: string, batchSize: number): Promise<number> {
    // ident refuses anything but [a-z0-9_], so the schema is also safe inside the literal below.
    const table = `${ident(schema)}.outbox`;
    const { client, release } = await holdConnection(dataSource);
    let destroy = false;
    try {
      // The lock is taken by a statement of its own, so the rows are read on a snapshot taken
      // after it: every earlier pass (of any replica) has committed by then, and what it
      // published is not read as unpublished. Its outcome goes to the next statement as a
      // transaction-local setting (all in one round trip).
      const results = (await client.query(
        `BEGIN;
         SELECT set_config('dsg.outbox_relay_locked',
                           pg_try_advisory_xact_lock(hashtext('${schema}.outbox-relay'))::text, true);
         SELECT id, subject, envelope::text AS envelope, headers FROM ${table}
          WHERE published_at IS NULL AND current_setting('dsg.outbox_relay_locked') = 'true'
          ORDER BY seq LIMIT ${Number(batchSize)}`,
      )) as unknown as { rows: OutboxRow[] }[];
      const rows = results[2].rows;
      if (rows.length === 0) {
        await client.query('COMMIT');
        return 0;
      }
      const mux = this.requests();
      // Published in order on one connection, acknowledged asynchronously. Only the run of rows
      // up to the first failure is marked: the rest are published again on the next pass (as
      // duplicates JetStream drops), so the stream's order follows the outbox's.
      const outcomes = await Promise.allSettled(rows.map((row) => this.publish(mux, row)));
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

  /**
   * A JetStream publish is a request to the stream's subject answered with a PubAck; they are
   * made through a RequestMux (one inbox subscription, no per-request stack capture, which
   * nats.js's own publish makes for every message) on the service's connection.
   */
  private requests(): RequestMux {
    const nc = this.options.connection();
    if (this.mux?.on !== nc) {
      this.mux?.mux.close();
      this.mux = { on: nc, mux: new RequestMux(nc, this.options.inboxPrefix) };
    }
    return this.mux.mux;
  }

  private async publish(mux: RequestMux, row: OutboxRow): Promise<void> {
    const subject = qualifySubject(this.options.subjectPrefix, row.subject);
    await inSpan(
      `${row.subject} publish`,
      SpanKind.PRODUCER,
      {
        'messaging.system': 'nats',
        'messaging.destination.name': subject,
        'messaging.message.id': row.id,
        ...(row.headers?.[EVENT_BATCH_HEADER]
          ? { 'messaging.batch.message_count': row.headers[EVENT_BATCH_HEADER] }
          : {}),
      },
      async () => {
        const h = natsHeaders();
        for (const [key, value] of Object.entries(row.headers ?? {})) h.set(key, value);
        injectTraceContext(h);
        h.set('Nats-Msg-Id', row.id);
        const ack = await mux.request(
          subject,
          this.encoder.encode(row.envelope),
          PUBLISH_TIMEOUT_MS,
          h,
        );
        const reply = JSON.parse(this.decoder.decode(ack.data)) as {
          error?: { code?: number; err_code?: number; description?: string };
          seq?: number;
        };
        if (reply.error || typeof reply.seq !== 'number') {
          throw new Error(
            `JetStream refused the event: ${reply.error?.description ?? 'no acknowledgement'} (${reply.error?.err_code ?? reply.error?.code ?? 'no code'})`,
          );
        }
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
        await this.sleep(this.options.gatherMs);
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
