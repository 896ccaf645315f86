// A service round trip through the platform: typed client → NATS → NatsRpcServer → validation
// pipe → handler → reply, against the consent service as a separate process.
import { againstEcho } from '../lib/measure.mjs';

const seconds = Number(process.env.BENCH_SECONDS || 3);

export const name = 'consent.system.ping';

export async function run(stack, baselines) {
  await stack.startService('consent');
  const client = await stack.opsClient();
  const call = () => client.consent.ping({ payload: 'x'.repeat(64) });
  try {
    const { seq, rows } = await againstEcho(call, baselines, { unit: 'req/s', seconds });
    return [
      rows.sequentialP50,
      {
        metric: 'sequential p99 ms',
        value: seq.p99,
        baseline: 'nats.echo.sequential',
        baselineValue: baselines['nats.echo.sequential'].p99,
      },
      rows.concurrent,
      rows.concurrentMux,
      rows.fixedRate,
      rows.fixedRateMux,
    ];
  } finally {
    await client.close();
  }
}
