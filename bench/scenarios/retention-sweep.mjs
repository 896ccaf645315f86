// The retention service (issue 7): a sweep over 1,000,000 holdings of which 100,000 are due
// issues every purge item over JetStream, and the reference holder (the demo booking system, in
// this process as a holding system would be in its own) confirms, executes and acknowledges each;
// measured from the operator's request to the last acknowledgement recorded, in items per second,
// against the raw 16-client single-row insert rate measured right before and right after
// (target 1.5×, floor 0.4×). The holdings and the holder's appointments are seeded by SQL.
// The end is seen on the service's own purge.acknowledged events (read from JetStream, as any
// consumer would; each is published after the transaction that recorded its items committed), so
// watching costs the database nothing; the counts are checked in the database afterwards.
import { createRequire } from 'node:module';
import { connect } from 'nats';
import pg from 'pg';
import { natsPassword } from '../../scripts/lib/nats-users.cjs';
import { singleInsert16 } from '../baselines.mjs';
import { gatewaySigner } from '../lib/assertions.mjs';
import { round } from '../lib/measure.mjs';

const HOLDINGS = Number(process.env.BENCH_SWEEP_HOLDINGS || 1_000_000);
const DUE = Number(process.env.BENCH_SWEEP_DUE || 100_000);

export const name = 'retention.sweep';
const require = createRequire(import.meta.url);

