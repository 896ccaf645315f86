// The disclosure register (issue 5): `disclose` with 64 concurrent callers, each entry checked
// (recipient rules and the consent service's decision) and durably committed before its receipt,
// against the raw 16-client single-row insert rate of the same run (target 0.5×, floor 0.3×;
// p99 at most 25 ms); then `verify` of 1,000,000 entries against a bare COPY … TO STDOUT with
// SHA-256 of the same rows (target: at most 3× its time). The insert rate is also measured right
// before and right after the disclose phase, and the ratio given against their mean as well as
// against the run's opening baseline: on this machine the rate drifts by half within minutes.
// For information, the p99 at a fixed offered rate (the floor's) follows.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { once } from 'node:events';
import pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { singleInsert16 } from '../baselines.mjs';
import { gatewaySigner } from '../lib/assertions.mjs';
import { closedLoop, openLoop, round } from '../lib/measure.mjs';

const seconds = Number(process.env.BENCH_SECONDS || 3);
const verifyEntries = Number(process.env.BENCH_VERIFY_ENTRIES || 1_000_000);
const SUBJECTS = 500;

export const name = 'register.disclose';
const require = createRequire(import.meta.url);

export async function run(stack, baselines) {
  // The gateway too: exports are for people (an auditor's assertion, checked with its keys).
  const [, , register] = await Promise.all([
    stack.startService('gateway'),
    stack.startService('consent'),
    stack.startService('disclosure-register'),
  ]);
  const client = await stack.opsClient({ timeoutMs: 10_000 });
  const db = new pg.Client({ connectionString: stack.databaseUrl });
  await db.connect();
  try {
    for (let s = 0; s < SUBJECTS; s++) {
      await client.consent.subjectUpsert({ clientId: `bench-${s}`, dateOfBirth: '1980-05-05' });
    }
    let n = 0;
    const disclose = () => {
      const i = n++;
      return client.disclosureRegister.disclose(
        {
          clientId: `bench-${i % SUBJECTS}`,
          recipientId: 'cherry',
          purpose: 'payments-and-memberships',
          legalBasis: 'payment',
          categories: ['identifiers.name', 'payment.financing'],
          description: 'Financing application: name and requested amount',
        },
        { idempotencyKey: `bench-${stack.runId}-${i}` },
      );
    };
    // The WAL that the baselines and earlier scenarios wrote would otherwise set off a checkpoint
    // inside the timed phase (PostgreSQL's log showed one of 8 s there). That run's p99 was
    // 270 ms, but the next, checkpointed first, still had 160 ms: the checkpoint is not the
    // whole of such tails.
    await db.query('CHECKPOINT');
    const before = await singleInsert16(stack);
    const loop = await closedLoop(disclose, { concurrency: 64, seconds });
    const after = await singleInsert16(stack);
    console.log(
      `    single16 right before ${before.rowsPerSecond}/s, right after ${after.rowsPerSecond}/s`,
    );
    const rows = [
      {
        metric: '64-concurrent disclosures/s',
        value: loop.throughput,
        baseline: 'postgres.insert.single16',
        baselineValue: baselines['postgres.insert.single16'].rowsPerSecond,
      },
      {
        metric: '64-concurrent disclosures/s',
        value: loop.throughput,
        baseline: 'single16 beside it (mean of before, after)',
        baselineValue: round((before.rowsPerSecond + after.rowsPerSecond) / 2, 0),
      },
      {
        metric: 'disclose p99 ms (64 concurrent)',
        value: loop.p99,
        baseline: 'issue target (ms)',
        baselineValue: 25,
      },
    ];
    // Not the measure, for the reader: the latency a caller sees when disclosures are
    // offered at a fixed rate, the floor's (0.3× the insert rate beside), from their scheduled
    // time (open loop, as consent.decision.check's p99 is taken).
    const floorRate = 0.3 * ((before.rowsPerSecond + after.rowsPerSecond) / 2);
    const fixed = await openLoop(disclose, { rate: floorRate });
    rows.push({
      metric: `information: disclose p99 ms at a fixed ${round(floorRate, 0)}/s (${fixed.failed} failed)`,
      value: fixed.p99,
      baseline: 'issue target (ms)',
      baselineValue: 25,
    });
    rows.push(...(await verifyAgainstCopy(stack, db, client)));
    rows.push(...(await exportAgainstCopy(stack, db, client, register)));
    return rows;
  } finally {
    await db.end();
    await client.close();
  }
}

