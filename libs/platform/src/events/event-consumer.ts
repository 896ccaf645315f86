import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import {
  EVENT_BATCH_HEADER,
  type EventBatchItem,
  type EventEnvelope,
  extractTraceContext,
  inSpan,
  qualifySubject,
  SpanKind,
} from '@dsg/contracts';
import {
  AckPolicy,
  type ConsumerMessages,
  DeliverPolicy,
  type JsMsg,
  nanos,
  type NatsConnection,
} from 'nats';
import type { DataSource, EntityManager } from 'typeorm';
import { ident } from '../database/migration-helpers';
import type { Logger } from '../logging/logger';
import { isNotFound } from './jetstream';

/**
 * Handles one event inside the transaction that records it. It may return work to run after the
 * commit (and before the acknowledgement), and may throw EventRefusedError for an event it can
 * never process (its data breaks the contract): that event is parked like an unknown type.
 */
export type EventHandler = (
  event: EventEnvelope,
  manager: EntityManager,
) => Promise<void | (() => Promise<void>)>;

/** Thrown by a handler for an event that redelivery could never make acceptable. */
export class EventRefusedError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'EventRefusedError';
  }
}

/**
 * An event's data as its contract class, or a refusal (the event is parked) naming the fields
 * that break it, never their values.
 */
export function eventData<T extends object>(cls: new () => T, event: EventEnvelope): T {
  const data = plainToInstance(cls, event.data ?? {});
  const errors =
    typeof event.data === 'object' && event.data !== null && !Array.isArray(event.data)
      ? validateSync(data, { whitelist: true, forbidNonWhitelisted: true })
      : [{ property: 'data' }];
  if (errors.length > 0) {
    throw new EventRefusedError(
      `data breaks the ${cls.name} contract: ${errors.map((e) => e.property).join(', ')}`,
    );
  }
  return data;
}

/** Handlers by event type, then by schema version. A missing entry is a refusal, not a guess. */
export type EventHandlers = Record<string, Record<number, EventHandler>>;

export interface EventConsumerOptions {
  connection: NatsConnection;
  dataSource: DataSource;
  /** Schema whose inbox records what this consumer has seen. */
  schema: string;
  /** Durable consumer name; also the inbox's `consumer` column. */
  durable: string;
  stream: string;
  subjectPrefix: string;
  /** Subjects (relative to the prefix) this consumer takes from the stream. */
  filterSubject: string;
  handlers: EventHandlers;
  logger: Logger;
  /** How long JetStream waits for an ack before redelivering. */
  ackWaitMs?: number;
}

/**
 * A durable JetStream consumer that processes each event exactly once in effect: the handler runs
 * in a database transaction that also records the event in the inbox, and the inbox's primary key
 * turns any redelivery into a no-op. An event of a type or version without a handler is refused
 * loudly (error log) and parked in the inbox with its envelope, then acknowledged: it is not lost,
 * and it does not block the events behind it. A handler that throws rolls back and the event is
 * redelivered after a delay.
 */
export class EventConsumer {
  private messages?: ConsumerMessages;
  private running?: Promise<void>;
  private readonly decoder = new TextDecoder();

  constructor(private readonly options: EventConsumerOptions) {}

