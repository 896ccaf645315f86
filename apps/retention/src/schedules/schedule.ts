import { covers } from '@dsg/contracts';

/** The events a retention period runs from (the policy bundle's `from`). */
export const CLOCKS = {
  'last-encounter': 'lastEncounter',
  creation: 'creation',
  'end-of-relationship': 'endOfRelationship',
  'last-effective-date': 'lastEffective',
} as const;
export type ClockEvent = keyof typeof CLOCKS;
export type Clocks = Partial<Record<(typeof CLOCKS)[ClockEvent], string>>;

/** One rule of the bundle's `retention` section (RET-1 to RET-5). */
export interface RetentionRule {
  category: string;
  /** ISO 8601 duration in years, months and days (P7Y, P13M, P90D). */
  period: string;
  from: ClockEvent;
  /** RET-1: a minor's record is kept at least until this (the 19th birthday). */
  minorFloor?: '19th-birthday';
  action: 'delete' | 'de-identify' | 'redact';
  rule: string;
}

export interface Due {
  /** When the action is due; absent when it cannot be computed (see `reason`). */
  dueAt?: Date;
  action?: RetentionRule['action'];
  /** The rule id it rests on (RET-…), or RET-5 when no period is stated for the category. */
  rule: string;
  /** In words: which clock, which period, which floor decided it, or why nothing is due. */
  reason: string;
}

const DURATION = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?$/;

/**
 * `start` plus an ISO 8601 duration of years, months and days, in UTC calendar terms. A day that
 * does not exist in the target month rolls forward (31 January + 1 month = 3 March): data is kept
 * a little longer, never shorter.
 */
export function addPeriod(start: Date, period: string): Date {
  const m = DURATION.exec(period);
  if (!m || period === 'P') throw new Error(`not a duration of years, months and days: ${period}`);
  const d = new Date(start.getTime());
  d.setUTCFullYear(d.getUTCFullYear() + Number(m[1] ?? 0));
  d.setUTCMonth(d.getUTCMonth() + Number(m[2] ?? 0));
  d.setUTCDate(d.getUTCDate() + Number(m[3] ?? 0));
  return d;
}

/** The most specific rule whose category covers `category` (`health` covers `health.history`). */
export function ruleFor(
  rules: readonly RetentionRule[],
  category: string,
): RetentionRule | undefined {
  let best: RetentionRule | undefined;
  for (const rule of rules) {
    if (!covers(rule.category, category)) continue;
    if (!best || rule.category.split('.').length > best.category.split('.').length) best = rule;
  }
  return best;
}

/**
 * When a holding of `category` is due, under `rules`: its clock plus the period (RET-1 to RET-5);
 * for a minor's record under RET-1, not before the 19th birthday either (the later of the two).
 * A category without a stated period, or a clock the holder did not give, is due at no date:
 * that is said, never guessed (RET-5 asks for a stated period).
 */
export function dueFor(
  rules: readonly RetentionRule[],
  category: string,
  clocks: Clocks,
  dateOfBirth?: string,
): Due {
  const rule = ruleFor(rules, category);
  if (!rule) {
    return { rule: 'RET-5', reason: `no retention period is stated for ${category}` };
  }
  const clock = clocks[CLOCKS[rule.from]];
  if (!clock) {
    return {
      action: rule.action,
      rule: rule.rule,
      reason: `${rule.rule}: the holder has not given the ${rule.from} date the period runs from`,
    };
  }
  const byClock = addPeriod(new Date(clock), rule.period);
  if (rule.minorFloor === '19th-birthday' && dateOfBirth) {
    const floor = addPeriod(new Date(`${dateOfBirth}T00:00:00Z`), 'P19Y');
    if (floor > byClock) {
      return {
        dueAt: floor,
        action: rule.action,
        rule: rule.rule,
        reason: `${rule.rule}: a minor's record, kept to the 19th birthday, later than ${rule.period} after the ${rule.from}`,
      };
    }
  }
  return {
    dueAt: byClock,
    action: rule.action,
    rule: rule.rule,
    reason: `${rule.rule}: ${rule.period} after the ${rule.from}`,
  };
}

/**
 * The records this product keeps about its own processing, and their periods, fixed by the rules
 * that require them rather than by the spa's policy: consent and authorization evidence (RET-2:
 * six years from the last effective date), the register's entries (ACC-9, RET-2: six years from
 * their creation; their details are redacted, the leaves stay) and the rights-request log
 * (RET-3: 24 months). A bundle that states a rule for one of these categories is followed
 * instead (its rule is more specific or equal, and comes first).
 */
export const OWN_RECORD_CATEGORIES = [
  'records',
  'records.consents',
  'records.disclosures',
  'records.requests',
] as const;

export const OWN_RECORD_RULES: readonly RetentionRule[] = [
  {
    category: 'records.consents',
    period: 'P6Y',
    from: 'last-effective-date',
    action: 'redact',
    rule: 'RET-2',
  },
  {
    category: 'records.disclosures',
    period: 'P6Y',
    from: 'creation',
    action: 'redact',
    rule: 'RET-2',
  },
  {
    category: 'records.requests',
    period: 'P24M',
    from: 'creation',
    action: 'delete',
    rule: 'RET-3',
  },
];
