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
  /** California state holidays, for business-day deadlines (CCP-2). */
  holidayCalendarPath: string;
  /** ACC-6: the cost-based fee quoted for an accounting after the first in 12 months, in cents. */
  accountingFeeCents: number;
  /** How often open rights requests are checked for deadlines passed (overdue notices). */
  rightsCheckMs: number;
  /** How long the spa's client system has to answer a verification or contact lookup. */
  clientSystemTimeoutMs: number;
  /** Notices by e-mail go to this SMTP server (smtp://host:port); unset: e-mail notices fail. */
  smtpUrl?: string;
  /** The From of notice e-mails. */
  noticeFrom: string;
  /** Where notices to privacy officers go (overdue requests, breach deadlines). */
  privacyOfficerEmail?: string;
  /** Delivery attempts before a notice is failed for good (dead letter). */
  noticeMaxAttempts: number;
  /** The wait before the first retry; doubled at each further attempt. */
  noticeRetryMs: number;
  /** How often the dispatcher looks for notices due. */
  noticePollMs: number;
}

export const CONSENT_CONFIG = Symbol('CONSENT_CONFIG');

/** Variables only the consent service reads. */
export function loadConsentConfig(env: NodeJS.ProcessEnv = process.env): ConsentConfig {
  const problems: { variable: string; problems: string[] }[] = [];
  const path = env.POLICY_BUNDLE_PATH || findUp('apps/consent/policy/him-medspa.policy.yaml');
  if (!existsSync(path)) {
    problems.push({ variable: 'POLICY_BUNDLE_PATH', problems: ['names no readable file'] });
  }
  const holidays =
    env.HOLIDAY_CALENDAR_PATH || findUp('apps/consent/policy/ca-state-holidays.yaml');
  if (!existsSync(holidays)) {
    problems.push({ variable: 'HOLIDAY_CALENDAR_PATH', problems: ['names no readable file'] });
  }
  const integer = (variable: string, fallback: number, min: number, max: number) =>
    integerVariable(env, problems, variable, fallback, min, max);
  const decisionLeaseMs = integer('DECISION_LEASE_MS', 6000, 1000, 60_000);
  const decisionAckTimeoutMs = integer('DECISION_ACK_TIMEOUT_MS', 1000, 100, 10_000);
  const accountingFeeCents = integer('ACCOUNTING_FEE_CENTS', 2500, 0, 100_000);
  const rightsCheckMs = integer('RIGHTS_CHECK_MS', 60_000, 100, 3_600_000);
  const clientSystemTimeoutMs = integer('CLIENT_SYSTEM_TIMEOUT_MS', 3000, 100, 60_000);
  const noticeMaxAttempts = integer('NOTICE_MAX_ATTEMPTS', 6, 1, 50);
  const noticeRetryMs = integer('NOTICE_RETRY_MS', 30_000, 10, 86_400_000);
  const noticePollMs = integer('NOTICE_POLL_MS', 1000, 10, 600_000);
  const smtpUrl = env.SMTP_URL || undefined;
  if (smtpUrl && !/^smtps?:\/\/[^/\s]+/.test(smtpUrl)) {
    problems.push({ variable: 'SMTP_URL', problems: ['must be smtp://host:port or smtps://…'] });
  }
  const email = /^[^\s@]+@[^\s@]+$/;
  const noticeFrom = env.NOTICE_FROM || 'privacy@localhost';
  if (!email.test(noticeFrom)) {
    problems.push({ variable: 'NOTICE_FROM', problems: ['must be an e-mail address'] });
  }
  const privacyOfficerEmail = env.PRIVACY_OFFICER_EMAIL || undefined;
  if (privacyOfficerEmail && !email.test(privacyOfficerEmail)) {
    problems.push({ variable: 'PRIVACY_OFFICER_EMAIL', problems: ['must be an e-mail address'] });
  }
  if (problems.length) throw new ConfigError(problems);
  return {
    policyBundlePath: path,
    decisionLeaseMs,
    decisionAckTimeoutMs,
    holidayCalendarPath: holidays,
    accountingFeeCents,
    rightsCheckMs,
    clientSystemTimeoutMs,
    ...(smtpUrl ? { smtpUrl } : {}),
    noticeFrom,
    ...(privacyOfficerEmail ? { privacyOfficerEmail } : {}),
    noticeMaxAttempts,
    noticeRetryMs,
    noticePollMs,
  };
}