  async start(): Promise<void> {
    const { connection, stream, durable } = this.options;
    const jsm = await connection.jetstreamManager();
    const config = {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: qualifySubject(this.options.subjectPrefix, this.options.filterSubject),
      ack_wait: nanos(this.options.ackWaitMs ?? 30_000),
      max_ack_pending: 1000,
    };
    try {
      await jsm.consumers.info(stream, durable);
      await jsm.consumers.update(stream, durable, {
        filter_subject: config.filter_subject,
        ack_wait: config.ack_wait,
        max_ack_pending: config.max_ack_pending,
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await jsm.consumers.add(stream, config);
    }
    const consumer = await connection.jetstream().consumers.get(stream, durable);
    this.messages = await consumer.consume({ max_messages: 100 });
    const messages = this.messages;
    this.running = (async () => {
      for await (const msg of messages) await this.handle(msg);
    })();
  }

  async stop(): Promise<void> {
    await this.messages?.close();
    await this.running?.catch(() => undefined);
  }

  /**
   * A message carries one event, or several of one type (EVENT_BATCH_HEADER: a batch committed
   * together). Each event is processed on its own, in its own transaction and inbox row, in the
   * trace of the request that made it; the message is acknowledged once all are. If one fails,
   * the message is redelivered, and the events already processed are skipped by the inbox.
   */
  private async handle(msg: JsMsg): Promise<void> {
    const { logger, durable } = this.options;
    const items = this.read(msg);
    if (!items) {
      logger.error(
        { consumer: durable, subject: msg.subject, seq: msg.seq },
        'event refused: unreadable envelope',
      );
      msg.term(); // stays in the stream for inspection; redelivery could never succeed
      return;
    }
    let current: EventEnvelope | undefined;
    try {
      for (const { envelope, headers } of items) {
        current = envelope;
        const handler: EventHandler | undefined =
          this.options.handlers[envelope.type]?.[envelope.schemaVersion];
        await inSpan(
          `${envelope.type} process`,
          SpanKind.CONSUMER,
          {
            'messaging.system': 'nats',
            'messaging.destination.name': msg.subject,
            'messaging.consumer.group.name': durable,
          },
          () => this.process(envelope, handler),
          extractTraceContext(headers ?? msg.headers),
        );
      }
      msg.ack();
    } catch (err) {
      logger.warn(
        { err, consumer: durable, eventId: current?.id, type: current?.type },
        'event handler failed; will retry',
      );
      msg.nak(5000);
    }
  }

  /** The message's events (with their own trace headers when batched), or undefined if unreadable. */
  private read(
    msg: JsMsg,
  ): { envelope: EventEnvelope; headers?: Record<string, string> }[] | undefined {
    try {
      const data = JSON.parse(this.decoder.decode(msg.data)) as unknown;
      const items = msg.headers?.get(EVENT_BATCH_HEADER)
        ? (data as EventBatchItem[])
        : [{ envelope: data as EventEnvelope, headers: undefined }];
      if (!Array.isArray(items) || items.length === 0) return undefined;
      const readable = items.every(
        (item) =>
          isEnvelope(item?.envelope) &&
          (item.headers === undefined || (typeof item.headers === 'object' && item.headers)),
      );
      return readable ? items : undefined;
    } catch {
      return undefined;
    }
  }

  /** The inbox row and the handler's work commit together, or neither does. */
  private async process(envelope: EventEnvelope, handler: EventHandler | undefined): Promise<void> {
    const { logger, durable } = this.options;
    const inbox = `${ident(this.options.schema)}.inbox`;
    const afterCommit = await this.options.dataSource.transaction(async (manager) => {
      const [seen] = (await manager.query(
        `SELECT 1 FROM ${inbox} WHERE consumer = $1 AND event_id = $2`,
        [durable, envelope.id],
      )) as unknown[];
      if (seen) return undefined; // seen before: a redelivery or a republish
      let refusal: string | undefined = handler
        ? undefined
        : `no handler for ${envelope.type} v${envelope.schemaVersion}`;
      let after: void | (() => Promise<void>) = undefined;
      if (handler) {
        await manager.query('SAVEPOINT dsg_event_handler');
        try {
          after = await handler(envelope, manager);
        } catch (err) {
          if (!(err instanceof EventRefusedError)) throw err;
          await manager.query('ROLLBACK TO SAVEPOINT dsg_event_handler');
          refusal = err.message;
        }
      }
      const recorded = (await manager.query(
        `INSERT INTO ${inbox} (consumer, event_id, type, schema_version, outcome, reason, envelope)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (consumer, event_id) DO NOTHING
           RETURNING event_id`,
        [
          durable,
          envelope.id,
          envelope.type,
          envelope.schemaVersion,
          refusal ? 'refused' : 'processed',
          refusal ?? null,
          refusal ? envelope : null,
        ],
      )) as unknown[];
      // Processed by a concurrent delivery meanwhile: undo this one's work.
      if (recorded.length === 0) throw new Error('event processed concurrently');
      if (refusal) {
        logger.error(
          {
            consumer: durable,
            eventId: envelope.id,
            type: envelope.type,
            schemaVersion: envelope.schemaVersion,
            reason: refusal,
          },
          'event refused; parked in the inbox',
        );
      }
      return after;
    });
    if (afterCommit) await afterCommit();
  }
}

function isEnvelope(value: unknown): value is EventEnvelope {
  const envelope = value as EventEnvelope | undefined;
  return (
    typeof envelope?.id === 'string' &&
    typeof envelope.type === 'string' &&
    Number.isInteger(envelope.schemaVersion)
  );
}
