import { EVENT_BATCH_HEADER, eventDef, eventStreamName } from '@dsg/contracts';
import { appendEvent, appendEvents, createLogger, EventConsumer } from '@dsg/platform';
import { context, trace } from '@opentelemetry/api';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { type NatsConnection } from 'nats';
import { Writable } from 'node:stream';
import { DataSource } from 'typeorm';
import { e2eEnv, runtimeDataSource } from './support/e2e-env';
import { connectAs } from './support/nats-users';
import { PrivateNats } from './support/private-nats';
import { ServiceProcess } from './support/service-process';

const Counted = eventDef<{ n: number }>('consent', 'test.counted', 1);
const CountedV2 = eventDef<{ n: number; extra: string }>('consent', 'test.counted', 2);
/** The same events published in batches (as the register's disclosure events are). */
const BatchedCounted = eventDef<{ n: number }>('consent', 'test.counted', 1, undefined, {
  batched: true,
});
const BatchedCountedV2 = eventDef<{ n: number; extra: string }>(
  'consent',
  'test.counted',
  2,
  undefined,
  { batched: true },
);

async function until(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 60_000,
) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Durable events end to end: the consent service's relay publishes what the test commits to
 * consent's outbox (as consent's runtime role, as the service itself would), and a consumer
 * keeping its inbox in the retention schema receives them — on a private NATS that the test
 * restarts, with the relay's process killed and restarted in the middle.
 */
