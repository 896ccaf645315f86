import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export type RpcOutcome = 'ok' | 'error';

/** One Prometheus registry per process, served at GET /metrics. */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly rpcRequests = new Counter({
    name: 'dsg_rpc_requests_total',
    help: 'Requests handled, by transport, operation and outcome',
    labelNames: ['transport', 'operation', 'outcome', 'code'] as const,
    registers: [this.registry],
  });

  readonly rpcDuration = new Histogram({
    name: 'dsg_rpc_duration_seconds',
    help: 'Time from receipt to reply, by transport and operation',
    labelNames: ['transport', 'operation'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'dsg_' });
  }

  observe(transport: string, operation: string, startedAt: bigint, code?: string): void {
    const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
    this.rpcDuration.observe({ transport, operation }, seconds);
    this.rpcRequests.inc({
      transport,
      operation,
      outcome: code ? 'error' : 'ok',
      code: code ?? '',
    });
  }
}