/** Seeds entries straight into the log (as a restore would), then times COPY and `verify`. */
async function verifyAgainstCopy(stack, db, client) {
  console.log(`  seeding ${verifyEntries} register entries …`);
  // Entries shaped as the register writes them (a leaf of ~450 bytes of canonical JSON, personal
  // details apart with their salted commitment), at the next positions, hashed as RFC 9162 says.
  await db.query(
    `WITH start AS (SELECT coalesce(max(position) + 1, 0) AS p FROM disclosure_register.entries),
          base AS (
            SELECT start.p + g AS position, gen_random_uuid() AS entry_id,
                   decode(md5(random()::text), 'hex') AS salt,
                   '{"clientId":"bench-' || (g % 500) || '","description":"Financing application: name and requested amount"}' AS details
              FROM start, generate_series(0, $1 - 1) g),
          leaves AS (
            SELECT base.*,
                   '{"caller":"bench","categories":["identifiers.name","payment.financing"],"decision":"ALLOW","details":"'
                   || encode(sha256(salt || convert_to(details, 'UTF8')), 'hex')
                   || '","entryId":"' || entry_id || '","legalBasis":"payment","policyVersion":"1.0.0","position":'
                   || position || ',"purpose":"payments-and-memberships","reasons":["POL-1","POL-2","HIP-4","HIP-5","CCP-2"],'
                   || '"recipient":{"id":"cherry","version":1},"recordedAt":"2026-11-26T00:00:00.000Z","type":"disclosure","v":1}' AS leaf
              FROM base)
     INSERT INTO disclosure_register.entries
            (position, entry_id, leaf, leaf_hash, details, salt, recorded_at, recipient_id, client_id)
     SELECT position, entry_id, leaf, sha256('\\x00'::bytea || convert_to(leaf, 'UTF8')), details::json, salt, now(),
            'cherry', details::json ->> 'clientId'
       FROM leaves`,
    [verifyEntries],
  );
  await db.query('VACUUM ANALYZE disclosure_register.entries');
  const { rows } = await db.query('SELECT count(*)::int AS n FROM disclosure_register.entries');
  const total = rows[0].n;
  // The register seals what was seeded (a run of heads) on its own; timed beside that one-off
  // seal, both COPY and verify would measure it too. Verify then also checks those heads.
  const sealDeadline = Date.now() + 300_000;
  for (;;) {
    const { rows: heads } = await db.query(
      'SELECT coalesce(max(tree_size), 0)::int AS n FROM disclosure_register.tree_heads',
    );
    if (heads[0].n >= total) break;
    if (Date.now() > sealDeadline) throw new Error('the register did not seal the seeded entries');
    await new Promise((r) => setTimeout(r, 200));
  }
  await db.query('CHECKPOINT');

  const copy = new pg.Client({ connectionString: stack.databaseUrl });
  await copy.connect();
  const t0 = performance.now();
  const hash = createHash('sha256');
  try {
    const stream = copy.query(
      copyStreams.to(
        'COPY (SELECT position, leaf, leaf_hash, details, salt FROM disclosure_register.entries ORDER BY position) TO STDOUT',
      ),
    );
    for await (const chunk of stream) hash.update(chunk);
  } finally {
    await copy.end();
  }
  const copySeconds = (performance.now() - t0) / 1000;

  const t1 = performance.now();
  const result = await client.disclosureRegister.verify({}, { timeoutMs: 600_000 });
  const verifySeconds = (performance.now() - t1) / 1000;
  if (result.result !== 'valid' || result.entries !== total) {
    throw new Error(`verify did not accept the seeded log: ${JSON.stringify(result)}`);
  }
  console.log(
    `    ${total} entries: COPY + SHA-256 ${round(copySeconds, 2)} s, verify ${round(verifySeconds, 2)} s`,
  );
  // A million rows of WAL would otherwise be checkpointed during the next scenario's timing.
  await db.query('CHECKPOINT');
  return [
    {
      metric: `verify of ${total} entries, s`,
      value: round(verifySeconds, 3),
      baseline: 'COPY + SHA-256 of the same rows, s',
      baselineValue: round(copySeconds, 3),
    },
  ];
}

/**
 * Issue 6: the whole register (the million seeded entries and the rest) exported as CSV, its
 * manifest over NATS and its lines streamed over HTTP, against a bare COPY … TO STDOUT of the
 * same rows (target: at least 0.5× its rate, the register's peak memory under 256 MB). Both are
 * measured to the client, which counts the bytes; the export is then fetched again into a file
 * (reported as information: the file's writes cost the client as much again), and that file
 * verified offline (target: at least 0.3× the COPY rate). The register is restarted first, so
 * its peak memory is the exports', not what the phases before it left.
 */
