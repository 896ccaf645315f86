import { Counter, Histogram, Registry } from 'prom-client';
import { RpcMetrics } from './rpc-metrics';

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The same observations through prom-client's own Counter and Histogram. */
function reference(observations: [string, string, number, string | undefined][]): Registry {
  const registry = new Registry();
  const requests = new Counter({
    name: 'dsg_rpc_requests_total',
    help: 'Requests handled, by transport, operation and outcome',
    labelNames: ['transport', 'operation', 'outcome', 'code'],
    registers: [registry],
  });
  const durations = new Histogram({
    name: 'dsg_rpc_duration_seconds',
    help: 'Time from receipt to reply, by transport and operation',
    labelNames: ['transport', 'operation'],
    buckets: BUCKETS,
    registers: [registry],
  });
  for (const [transport, operation, seconds, code] of observations) {
    durations.observe({ transport, operation }, seconds);
    requests.inc({ transport, operation, outcome: code ? 'error' : 'ok', code: code ?? '' });
  }
  return registry;
}

describe('RpcMetrics', () => {
  const observations: [string, string, number, string | undefined][] = [
    ['nats', 'consent.decision.check', 0.0004, undefined],
    ['nats', 'consent.decision.check', 0.001, undefined], // on a bound: counted in that bucket
    ['nats', 'consent.decision.check', 0.003, 'REQUEST.VALIDATION_FAILED'],
    ['grpc', 'dsg.consent.v1.Consent/Ping', 12, undefined], // beyond the last bound: +Inf only
    ['http', 'GET /health/ready', 0.02, undefined],
    ['nats', 'consent.decision.check', 0.2, 'REQUEST.VALIDATION_FAILED'],
  ];

  it('exposes exactly what prom-client’s own counter and histogram would', async () => {
    const registry = new Registry();
    const metrics = new RpcMetrics(registry, BUCKETS);
    for (const [transport, operation, seconds, code] of observations) {
      metrics.observe(transport, operation, seconds, code);
    }
    expect(await registry.metrics()).toBe(await reference(observations).metrics());
  });

  it('starts empty and is cleared by a registry reset', async () => {
    const registry = new Registry();
    const metrics = new RpcMetrics(registry, BUCKETS);
    expect(await registry.metrics()).toBe(await reference([]).metrics());
    metrics.observe('nats', 'x', 0.1, undefined);
    registry.resetMetrics();
    expect(await registry.metrics()).toBe(await reference([]).metrics());
  });
});
