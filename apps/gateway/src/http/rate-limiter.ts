import { DsgError, ErrorCodes } from '@dsg/contracts';

/**
 * A token bucket per key (a person's subject, or a client address before authentication):
 * `perMinute` tokens a minute, at most `perMinute` at once. Kept in this replica's memory, so
 * with N replicas a key may get up to N times the rate; the limit protects the services and the
 * identity provider from a runaway script, it is not a quota. Idle buckets are forgotten.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private lastSweep = Date.now();

  constructor(
    private readonly perMinute: number,
    /** Buckets kept at most: beyond, the longest idle are forgotten (they are full again). */
    private readonly maxKeys = 100_000,
  ) {}

  /** Takes one token, or throws REQUEST.RATE_LIMITED with the seconds until the next one. */
  take(key: string, now: number = Date.now()): void {
    const refill = this.perMinute / 60_000;
    const bucket = this.buckets.get(key) ?? { tokens: this.perMinute, at: now };
    bucket.tokens = Math.min(this.perMinute, bucket.tokens + (now - bucket.at) * refill);
    bucket.at = now;
    // Re-inserted: the map's order is least recently used first.
    this.buckets.delete(key);
    this.buckets.set(key, bucket);
    if (now - this.lastSweep > 60_000) this.sweep(now);
    for (const oldest of this.buckets.keys()) {
      if (this.buckets.size <= this.maxKeys) break;
      this.buckets.delete(oldest);
    }
    if (bucket.tokens < 1) {
      throw new RateLimitedError(Math.max(1, Math.ceil((1 - bucket.tokens) / refill / 1000)));
    }
    bucket.tokens -= 1;
  }

  private sweep(now: number): void {
    this.lastSweep = now;
    for (const [key, bucket] of this.buckets) {
      if (now - bucket.at > 60_000) this.buckets.delete(key);
    }
  }
}

export class RateLimitedError extends DsgError {
  constructor(readonly retryAfterSeconds: number) {
    super(ErrorCodes.RATE_LIMITED, `Too many requests; try again in ${retryAfterSeconds} s`);
  }
}
