// consent.decision.check over NATS with realistic data: 100,000 subjects with a few ledger
// entries each (BENCH_SUBJECTS to change), compared with the raw echo of the same run.
// Issue 4's targets: closed loop ≥ 0.60 of the echo's throughput (floor 0.45); open loop at half
// the echo's maximum with p99 ≤ 2× the echo's p99 at that rate.
import pg from 'pg';
import { againstEcho } from '../lib/measure.mjs';

const seconds = Number(process.env.BENCH_SECONDS || 3);
const subjects = Number(process.env.BENCH_SUBJECTS || 100_000);

export const name = 'consent.decision.check';

async function seed(databaseUrl) {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    await db.query(
      `INSERT INTO consent.subjects (client_id, date_of_birth, status)
       SELECT 'bench-' || g, date '1950-01-01' + (g % 20000), 'active' FROM generate_series(1, $1) g
       ON CONFLICT DO NOTHING`,
      [subjects],
    );
    // A few entries each: a grant, an opt-out of analytics for a third, a GPC opt-out for a fifth.
    await db.query(
      `INSERT INTO consent.ledger (event_id, client_id, kind, scope_type, scope, method, actor, policy_version, occurred_at, recorded_by)
       SELECT gen_random_uuid(), 'bench-' || g, 'grant', 'purpose', 'appointment-reminders', 'web-form', 'self', '2026.1', now() - interval '1 day', 'bench'
         FROM generate_series(1, $1) g
       UNION ALL
       SELECT gen_random_uuid(), 'bench-' || g, 'opt-out', 'purpose', 'internal-analytics', 'phone', 'self', '2026.1', now() - interval '1 hour', 'bench'
         FROM generate_series(1, $1) g WHERE g % 3 = 0
       UNION ALL
       SELECT gen_random_uuid(), 'bench-' || g, 'opt-out', 'sale-and-sharing', '', 'gpc-signal', 'self', '2026.1', now() - interval '1 hour', 'bench'
         FROM generate_series(1, $1) g WHERE g % 5 = 0`,
      [subjects],
    );
    // Vacuumed now rather than by autovacuum in the middle of a measurement (on two cores its
    // pass over the fresh rows competes with everything measured).
    await db.query('VACUUM ANALYZE consent.subjects');
    await db.query('VACUUM ANALYZE consent.ledger');
  } finally {
    await db.end();
  }
}

export async function run(stack, baselines) {
  // The first start publishes the policy version the seeded entries name. The seed goes straight
  // into the tables, behind the service's back, so the service is started again to load it (as
  // a replica does at boot) before anything is measured.
  const first = await stack.startService('consent');
  console.log(`  seeding ${subjects} subjects …`);
  await seed(stack.databaseUrl);
  first.kill('SIGTERM');
  await new Promise((resolve) =>
    first.exitCode !== null ? resolve() : first.once('exit', resolve),
  );
  await stack.startService('consent');
  const client = await stack.opsClient();
  let i = 0;
  const call = () =>
    client.consent.check({
      clientId: `bench-${1 + (i++ % subjects)}`,
      recipientKind: 'service-provider',
      purpose: 'internal-analytics',
      categories: ['identifiers.contact', 'website.browsing'],
      legalBasis: 'health-care-operations',
    });
  try {
    const { rows } = await againstEcho(call, baselines, {
      unit: 'checks/s',
      seconds,
      sequentialOptions: { count: 1000, warmup: 200 },
    });
    return [
      rows.sequentialP50,
      rows.concurrent,
      rows.concurrentMux,
      rows.fixedRate,
      rows.fixedRateMux,
    ];
  } finally {
    await client.close();
  }
}
