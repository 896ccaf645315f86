import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { RpcMetrics } from './rpc-metrics';

export type RpcOutcome = 'ok' | 'error';

/** One Prometheus registry per process, served at GET /metrics. */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  /** Per-request counts and durations by transport and operation (dsg_rpc_*). */
  private readonly rpc = new RpcMetrics(
    this.registry,
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  );

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'dsg_' });
  }

  observe(transport: string, operation: string, startedAt: bigint, code?: string): void {
    this.rpc.observe(transport, operation, Number(process.hrtime.bigint() - startedAt) / 1e9, code);
  }
}
