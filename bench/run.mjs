// npm run bench: raw baselines and every scenario in one run, scenarios reported as ratios to the
// baselines of that same run. Writes .tmp/bench/bench-<run>.json. BENCH_SECONDS (default 3) sets
// the length of each timed phase; BENCH_COPY_ROWS (default 300000) the COPY baseline's size.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jetstreamRoundTrip, natsEcho, postgres } from './baselines.mjs';
import { startBenchStack } from './lib/stack.mjs';

const root = new URL('..', import.meta.url).pathname;
const only = process.argv[2];

const stack = await startBenchStack();
const report = {
  runId: stack.runId,
  startedAt: new Date().toISOString(),
  machine: { node: process.version },
  baselines: {},
  scenarios: {},
};
try {
  console.log('baselines …');
  Object.assign(
    report.baselines,
    await natsEcho(stack),
    await jetstreamRoundTrip(stack),
    await postgres(stack),
  );
  for (const [name, value] of Object.entries(report.baselines))
    console.log(`  ${name.padEnd(36)} ${JSON.stringify(value)}`);

  const dir = new URL('./scenarios/', import.meta.url).pathname;
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.mjs'))
    .sort()) {
    const scenario = await import(join(dir, file));
    if (only && scenario.name !== only) continue;
    console.log(`\nscenario ${scenario.name} …`);
    const rows = await scenario.run(stack, report.baselines);
    await stack.stopServices();
    report.scenarios[scenario.name] = rows.map((r) => ({
      ...r,
      ratio: Math.round((r.value / r.baselineValue) * 1000) / 1000,
    }));
    for (const r of report.scenarios[scenario.name]) {
      console.log(
        `  ${r.metric.padEnd(30)} ${String(r.value).padStart(10)}   ${r.baseline} ${String(r.baselineValue).padStart(10)}   ratio ${r.ratio}`,
      );
    }
  }
  const out = join(root, '.tmp', 'bench');
  mkdirSync(out, { recursive: true });
  const file = join(out, `bench-${stack.runId}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nwritten ${file}`);
} finally {
  await stack.stop();
}
