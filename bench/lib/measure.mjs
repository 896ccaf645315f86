// Measuring helpers shared by baselines and scenarios: every number in a report is produced by
// one of these, so a scenario and its baseline are measured the same way.

export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, i)];
}

export function summarise(samplesMs) {
  const sorted = Float64Array.from(samplesMs).sort();
  return {
    p50: round(percentile(sorted, 50)),
    p99: round(percentile(sorted, 99)),
    n: sorted.length,
  };
}

export const round = (x, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;
const now = () => Number(process.hrtime.bigint()) / 1e6;
/** Closed-loop warm-up before anything is counted (BENCH_WARMUP_SECONDS, default 2). */
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS || 2);
/** Open-loop ramp offered but not counted (BENCH_OPEN_LOOP_WARMUP_SECONDS, default 0.5). */
const OPEN_LOOP_WARMUP_SECONDS = Number(process.env.BENCH_OPEN_LOOP_WARMUP_SECONDS || 0.5);
/**
 * How long an open loop offers its fixed rate (BENCH_OPEN_LOOP_SECONDS, default 10): a p99 over
 * a few seconds is decided by whether one scheduler or collector stall of some process on the
 * machine happens to fall inside it; over ten seconds the baseline and the scenario see alike.
 */
const OPEN_LOOP_SECONDS = Number(process.env.BENCH_OPEN_LOOP_SECONDS || 10);
/** BENCH_OPEN_LOOP_WINDOWS=1 prints each open loop's p50/p99/max per 250 ms of schedule. */
const OPEN_LOOP_WINDOWS = Boolean(process.env.BENCH_OPEN_LOOP_WINDOWS);

/** One call after another: latency percentiles in ms. */
export async function sequential(call, { count = 2000, warmup = 200 } = {}) {
  for (let i = 0; i < warmup; i++) await call(i);
  const samples = [];
  for (let i = 0; i < count; i++) {
    const t0 = now();
    await call(i);
    samples.push(now() - t0);
  }
  return summarise(samples);
}

/** `concurrency` callers in a closed loop for `seconds`: completed calls per second. */
export async function closedLoop(
  call,
  { concurrency = 64, seconds = 3, warmupSeconds = WARMUP_SECONDS } = {},
) {
  // The same warm-up for baselines and scenarios: a service's hot path is compiled by then.
  const warmUntil = now() + warmupSeconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (now() < warmUntil) await call();
    }),
  );
  let done = 0;
  const latencies = [];
  const end = now() + seconds * 1000;
  const t0 = now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (now() < end) {
        const started = now();
        await call();
        latencies.push(now() - started);
        done++;
      }
    }),
  );
  const { p50, p99 } = summarise(latencies);
  return { throughput: round(done / ((now() - t0) / 1000), 0), concurrency, p50, p99 };
}

/**
 * Open loop: calls are issued on a fixed schedule (`rate` per second) whether or not earlier ones
 * have answered, and each latency is measured from its scheduled time, so queueing shows.
 * Between issues the generator sleeps (a 1 ms timer tick, everything due issued at once) instead
 * of spinning on setImmediate: on a small machine a spinning generator takes a core from the
 * server and the system under test, and the measurement would be of the generator.
 */
export async function openLoop(
  call,
  { rate, seconds = OPEN_LOOP_SECONDS, warmupSeconds = OPEN_LOOP_WARMUP_SECONDS } = {},
) {
  // The first warmupSeconds are offered at the same rate but not counted (the start-up ramp),
  // for baselines and scenarios alike.
  const warmup = Math.floor(rate * warmupSeconds);
  const total = warmup + Math.max(1, Math.floor(rate * seconds));
  // Preallocated: the generator's own collector work stays out of what it measures.
  const samples = new Float64Array(total - warmup);
  let answeredCount = 0;
  const windows = OPEN_LOOP_WINDOWS ? [] : null;
  let outstanding = 0;
  let allAnswered;
  const answered = new Promise((resolve) => (allAnswered = resolve));
  const settle = () => --outstanding === 0 && issued === total && allAnswered();
  const t0 = now();
  let issued = 0;
  let failed = 0;
  while (issued < total) {
    const due = Math.min(total, Math.floor(((now() - t0) / 1000) * rate) + 1);
    for (; issued < due; issued++) {
      const scheduled = t0 + (issued / rate) * 1000;
      const counted = issued >= warmup;
      outstanding++;
      call().then(
        () => {
          if (counted) {
            const latency = now() - scheduled;
            samples[answeredCount++] = latency;
            if (windows) (windows[Math.floor((scheduled - t0) / 250)] ??= []).push(latency);
          }
          settle();
        },
        () => {
          if (counted) failed++;
          settle();
        },
      );
    }
    if (issued < total) await new Promise((r) => setTimeout(r, 1));
  }
  if (outstanding > 0) await answered;
  if (windows) printWindows(windows, rate);
  return { ...summarise(samples.subarray(0, answeredCount)), rate: round(rate, 0), failed };
}

function printWindows(windows, rate) {
  const cells = [];
  windows.forEach((latencies, w) => {
    const sorted = latencies.sort((a, b) => a - b);
    const [p50, p99] = [percentile(sorted, 50), percentile(sorted, 99)].map((x) => x.toFixed(1));
    cells.push(`${(w * 0.25).toFixed(2)}s ${p50}/${p99}/${sorted.at(-1).toFixed(0)}`);
  });
  console.log(
    `    open loop at ${Math.round(rate)}/s, p50/p99/max ms per 250 ms: ${cells.join('  ')}`,
  );
}

/**
 * A request-reply scenario measured as the raw echo is, with its rows against the echo's:
 * sequential p50, 64-concurrent throughput, and p99 at the echo's fixed rate (half its maximum).
 */
export async function againstEcho(call, baselines, { unit, seconds, sequentialOptions } = {}) {
  const seq = await sequential(call, sequentialOptions);
  const concurrent = await closedLoop(call, { concurrency: 64, seconds });
  const fixed = await openLoop(call, { rate: baselines['nats.echo.fixedRate'].rate });
  const rows = {
    sequentialP50: {
      metric: 'sequential p50 ms',
      value: seq.p50,
      baseline: 'nats.echo.sequential',
      baselineValue: baselines['nats.echo.sequential'].p50,
    },
    concurrent: {
      metric: `64-concurrent ${unit}`,
      value: concurrent.throughput,
      baseline: 'nats.echo.concurrent64',
      baselineValue: baselines['nats.echo.concurrent64'].throughput,
    },
    concurrentMux: {
      metric: `64-concurrent ${unit} (vs mux echo)`,
      value: concurrent.throughput,
      baseline: 'nats.echo.concurrent64.mux',
      baselineValue: baselines['nats.echo.concurrent64.mux'].throughput,
    },
    fixedRate: {
      metric: `p99 ms at ${fixed.rate}/s (${fixed.failed} failed)`,
      value: fixed.p99,
      baseline: 'nats.echo.fixedRate',
      baselineValue: baselines['nats.echo.fixedRate'].p99,
    },
    fixedRateMux: {
      metric: `p99 ms at ${fixed.rate}/s (vs mux echo)`,
      value: fixed.p99,
      baseline: 'nats.echo.fixedRate.mux',
      baselineValue: baselines['nats.echo.fixedRate.mux'].p99,
    },
  };
  return { seq, concurrent, fixed, rows };
}
