import { ConfigError, integerVariable } from '@dsg/platform';

export interface RetentionConfig {
  /** A sweep starts this often (0: only when an operator asks, retention.sweeps.run). */
  sweepEveryMs: number;
  /** Due holdings read, and their items issued, per transaction of a sweep. */
  sweepBatch: number;
  /** Items one purge command carries at most. */
  commandItems: number;
  /** Attempts before an item is dead-lettered (the first issue is attempt 1). */
  purgeMaxAttempts: number;
  /**
   * How long an item waits for its acknowledgement before it is issued again, doubled at each
   * attempt (back-off) up to purgeRetryMaxMs.
   */
  purgeRetryBaseMs: number;
  purgeRetryMaxMs: number;
  /** How often open items are checked for a retry or the dead letter. */
  retryCheckEveryMs: number;
}

export const RETENTION_CONFIG = Symbol('RETENTION_CONFIG');

/** Variables only the retention service reads. */
export function loadRetentionConfig(env: NodeJS.ProcessEnv = process.env): RetentionConfig {
  const problems: { variable: string; problems: string[] }[] = [];
  const integer = (variable: string, fallback: number, min: number, max: number) =>
    integerVariable(env, problems, variable, fallback, min, max);
  const config = {
    sweepEveryMs: integer('SWEEP_EVERY_MS', 3_600_000, 0, 604_800_000),
    sweepBatch: integer('SWEEP_BATCH', 5000, 1, 10_000),
    commandItems: integer('PURGE_COMMAND_ITEMS', 1000, 1, 1000),
    purgeMaxAttempts: integer('PURGE_MAX_ATTEMPTS', 5, 1, 100),
    purgeRetryBaseMs: integer('PURGE_RETRY_BASE_MS', 60_000, 100, 86_400_000),
    purgeRetryMaxMs: integer('PURGE_RETRY_MAX_MS', 21_600_000, 100, 604_800_000),
    retryCheckEveryMs: integer('PURGE_RETRY_CHECK_MS', 5000, 50, 3_600_000),
  };
  if (problems.length) throw new ConfigError(problems);
  return config;
}
