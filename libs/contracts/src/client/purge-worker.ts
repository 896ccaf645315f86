import type { ConsumerMessages, JsMsg } from 'nats';
import type { EventEnvelope } from '../events';
import { purgeConsumerName, purgeStreamName } from '../events';
import {
  MAX_PURGE_ITEMS,
  type PurgeAck,
  type PurgeCommand,
  type PurgeItem,
} from '../retention/purges.dto';
import type { DsgClient } from './dsg-client';

/** What a holder did with one confirmed item: done (with what) or failed (with why). */
export type PurgeOutcome = Omit<PurgeAck, 'itemId'>;

export interface PurgeWorkerOptions {
  /** Connected as the holding system's own NATS user (its name is the system). */
  client: DsgClient;
  system: string;
  /** The deployment's subject prefix (NATS_SUBJECT_PREFIX), as the client's. */
  subjectPrefix: string;
  /**
   * Executes items the retention service confirmed, and says per item what was done. It must be
   * safe to run again for the same item (a command may be delivered twice); what it says is shown
   * to operators: never personal data in `detail`.
   */
  execute: (items: PurgeItem[], command: PurgeCommand) => Promise<Map<string, PurgeOutcome>>;
  /** Commands handled at once (default 1); JetStream hands out twice as many. */
  concurrency?: number;
  /** Told of a command that could not be handled now (it is delivered again later). */
  onError?: (err: unknown) => void;
}

/**
 * How a holding system takes purge commands (issue 7): it pulls them from its durable consumer
 * (`purges-<system>` on `<PREFIX>_RETENTION_PURGES`), confirms each command's items just before
 * executing them (the retention service refuses an item a legal hold covers now, RET-6, or one no
 * longer due), executes the confirmed ones, acknowledges each with what was done, and only then
 * acknowledges the message. A command that fails on the way is delivered again; items already
 * acknowledged are refused at confirmation (ALREADY_DONE), so nothing is done twice.
 */
export class PurgeWorker {
  private messages?: ConsumerMessages;
  private loop?: Promise<void>;

  constructor(private readonly options: PurgeWorkerOptions) {}

  async start(): Promise<void> {
    const { client, subjectPrefix, system } = this.options;
    const consumer = await client.connection
      .jetstream()
      .consumers.get(purgeStreamName(subjectPrefix), purgeConsumerName(system));
    const concurrency = this.options.concurrency ?? 1;
    this.messages = await consumer.consume({ max_messages: 2 * concurrency });
    const messages = this.messages;
    const inFlight = new Set<Promise<void>>();
    this.loop = (async () => {
      for await (const msg of messages) {
        const handled = this.handle(msg).then(
          () => msg.ack(),
          (err: unknown) => {
            this.options.onError?.(err);
            msg.nak(1000);
          },
        );
        inFlight.add(handled);
        void handled.finally(() => inFlight.delete(handled));
        if (inFlight.size >= concurrency) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
    })();
  }

  async stop(): Promise<void> {
    await this.messages?.close();
    await this.loop;
  }

  private async handle(msg: JsMsg): Promise<void> {
    const envelope = msg.json<EventEnvelope<PurgeCommand>>();
    const command = envelope.data;
    const { client } = this.options;
    for (let i = 0; i < command.items.length; i += MAX_PURGE_ITEMS) {
      const items = command.items.slice(i, i + MAX_PURGE_ITEMS);
      const { items: answers } = await client.retention.purgeConfirm({
        itemIds: items.map((item) => item.itemId),
      });
      const go = new Set(answers.filter((a) => a.proceed).map((a) => a.itemId));
      const confirmed = items.filter((item) => go.has(item.itemId));
      if (confirmed.length === 0) continue;
      const outcomes = await this.options.execute(confirmed, command);
      await client.retention.purgeAck({
        items: confirmed.map((item) => ({
          itemId: item.itemId,
          ...(outcomes.get(item.itemId) ?? {
            outcome: 'failed' as const,
            detail: 'the holder gave no outcome for this item',
          }),
        })),
      });
    }
  }
}
