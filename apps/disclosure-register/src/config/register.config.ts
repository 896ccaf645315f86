import { findUp } from '@dsg/contracts';
import { ConfigError, integerVariable } from '@dsg/platform';
import { existsSync } from 'node:fs';

export interface RegisterConfig {
  /** Recipients created at boot when they do not exist yet. */
  recipientsSeedPath: string;
  /** A tree head is sealed once this many entries are unsealed … */
  sealEveryEntries: number;
  /** … or this long after the oldest unsealed entry, whichever comes first. */
  sealEveryMs: number;
  /**
   * The most entries one head extends the one before by. A backlog (a log restored from a dump,
   * a sealer that was down) is sealed as a run of heads, each read and hashed in bounded memory.
   */
  sealMaxEntries: number;
  /**
   * The register verifies its own log this often (0: only when asked), and reports the outcome in
   * its metrics and, loudly, in its log: operators learn of a mismatch without an auditor's pull.
   */
  verifyEveryMs: number;
  /** How long a disclosure waits for the consent service before it is denied (fail closed). */
  consentTimeoutMs: number;
}

export const REGISTER_CONFIG = Symbol('REGISTER_CONFIG');

/** Variables only the disclosure register reads. */
export function loadRegisterConfig(env: NodeJS.ProcessEnv = process.env): RegisterConfig {
  const problems: { variable: string; problems: string[] }[] = [];
  const path = env.RECIPIENTS_SEED_PATH || findUp('apps/disclosure-register/seed/recipients.yaml');
  if (!existsSync(path)) {
    problems.push({ variable: 'RECIPIENTS_SEED_PATH', problems: ['names no readable file'] });
  }
  const integer = (variable: string, fallback: number, min: number, max: number) =>
    integerVariable(env, problems, variable, fallback, min, max);
  const config = {
    recipientsSeedPath: path,
    sealEveryEntries: integer('SEAL_EVERY_ENTRIES', 1000, 1, 1_000_000),
    sealEveryMs: integer('SEAL_EVERY_MS', 5000, 100, 3_600_000),
    sealMaxEntries: integer('SEAL_MAX_ENTRIES', 65_536, 1, 1_000_000),
    verifyEveryMs: integer('VERIFY_EVERY_MS', 86_400_000, 0, 604_800_000),
    consentTimeoutMs: integer('CONSENT_TIMEOUT_MS', 2000, 100, 30_000),
  };
  if (problems.length) throw new ConfigError(problems);
  return config;
}
