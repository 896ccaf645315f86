import { findUp } from '@dsg/contracts';
import { ConfigError, integerVariable } from '@dsg/platform';
import { existsSync } from 'node:fs';

export interface ConsentConfig {
  /** The policy bundle published at boot (README: policy bundle). */
  policyBundlePath: string;
  /**
   * How long a replica may answer decisions from memory without renewing its lease; a writer
   * whose change a replica did not confirm waits this long at most before acknowledging.
   */
  decisionLeaseMs: number;
  /** How long a writer waits for each other replica to confirm an invalidation. */
  decisionAckTimeoutMs: number;
}

export const CONSENT_CONFIG = Symbol('CONSENT_CONFIG');

/** Variables only the consent service reads. */
export function loadConsentConfig(env: NodeJS.ProcessEnv = process.env): ConsentConfig {
  const problems: { variable: string; problems: string[] }[] = [];
  const path = env.POLICY_BUNDLE_PATH || findUp('apps/consent/policy/him-medspa.policy.yaml');
  if (!existsSync(path)) {
    problems.push({ variable: 'POLICY_BUNDLE_PATH', problems: ['names no readable file'] });
  }
  const integer = (variable: string, fallback: number, min: number, max: number) =>
    integerVariable(env, problems, variable, fallback, min, max);
  const decisionLeaseMs = integer('DECISION_LEASE_MS', 6000, 1000, 60_000);
  const decisionAckTimeoutMs = integer('DECISION_ACK_TIMEOUT_MS', 1000, 100, 10_000);
  if (problems.length) throw new ConfigError(problems);
  return { policyBundlePath: path, decisionLeaseMs, decisionAckTimeoutMs };
}