export async function run(stack) {
  const {
    DsgClient,
    PurgeAcknowledgedEvent,
    eventStreamName,
    eventSubject,
  } = require('../../dist/libs/contracts/src/index.js');
  const { BookingHolder } = require('../../dist/apps/reference-holder/src/booking-holder.js');
  await Promise.all([stack.startService('gateway'), stack.startService('consent')]);
  await stack.startService('retention', { SWEEP_EVERY_MS: '0' });
  const db = new pg.Client({ connectionString: stack.databaseUrl });
  await db.connect();
  const pool = new pg.Pool({ connectionString: stack.databaseUrl, max: 4 });
  const booking = await DsgClient.connect({
    caller: 'booking',
    password: natsPassword('booking'),
    natsUrl: stack.natsUrl,
    subjectPrefix: stack.subjectPrefix,
    timeoutMs: 30_000,
  });
  const ops = await DsgClient.connect({
    caller: 'gateway',
    password: natsPassword('gateway'),
    natsUrl: stack.natsUrl,
    subjectPrefix: stack.subjectPrefix,
    retries: 0,
  });
  const holder = new BookingHolder({ client: booking, pool, subjectPrefix: stack.subjectPrefix });

  /** Resolves `all` once `count` items are announced done by purge.acknowledged events. */
  async function watchAcknowledged(count) {
    const nc = await connect({
      servers: stack.natsUrl,
      user: 'retention',
      pass: natsPassword('retention'),
      inboxPrefix: '_INBOX_retention',
    });
    const consumer = await nc
      .jetstream()
      .consumers.get(eventStreamName(stack.subjectPrefix, 'retention'), {
        // One subject as a string: an array asks for multiple filters, which nats-server 2.9
        // does not have (the consumer never delivers).
        filterSubjects: `${stack.subjectPrefix}.${eventSubject(PurgeAcknowledgedEvent)}`,
      });
    const messages = await consumer.consume();
    let done = 0;
    const all = new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${done} of ${count} items acknowledged in 15 minutes`)),
        15 * 60_000,
      );
      void (async () => {
        for await (const m of messages) {
          const body = m.json();
          for (const envelope of Array.isArray(body) ? body.map((b) => b.envelope) : [body]) {
            done += envelope.data.items.filter((i) => i.state === 'done').length;
          }
          if (done >= count) {
            clearTimeout(timer);
            resolve();
          }
        }
      })().catch(reject);
    });
    return { all, stop: () => nc.drain() };
  }
  try {
    await holder.init();
    const [{ version }] = (
      await db.query(
        'SELECT version FROM consent.policy_versions ORDER BY effective_date DESC LIMIT 1',
      )
    ).rows;
    // Holdings as the booking system would have declared them: the first DUE seven years past
    // their last encounter, the rest recent. Dated under the version in effect (RET-1).
    await db.query(
      `INSERT INTO retention.holdings
         (system, client_id, category, clocks, through, due_at, action, rule, reason,
          policy_version)
       SELECT 'booking', 'sweep-' || i, 'identifiers',
              jsonb_build_object('lastEncounter', to_char(t, 'YYYY-MM-DD"T"HH24:MI:SS"Z"')), t,
              t + interval '7 years', 'delete', 'RET-1', 'RET-1: P7Y after the last-encounter', $3
         FROM generate_series(1, $1::int) AS i,
              LATERAL (SELECT CASE WHEN i <= $2 THEN timestamptz '2015-01-01' + i * interval '1 second'
                                   ELSE timestamptz '2026-06-01' + i * interval '1 second' END AS t) c`,
      [HOLDINGS, DUE, version],
    );
    await db.query(
      `INSERT INTO reference_holder.appointments (client_id, starts_at, name, phone)
       SELECT 'sweep-' || i, timestamptz '2015-01-01' + i * interval '1 second', 'Client ' || i, '555'
         FROM generate_series(1, $1::int) AS i`,
      [DUE],
    );
    await db.query('VACUUM ANALYZE retention.holdings');
    await db.query('VACUUM ANALYZE reference_holder.appointments');
    await db.query('CHECKPOINT');
    await holder.start();

    const signer = await gatewaySigner(stack);
    const assertion = signer.sign('bench-operator', ['operator'], 'retention', 600);
    await signer.close();

    const before = await singleInsert16(stack);
    const acknowledged = await watchAcknowledged(DUE);
    const started = process.hrtime.bigint();
    const sweep = await ops.retention.sweepRun({}, { assertion });
    await acknowledged.all;
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    await acknowledged.stop();
    const after = await singleInsert16(stack);
    const [{ done }] = (
      await db.query("SELECT count(*)::int AS done FROM retention.purge_items WHERE state = 'done'")
    ).rows;
    if (done !== DUE) throw new Error(`${done} of ${DUE} purge items were acknowledged`);
    const [{ left }] = (
      await db.query('SELECT count(*)::int AS left FROM reference_holder.appointments')
    ).rows;
    // The sweep's own row says completed once it has issued its last batch (long before the last
    // acknowledgement); waited for all the same, as the check below reads it.
    for (let i = 0; i < 100; i++) {
      const { rows } = await db.query('SELECT state FROM retention.sweeps WHERE id = $1', [
        sweep.sweepId,
      ]);
      if (rows[0]?.state !== 'running') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const [{ state, issued, sweepSeconds }] = (
      await db.query(
        `SELECT state, issued, extract(epoch FROM finished_at - started_at)::float AS "sweepSeconds"
           FROM retention.sweeps WHERE id = $1`,
        [sweep.sweepId],
      )
    ).rows;
    if (left !== 0 || issued !== DUE || state !== 'completed') {
      throw new Error(`the sweep did not do its work: ${JSON.stringify({ left, issued, state })}`);
    }
    const rate = round(DUE / seconds, 0);
    const beside = round((before.rowsPerSecond + after.rowsPerSecond) / 2, 0);
    console.log(
      `    ${DUE} of ${HOLDINGS} holdings swept, issued, executed and acknowledged in ${round(seconds, 2)} s (the sweep itself issued them in ${round(sweepSeconds, 2)} s); single16 before ${before.rowsPerSecond}/s, after ${after.rowsPerSecond}/s`,
    );
    return [
      {
        metric: `sweep of ${DUE} due in ${HOLDINGS} holdings, items/s`,
        value: rate,
        baseline: 'single16 beside',
        baselineValue: beside,
        target: 1.5,
        floor: 0.4,
      },
    ];
  } finally {
    await holder.stop();
    await booking.close();
    await ops.close();
    await pool.end();
    await db.end();
  }
}
