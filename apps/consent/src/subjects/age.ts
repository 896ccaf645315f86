import type { AGE_BANDS } from '@dsg/contracts';

type AgeBand = (typeof AGE_BANDS)[number];

/** Whole years between a YYYY-MM-DD birth date and `on` (a Date, compared as a calendar day). */
export function ageOn(dateOfBirth: string, on: Date): number {
  // Read digit by digit: this runs on every decision.
  const y = digits(dateOfBirth, 0, 4);
  const m = digits(dateOfBirth, 5, 7);
  const d = digits(dateOfBirth, 8, 10);
  const today = { y: on.getUTCFullYear(), m: on.getUTCMonth() + 1, d: on.getUTCDate() };
  let age = today.y - y;
  if (today.m < m || (today.m === m && today.d < d)) age--;
  return age;
}

/** KID-3: 13 (COPPA), 16 (CCPA opt-in), 18 (majority in California). */
export function ageBand(age: number | undefined): AgeBand {
  if (age === undefined) return 'unknown';
  if (age < 13) return 'under-13';
  if (age < 16) return '13-15';
  if (age < 18) return '16-17';
  return 'adult';
}

function digits(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) n = n * 10 + (s.charCodeAt(i) - 48);
  return n;
}
