// Raw baselines, measured in the same run as the scenarios they are compared with.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { AckPolicy, connect, DeliverPolicy } from 'nats';
import pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { createRequire } from 'node:module';
import { natsPassword } from '../scripts/lib/nats-users.cjs';
import { closedLoop, openLoop, round, sequential, summarise } from './lib/measure.mjs';

const require = createRequire(import.meta.url);
const seconds = Number(process.env.BENCH_SECONDS || 3);
// noAsyncTraces as the services and the typed client connect: no stack trace built per request.
const natsUser = (user) => ({
  user,
  pass: natsPassword(user),
  inboxPrefix: `_INBOX_${user}`,
  noAsyncTraces: true,
});

export async function natsEcho(stack) {
  // Subjects and users that the repository's NATS configuration permits: ops calls, consent answers.
  const subject = `${stack.subjectPrefix}.rpc.ops.consent.bench.echo`;
  const child = spawn(
    process.execPath,
    [
      new URL('./echo-server.mjs', import.meta.url).pathname,
      stack.natsUrl,
      subject,
      'consent',
      natsPassword('consent'),
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  await new Promise((resolve) => child.stdout.once('data', resolve));
  const nc = await connect({ servers: stack.natsUrl, ...natsUser('ops') });
  const body = new TextEncoder().encode(JSON.stringify({ payload: 'x'.repeat(64) }));
  const call = () => nc.request(subject, body, { timeout: 5000 });
  // The same echo through the typed client's reply multiplexer (no per-request stack traces),
  // so a scenario's ratio can also be read against a caller as lean as its own.
  const { RequestMux } = require('../dist/libs/contracts/src/index.js');
  const mux = new RequestMux(nc, '_INBOX_ops');
  const muxCall = () => mux.request(subject, body, 5000);
  try {
    const seq = await sequential(call);
    const concurrent = await closedLoop(call, { concurrency: 64, seconds });
    const fixedRate = await openLoop(call, { rate: concurrent.throughput / 2 });
    const concurrentMux = await closedLoop(muxCall, { concurrency: 64, seconds });
    // And its p99 at the same fixed rate: the stricter latency baseline (no per-request timer or
    // error object in the caller, as in the typed client).
    const fixedRateMux = await openLoop(muxCall, { rate: fixedRate.rate });
    return {
      'nats.echo.sequential': seq,
      'nats.echo.concurrent64': concurrent,
      'nats.echo.fixedRate': fixedRate,
      'nats.echo.concurrent64.mux': concurrentMux,
      'nats.echo.fixedRate.mux': fixedRateMux,
    };
  } finally {
    mux.close();
    await nc.drain();
    child.kill('SIGTERM');
  }
}

export async function jetstreamRoundTrip(stack) {
  // A service user (JetStream API access) publishing on its own event subjects.
  const nc = await connect({ servers: stack.natsUrl, ...natsUser('retention') });
  const jsm = await nc.jetstreamManager();
  const stream = `${stack.subjectPrefix}_BENCH`.toUpperCase();
  const subject = `${stack.subjectPrefix}.retention.events.bench.roundtrip`;
  await jsm.streams.add({ name: stream, subjects: [subject] });
  await jsm.consumers.add(stream, {
    durable_name: 'bench',
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
  });
  const js = nc.jetstream();
  const consumer = await js.consumers.get(stream, 'bench');
  const messages = await consumer.consume({ max_messages: 256 });
  const waiting = new Map();
  (async () => {
    for await (const m of messages) {
      m.ack();
      waiting.get(m.headers?.get('bench-id'))?.();
    }
  })();
  let n = 0;
  const { headers } = await import('nats');
  const roundTrip = async () => {
    const id = String(n++);
    const arrived = new Promise((resolve) => waiting.set(id, resolve));
    const h = headers();
    h.set('bench-id', id);
    await js.publish(subject, new Uint8Array(128), { headers: h, msgID: `${stack.runId}-${id}` });
    await arrived;
    waiting.delete(id);
  };
  try {
    const seq = await sequential(roundTrip, { count: 1000, warmup: 100 });
    const concurrent = await closedLoop(roundTrip, { concurrency: 64, seconds });
    return {
      'jetstream.roundtrip.sequential': seq,
      'jetstream.roundtrip.concurrent64': concurrent,
    };
  } finally {
    await messages.close();
    await jsm.streams.delete(stream);
    await nc.drain();
  }
}

export async function postgres(stack) {
  // Synchronous commit on every pooled connection, not only the one a SET would reach.
  const pool = new pg.Pool({
    connectionString: stack.databaseUrl,
    max: 17,
    options: '-c synchronous_commit=on',
  });
  await pool.query(
    'CREATE TABLE bench_rows (id bigserial PRIMARY KEY, payload text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())',
  );
  try {
    const payload = 'x'.repeat(200);
    const single = await singleInsert16(stack);
    const batchValues = Array.from({ length: 100 }, (_, i) => `($${i + 1})`).join(',');
    const batchParams = Array.from({ length: 100 }, () => payload);
    const batched = await closedLoop(
      () => pool.query(`INSERT INTO bench_rows (payload) VALUES ${batchValues}`, batchParams),
      {
        concurrency: 16,
        seconds,
      },
    );
    const rows = Number(process.env.BENCH_COPY_ROWS || 300_000);
    await pool.query('TRUNCATE bench_rows');
    await pool.query(
      `INSERT INTO bench_rows (payload) SELECT md5(g::text) || repeat('x', 168) FROM generate_series(1, $1) g`,
      [rows],
    );
    const client = await pool.connect();
    const t0 = performance.now();
    const hash = createHash('sha256');
    try {
      const stream = client.query(
        copyStreams.to(
          'COPY (SELECT id, payload, created_at FROM bench_rows ORDER BY id) TO STDOUT',
        ),
      );
      for await (const chunk of stream) hash.update(chunk);
    } finally {
      client.release();
    }
    const copySeconds = (performance.now() - t0) / 1000;
    return {
      'postgres.insert.single16': single,
      'postgres.insert.batched16x100': { rowsPerSecond: batched.throughput * 100, concurrency: 16 },
      'postgres.copyOutSha256': {
        rowsPerSecond: round(rows / copySeconds, 0),
        rows,
        sha256: hash.digest('hex').slice(0, 16),
      },
    };
  } finally {
    await pool.query('DROP TABLE bench_rows');
    await pool.end();
  }
}

/**
 * The raw 16-client single-row insert rate (synchronous commit), on a table of its own: the run's
 * `postgres.insert.single16`, and measured again by a scenario right beside its own timed phase
 * (this machine's speed drifts within minutes).
 */
export async function singleInsert16(stack) {
  const pool = new pg.Pool({
    connectionString: stack.databaseUrl,
    max: 16,
    options: '-c synchronous_commit=on',
  });
  const table = `bench_single_${Date.now().toString(36)}`;
  await pool.query(
    `CREATE TABLE ${table} (id bigserial PRIMARY KEY, payload text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`,
  );
  try {
    const payload = 'x'.repeat(200);
    const single = await closedLoop(
      () => pool.query(`INSERT INTO ${table} (payload) VALUES ($1)`, [payload]),
      { concurrency: 16, seconds },
    );
    return { rowsPerSecond: single.throughput, concurrency: 16 };
  } finally {
    await pool.query(`DROP TABLE ${table}`);
    await pool.end();
  }
}

export { summarise };
