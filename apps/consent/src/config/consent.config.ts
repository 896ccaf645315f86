import { findUp } from '@dsg/contracts';
import { ConfigError } from '@dsg/platform';
import { existsSync } from 'node:fs';

export interface ConsentConfig {
  /** The policy bundle published at boot (README: policy bundle). */
  policyBundlePath: string;
}

export const CONSENT_CONFIG = Symbol('CONSENT_CONFIG');

/** Variables only the consent service reads. */
export function loadConsentConfig(env: NodeJS.ProcessEnv = process.env): ConsentConfig {
  const path = env.POLICY_BUNDLE_PATH || findUp('apps/consent/policy/him-medspa.policy.yaml');
  if (!existsSync(path)) {
    throw new ConfigError([
      { variable: 'POLICY_BUNDLE_PATH', problems: ['names no readable file'] },
    ]);
  }
  return { policyBundlePath: path };
}
