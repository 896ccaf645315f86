import type { LEGAL_BASES } from '@dsg/contracts';

type LegalBasis = (typeof LEGAL_BASES)[number];

/**
 * ACC-2 (164.528(a)(1)): whether a disclosure belongs in an accounting derives from its legal
 * basis. Treatment, payment and health care operations (TPO) and disclosures under a valid
 * authorization are excluded; those required by law (164.512(a)) and to law enforcement
 * (164.512(f)) are included.
 */
export const ACCOUNTABLE_BASES: Record<LegalBasis, boolean> = {
  treatment: false,
  payment: false,
  'health-care-operations': false,
  authorization: false,
  'required-by-law': true,
  'law-enforcement': true,
};

/** What of an entry's leaf decides whether it is accounted for. */
export interface AccountableLeaf {
  type: string;
  decision: string;
  legalBasis: string;
  flagged?: boolean;
}

/**
 * Whether an entry is a disclosure the subject's accounting lists. A disclosure the register
 * denied never happened. A reported one that failed the checks was impermissible, and
 * impermissible disclosures are always accountable, whatever basis was claimed (ACC-2; ACC-3:
 * business associates' reports the same). An unknown basis counts as accountable: leaving a
 * disclosure out is the error that cannot be seen.
 */
export function isAccountable(leaf: AccountableLeaf): boolean {
  if (leaf.type === 'reported-disclosure' && leaf.flagged) return true;
  if (leaf.type === 'disclosure' && leaf.decision !== 'ALLOW') return false;
  if (leaf.type !== 'disclosure' && leaf.type !== 'reported-disclosure') return false;
  return ACCOUNTABLE_BASES[leaf.legalBasis as LegalBasis] ?? true;
}

/** ACC-4: six calendar years before the request (29 February falls to 1 March). */
export function sixYearsBefore(at: Date): Date {
  const d = new Date(at.getTime());
  d.setUTCFullYear(d.getUTCFullYear() - 6);
  return d;
}
