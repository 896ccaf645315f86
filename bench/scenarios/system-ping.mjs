// A service round trip through the platform: typed client → NATS → NatsRpcServer → validation
// pipe → handler → reply, against the consent service as a separate process.
import { createRequire } from 'node:module';
import { natsPassword } from '../../scripts/lib/nats-users.cjs';
import { closedLoop, openLoop, sequential } from '../lib/measure.mjs';

const require = createRequire(import.meta.url);
const seconds = Number(process.env.BENCH_SECONDS || 3);

export const name = 'consent.system.ping';

export async function run(stack, baselines) {
  const { DsgClient } = require('../../dist/libs/contracts/src/index.js');
  await stack.startService('consent');
  const client = await DsgClient.connect({
    caller: 'ops',
    password: natsPassword('ops'),
    natsUrl: stack.natsUrl,
    subjectPrefix: stack.subjectPrefix,
    retries: 0,
  });
  const call = () => client.consent.ping({ payload: 'x'.repeat(64) });
  try {
    const seq = await sequential(call);
    const concurrent = await closedLoop(call, { concurrency: 64, seconds });
    const fixedRate = await openLoop(call, {
      rate: baselines['nats.echo.fixedRate'].rate,
      seconds,
    });
    return [
      {
        metric: 'sequential p50 ms',
        value: seq.p50,
        baseline: 'nats.echo.sequential',
        baselineValue: baselines['nats.echo.sequential'].p50,
      },
      {
        metric: 'sequential p99 ms',
        value: seq.p99,
        baseline: 'nats.echo.sequential',
        baselineValue: baselines['nats.echo.sequential'].p99,
      },
      {
        metric: '64-concurrent req/s',
        value: concurrent.throughput,
        baseline: 'nats.echo.concurrent64',
        baselineValue: baselines['nats.echo.concurrent64'].throughput,
      },
      {
        metric: `p99 ms at ${fixedRate.rate} req/s`,
        value: fixedRate.p99,
        baseline: 'nats.echo.fixedRate',
        baselineValue: baselines['nats.echo.fixedRate'].p99,
      },
    ];
  } finally {
    await client.close();
  }
}