describe('transactional outbox, relay and inbox', () => {
  const env = e2eEnv();
  let nats: PrivateNats;
  let relay: ServiceProcess;
  let writer: DataSource;
  let inboxDb: DataSource;
  let consumerConnection: NatsConnection;
  let consumer: EventConsumer;
  const received: string[] = [];
  /** The trace each event was processed in (its traceId), by event id. */
  const tracedIn = new Map<string, string | undefined>();
  const logLines: string[] = [];

  const startRelay = async () => {
    relay = await ServiceProcess.start('consent', {
      NATS_URL: nats.url,
      OUTBOX_POLL_INTERVAL_MS: '20',
    });
    await relay.waitReady();
  };
  const append = (count: number, def = Counted) =>
    writer.transaction(async (manager) => {
      const ids: string[] = [];
      for (let i = 0; i < count; i++)
        ids.push((await appendEvent(manager, 'consent', def as typeof Counted, { n: i })).id);
      return ids;
    });

  // Tracing in this process (context propagation and W3C headers), so that the trace each event
  // is processed in can be checked.
  const tracing = new NodeSDK({
    spanProcessors: [new SimpleSpanProcessor(new InMemorySpanExporter())],
    instrumentations: [],
  });

  beforeAll(async () => {
    tracing.start();
    nats = await PrivateNats.start();
    await startRelay();
    writer = await runtimeDataSource('consent', 12).initialize();
    inboxDb = await runtimeDataSource('retention', 12).initialize();
    consumerConnection = await connectAs(nats.url, 'retention', {
      maxReconnectAttempts: -1,
      reconnectTimeWait: 100,
    });
    const logger = createLogger({
      service: 'test-consumer',
      instanceId: 'test',
      level: 'info',
      destination: new Writable({
        write(chunk: Buffer, _enc, done) {
          logLines.push(chunk.toString());
          done();
        },
      }),
    });
    consumer = new EventConsumer({
      connection: consumerConnection,
      dataSource: inboxDb,
      schema: 'retention',
      durable: 'outbox-e2e',
      stream: eventStreamName(env.subjectPrefix, 'consent'),
      subjectPrefix: env.subjectPrefix,
      filterSubject: 'consent.events.test.>',
      handlers: {
        'test.counted': {
          1: async (event) => {
            received.push(event.id);
            tracedIn.set(event.id, trace.getSpan(context.active())?.spanContext().traceId);
          },
        },
      },
      logger,
      ackWaitMs: 2000,
    });
    await consumer.start();
  }, 60_000);

  afterAll(async () => {
    await consumer?.stop();
    await consumerConnection?.close();
    await relay?.stop('SIGKILL');
    await writer?.destroy();
    await inboxDb?.destroy();
    await nats?.stop();
    await tracing.shutdown();
  });

  it('delivers every event exactly once though the relay is killed mid-stream and NATS restarts', async () => {
    const written: string[] = [];
    const before = received.length;
    for (let batch = 0; batch < 60; batch++) {
      written.push(...(await append(10)));
      if (batch === 15) {
        await relay.stop('SIGKILL');
        await startRelay();
      }
      if (batch === 35) await nats.restart();
      await new Promise((r) => setTimeout(r, 10));
    }
    await until(() => received.length - before >= written.length, `${written.length} deliveries`);
    await new Promise((r) => setTimeout(r, 1000)); // anything extra would arrive now
    const delivered = received.slice(before);
    expect(delivered).toHaveLength(written.length);
    expect(new Set(delivered)).toEqual(new Set(written));
    const [{ count }] = (await writer.query(
      'SELECT count(*)::int AS count FROM consent.outbox WHERE published_at IS NULL',
    )) as { count: number }[];
    expect(count).toBe(0);
  }, 120_000);

  it('publishes in the outbox order, each event once, with two relays running on one outbox', async () => {
    // A second replica of the service relays the same outbox (one relays at a time: a lock per
    // outbox, taken only if free); the events written one transaction after another still arrive
    // once each, in the order written.
    const second = await ServiceProcess.start('consent', {
      NATS_URL: nats.url,
      OUTBOX_POLL_INTERVAL_MS: '10',
    });
    try {
      await second.waitReady();
      const before = received.length;
      const written: string[] = [];
      for (let batch = 0; batch < 30; batch++) written.push(...(await append(20)));
      await until(() => received.length - before >= written.length, `${written.length} deliveries`);
      await new Promise((r) => setTimeout(r, 500)); // anything extra would arrive now
      expect(received.slice(before)).toEqual(written);
    } finally {
      await second.stop('SIGTERM');
    }
  }, 120_000);

  it('does not skip a row whose transaction commits after later rows were published', async () => {
    const runner = writer.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    try {
      const early = await appendEvent(runner.manager, 'consent', Counted, { n: 1 });
      const [late] = await append(1);
      await until(() => received.includes(late), 'the later row');
      expect(received).not.toContain(early.id);
      await runner.commitTransaction();
      await until(() => received.includes(early.id), 'the earlier row committed last');
    } finally {
      await runner.release();
    }
  });

  it('processes an event once when it reaches the consumer twice', async () => {
    const [id] = await append(1);
    await until(() => received.includes(id), 'the event');
    // Republished past JetStream's duplicate window (a new Nats-Msg-Id): only the inbox stops it.
    const [{ envelope, subject }] = (await writer.query(
      'SELECT envelope, subject FROM consent.outbox WHERE id = $1',
      [id],
    )) as { envelope: unknown; subject: string }[];
    // As the consent user: only the source service may publish its events.
    const publisher = await connectAs(nats.url, 'consent');
    const js = publisher.jetstream();
    const ack = await js.publish(
      `${env.subjectPrefix}.${subject}`,
      new TextEncoder().encode(JSON.stringify(envelope)),
      {
        msgID: `${id}-again`,
      },
    );
    expect(ack.duplicate).toBe(false);
    // The relay's Nats-Msg-Id (the row's id) makes a re-publish within the window a no-op.
    const again = await js.publish(
      `${env.subjectPrefix}.${subject}`,
      new TextEncoder().encode(JSON.stringify(envelope)),
      { msgID: id },
    );
    expect(again.duplicate).toBe(true);
    await publisher.close();
    const [marker] = await append(1);
    await until(() => received.includes(marker), 'a later event');
    expect(received.filter((r) => r === id)).toHaveLength(1);
  });

  it('relays a batch of events as one row and one message, and processes each event once, in its own trace, in order', async () => {
    const traceparent = (i: number) => `00-${String(i).padStart(32, 'a')}-${'b'.repeat(16)}-01`;
    const items = [0, 1, 2].map((n) => ({
      def: BatchedCounted,
      data: { n },
      headers: { traceparent: traceparent(n) },
    }));
    const envelopes = await writer.transaction((manager) =>
      appendEvents(manager, 'consent', [
        ...items,
        { def: BatchedCountedV2, data: { n: 3, extra: 'x' } },
      ]),
    );
    const ids = envelopes.slice(0, 3).map((e) => e.id);
    const rows = (await writer.query(
      `SELECT id, type, schema_version, headers, jsonb_array_length(envelope) AS events
         FROM consent.outbox WHERE envelope @> $1::jsonb`,
      [JSON.stringify([{ envelope: { id: ids[0] } }])],
    )) as { id: string; headers: Record<string, string>; events: number }[];
    expect(rows).toEqual([
      expect.objectContaining({
        schema_version: 1,
        headers: { [EVENT_BATCH_HEADER]: '3' },
        events: 3,
      }),
    ]);
    await until(() => ids.every((id) => received.includes(id)), 'the batch');
    const order = received.filter((r) => ids.includes(r));
    expect(order).toEqual(ids);
    expect(ids.map((id) => tracedIn.get(id))).toEqual(
      [0, 1, 2].map((n) => String(n).padStart(32, 'a')),
    );
    // The v2 event of the same batch went in a row of its own and was parked (no handler).
    await until(
      async () =>
        (
          (await inboxDb.query(
            `SELECT 1 FROM retention.inbox WHERE consumer = 'outbox-e2e' AND event_id = $1`,
            [envelopes[3].id],
          )) as unknown[]
        ).length === 1,
      'the v2 event parked',
    );

    // The same batch again under a new Nats-Msg-Id (past the duplicate window): the inbox stops
    // every event of it, and the message is acknowledged.
    const [{ envelope, subject }] = (await writer.query(
      'SELECT envelope, subject FROM consent.outbox WHERE id = $1',
      [rows[0].id],
    )) as { envelope: unknown; subject: string }[];
    const publisher = await connectAs(nats.url, 'consent');
    const h = (await import('nats')).headers();
    h.set(EVENT_BATCH_HEADER, '3');
    await publisher
      .jetstream()
      .publish(
        `${env.subjectPrefix}.${subject}`,
        new TextEncoder().encode(JSON.stringify(envelope)),
        {
          msgID: `${rows[0].id}-again`,
          headers: h,
        },
      );
    await publisher.close();
    const [marker] = await append(1);
    await until(() => received.includes(marker), 'a later event');
    for (const id of ids) expect(received.filter((r) => r === id)).toHaveLength(1);
  });

  it('refuses an unknown schema version loudly, keeps it, and goes on with the next event', async () => {
    const [unknown] = await append(1, CountedV2 as unknown as typeof Counted);
    const [next] = await append(1);
    await until(() => received.includes(next), 'the event after the refused one');
    expect(received).not.toContain(unknown);
    const parked = (await inboxDb.query(
      `SELECT outcome, reason, envelope FROM retention.inbox WHERE consumer = 'outbox-e2e' AND event_id = $1`,
      [unknown],
    )) as { outcome: string; reason: string; envelope: { schemaVersion: number } }[];
    expect(parked).toEqual([
      {
        outcome: 'refused',
        reason: 'no handler for test.counted v2',
        envelope: expect.objectContaining({ schemaVersion: 2 }),
      },
    ]);
    expect(logLines.some((l) => l.includes('"level":"error"') && l.includes(unknown))).toBe(true);
  });
});
