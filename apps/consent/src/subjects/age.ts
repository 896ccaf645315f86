import type { AGE_BANDS } from '@dsg/contracts';

type AgeBand = (typeof AGE_BANDS)[number];

/** Whole years between a YYYY-MM-DD birth date and `on` (a Date, compared as a calendar day). */
export function ageOn(dateOfBirth: string, on: Date): number {
  const [y, m, d] = dateOfBirth.split('-').map(Number);
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