async function exportAgainstCopy(stack, db, client, used) {
  // The export's memory measured in a register process of its own: the one that ran the
  // disclose phase and verify keeps what they used (about 500 MiB after verify).
  used.kill('SIGTERM');
  await once(used, 'exit');
  const register = await stack.startService('disclosure-register');
  const { exportRegister, verifyExport } = require('../../dist/libs/contracts/src/index.js');
  const signer = await gatewaySigner(stack);
  // One per export: over HTTP the register takes an assertion once.
  const [assertion, fileAssertion] = [1, 2].map(() =>
    signer.sign('bench-auditor', ['auditor'], 'disclosure-register'),
  );
  await signer.close();
  // People's requests come through the gateway: the bench stands in for it on the bus.
  const { natsPassword } = require('../../scripts/lib/nats-users.cjs');
  const asGateway = await stack.opsClient({
    caller: 'gateway',
    password: natsPassword('gateway'),
    timeoutMs: 60_000,
  });

  const copy = new pg.Client({ connectionString: stack.databaseUrl });
  await copy.connect();
  const t0 = performance.now();
  let copied = 0;
  try {
    const stream = copy.query(
      copyStreams.to(
        'COPY (SELECT position, leaf_hash, leaf, details, salt FROM disclosure_register.entries ORDER BY position) TO STDOUT',
      ),
    );
    for await (const chunk of stream) copied += chunk.length;
  } finally {
    await copy.end();
  }
  const copySeconds = (performance.now() - t0) / 1000;
  const { rows } = await db.query('SELECT count(*)::int AS n FROM disclosure_register.entries');

  const dir = new URL('../../.tmp/bench/', import.meta.url).pathname;
  mkdirSync(dir, { recursive: true });
  const file = `${dir}export-${stack.runId}.csv`;
  let peakRss = 0;
  const rss = () => {
    try {
      const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${register.pid}/status`, 'utf8'));
      peakRss = Math.max(peakRss, Number(kb?.[1] ?? 0) * 1024);
    } catch {
      // gone
    }
  };
  rss();
  const rssBefore = peakRss;
  const sampler = setInterval(rss, 50);
  const exportTo = async (write, signed) => {
    const t = performance.now();
    const manifest = await exportRegister(
      asGateway,
      { format: 'csv' },
      write,
      // The lines stream over HTTP from the register (as the gateway will relay them); the
      // manifest comes over NATS.
      {
        assertion: signed,
        timeoutMs: 60_000,
        linesUrl: `http://127.0.0.1:${register.httpPort}/`,
      },
    );
    return { manifest, seconds: (performance.now() - t) / 1000 };
  };
  // Measured as the COPY is: the bytes reach the client, which counts them.
  let exported = 0;
  const streamed = await exportTo((chunk) => {
    exported += chunk.length;
  }, assertion);
  // Then into a file, for the offline verification (information: the file's writes cost too).
  const out = createWriteStream(file);
  const filed = await exportTo(async (chunk) => {
    if (!out.write(chunk)) await once(out, 'drain');
  }, fileAssertion);
  out.end();
  await once(out, 'finish');
  const { manifest } = filed;
  clearInterval(sampler);
  rss();

  await asGateway.close();
  const keys = (await client.disclosureRegister.signingKeys()).keys;
  const t2 = performance.now();
  const verdict = await verifyExport(
    createReadStream(file, { highWaterMark: 1 << 20 }),
    manifest,
    keys,
  );
  const verifySeconds = (performance.now() - t2) / 1000;
  rmSync(file, { force: true });
  if (!verdict.valid || verdict.entries !== rows[0].n) {
    throw new Error(`the export did not verify: ${JSON.stringify(verdict)}`);
  }
  console.log(
    `    ${verdict.entries} entries: COPY ${round(copySeconds, 2)} s (${round(copied / 1e6, 0)} MB), export ${round(streamed.seconds, 2)} s (${round(exported / 1e6, 0)} MB), into a file ${round(filed.seconds, 2)} s, offline verify ${round(verifySeconds, 2)} s; register RSS ${round(rssBefore / 2 ** 20, 0)} MiB before the exports, peak ${round(peakRss / 2 ** 20, 0)} MiB during them`,
  );
  const copyRate = round(verdict.entries / copySeconds, 0);
  return [
    {
      metric: `CSV export of ${verdict.entries} entries to the client, entries/s`,
      value: round(verdict.entries / streamed.seconds, 0),
      baseline: 'COPY TO STDOUT of the same rows to the client, rows/s',
      baselineValue: copyRate,
    },
    {
      metric: 'information: the same export into a file, entries/s',
      value: round(verdict.entries / filed.seconds, 0),
      baseline: 'COPY TO STDOUT of the same rows to the client, rows/s',
      baselineValue: copyRate,
    },
    {
      metric: 'register peak RSS during the export, MiB',
      value: round(peakRss / 2 ** 20, 0),
      baseline: 'issue limit (MiB)',
      baselineValue: 256,
    },
    {
      metric: 'offline verification of the export, entries/s',
      value: round(verdict.entries / verifySeconds, 0),
      baseline: 'COPY TO STDOUT of the same rows, rows/s',
      baselineValue: copyRate,
    },
  ];
}
