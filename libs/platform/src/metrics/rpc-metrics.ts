import type { Registry } from 'prom-client';

/** The shape prom-client's registry reads from a metric (`get()`), as its own metrics return it. */
interface MetricValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

interface Series {
  labels: Record<string, string>;
  /** Per bucket (not cumulative), the last slot for +Inf. */
  buckets: Float64Array;
  sum: number;
  count: number;
}

/**
 * The per-request RPC metrics, kept on the request path without prom-client's per-call label
 * validation and hashing (about a microsecond a request, a measurable share of a cheap handler):
 * one Map lookup on a key built from the labels, then plain arithmetic. prom-client's registry
 * reads them at scrape time through `get()`, in the same exposition as its own counter and
 * histogram, so `/metrics` is unchanged.
 */
export class RpcMetrics {
  private readonly durations = new Map<string, Series>();
  private readonly requests = new Map<string, { labels: Record<string, string>; n: number }>();

  constructor(
    registry: Registry,
    private readonly buckets: readonly number[],
  ) {
    const requests = this.requests;
    const durations = this.durations;
    const bounds = this.buckets;
    registry.registerMetric({
      name: 'dsg_rpc_requests_total',
      help: 'Requests handled, by transport, operation and outcome',
      type: 'counter',
      aggregator: 'sum',
      get: () => ({
        name: 'dsg_rpc_requests_total',
        help: 'Requests handled, by transport, operation and outcome',
        type: 'counter',
        aggregator: 'sum',
        values: [...requests.values()].map((r) => ({ value: r.n, labels: r.labels })),
      }),
      reset: () => requests.clear(),
    } as never);
    registry.registerMetric({
      name: 'dsg_rpc_duration_seconds',
      help: 'Time from receipt to reply, by transport and operation',
      type: 'histogram',
      aggregator: 'sum',
      get: () => ({
        name: 'dsg_rpc_duration_seconds',
        help: 'Time from receipt to reply, by transport and operation',
        type: 'histogram',
        aggregator: 'sum',
        values: [...durations.values()].flatMap((s) => exposition(s, bounds)),
      }),
      reset: () => durations.clear(),
    } as never);
  }

  observe(transport: string, operation: string, seconds: number, code: string | undefined): void {
    const key = `${transport}\u0000${operation}`;
    let series = this.durations.get(key);
    if (!series) {
      series = {
        labels: { transport, operation },
        buckets: new Float64Array(this.buckets.length + 1),
        sum: 0,
        count: 0,
      };
      this.durations.set(key, series);
    }
    let b = 0;
    while (b < this.buckets.length && seconds > this.buckets[b]) b++;
    series.buckets[b]++;
    series.sum += seconds;
    series.count++;

    const outcomeKey = code ? `${key}\u0000${code}` : key;
    let counted = this.requests.get(outcomeKey);
    if (!counted) {
      counted = {
        labels: { transport, operation, outcome: code ? 'error' : 'ok', code: code ?? '' },
        n: 0,
      };
      this.requests.set(outcomeKey, counted);
    }
    counted.n++;
  }
}

function exposition(series: Series, bounds: readonly number[]): MetricValue[] {
  const values: MetricValue[] = [];
  let cumulative = 0;
  bounds.forEach((le, i) => {
    cumulative += series.buckets[i];
    values.push({
      metricName: 'dsg_rpc_duration_seconds_bucket',
      labels: { le, ...series.labels },
      value: cumulative,
    });
  });
  values.push({
    metricName: 'dsg_rpc_duration_seconds_bucket',
    labels: { le: '+Inf', ...series.labels },
    value: series.count,
  });
  values.push({
    metricName: 'dsg_rpc_duration_seconds_sum',
    labels: series.labels,
    value: series.sum,
  });
  values.push({
    metricName: 'dsg_rpc_duration_seconds_count',
    labels: series.labels,
    value: series.count,
  });
  return values;
}
