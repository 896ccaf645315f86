import type { RIGHTS, VerificationLevel } from '@dsg/contracts';
import type { BusinessCalendar } from './business-days';

export type Right = (typeof RIGHTS)[number];

/** What each right needs: its verification (CCP-3) and its deadlines (CCP-2, ACC-5, HIP-8). */
export interface RightRules {
  verification: VerificationLevel;
  /** The answer is due: calendar days, or business days for opt-outs. */
  answerDays: number;
  answerIn: 'calendar' | 'business';
  /** Calendar days an extension adds, counted from receipt; 0: none allowed. */
  extendedDays: number;
  /** The rule the deadlines come from, shown with them. */
  rule: string;
}

/**
 * Per right, the stricter of the laws that apply (45 CFR 160.203(b)):
 * - know (categories): two matching points; 45 days, one extension to 90 (CCP-2, CCP-3).
 * - access (a copy): specific pieces, three points and a declaration; 15 days, no extension
 *   (California Health & Safety Code 123110 is stricter than HIPAA's 30 + 30, HIP-8).
 * - delete, correct: health information is sensitive, so the higher degree (three points and a
 *   declaration, 11 CCR 7062); 45 days, one extension to 90 (CCP-2; HIPAA amendment allows 60 +
 *   30, HIP-8, so CCPA's is the stricter).
 * - opt-out, limit-sensitive: no verification (CCP-3); in effect within 15 business days (CCP-2).
 * - accounting: specific pieces (three points and a declaration); 60 days, one 30-day extension
 *   with reasons given before the 60 days end (ACC-5).
 * - restriction or confidential channel: two points; the product's 45 days (HIPAA sets none; a
 *   confidential channel is honoured without asking why, HIP-7).
 */
export const RIGHT_RULES: Record<Right, RightRules> = {
  know: {
    verification: 'two-points',
    answerDays: 45,
    answerIn: 'calendar',
    extendedDays: 90,
    rule: 'CCP-2',
  },
  access: {
    verification: 'three-points-and-declaration',
    answerDays: 15,
    answerIn: 'calendar',
    extendedDays: 0,
    rule: 'HIP-8',
  },
  delete: {
    verification: 'three-points-and-declaration',
    answerDays: 45,
    answerIn: 'calendar',
    extendedDays: 90,
    rule: 'CCP-2',
  },
  correct: {
    verification: 'three-points-and-declaration',
    answerDays: 45,
    answerIn: 'calendar',
    extendedDays: 90,
    rule: 'CCP-2',
  },
  'opt-out': {
    verification: 'none',
    answerDays: 15,
    answerIn: 'business',
    extendedDays: 0,
    rule: 'CCP-2',
  },
  'limit-sensitive': {
    verification: 'none',
    answerDays: 15,
    answerIn: 'business',
    extendedDays: 0,
    rule: 'CCP-2',
  },
  accounting: {
    verification: 'three-points-and-declaration',
    answerDays: 60,
    answerIn: 'calendar',
    extendedDays: 90,
    rule: 'ACC-5',
  },
  restriction: {
    verification: 'two-points',
    answerDays: 45,
    answerIn: 'calendar',
    extendedDays: 0,
    rule: 'HIP-7',
  },
};

/** Receipt is confirmed within 10 business days (CCP-2). */
export const CONFIRM_BUSINESS_DAYS = 10;

/** The points a level needs (CCP-3). */
export function pointsNeeded(level: VerificationLevel): number {
  return level === 'none' ? 0 : level === 'two-points' ? 2 : 3;
}

export interface Deadlines {
  confirmBy: Date;
  answerBy: Date;
}

export function deadlinesFor(
  right: Right,
  receivedAt: Date,
  calendar: BusinessCalendar,
): Deadlines {
  const rules = RIGHT_RULES[right];
  return {
    confirmBy: calendar.addBusinessDays(receivedAt, CONFIRM_BUSINESS_DAYS),
    answerBy:
      rules.answerIn === 'business'
        ? calendar.addBusinessDays(receivedAt, rules.answerDays)
        : calendar.addCalendarDays(receivedAt, rules.answerDays),
  };
}
