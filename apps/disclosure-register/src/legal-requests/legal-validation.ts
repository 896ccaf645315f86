import {
  covers,
  type LegalFinding,
  type LegalInstrument,
  type LegalRequestIntake,
  type LegalScope,
  type LegalValidation,
} from '@dsg/contracts';

/** HIP-6, 164.512(f)(1)(ii)(A)-(B): instruments HIPAA accepts as they stand. */
const HIPAA_INSTRUMENTS: readonly LegalInstrument[] = [
  'court-order',
  'warrant',
  'grand-jury-subpoena',
  'judicial-subpoena',
];

/**
 * CMI-3, Civ. Code 56.10(b): a court order, a subpoena in a proceeding (judicial or grand jury),
 * a lawful search warrant. CMIA has no administrative-request path and no oral one.
 */
const CMIA_INSTRUMENTS: readonly LegalInstrument[] = [
  'court-order',
  'warrant',
  'grand-jury-subpoena',
  'judicial-subpoena',
];

/**
 * HIP-6, 164.512(f)(2): to identify or locate a person only these may be disclosed (of the
 * policy's categories: name, postal address, date of birth).
 */
export const IDENTIFY_OR_LOCATE_FIELDS = [
  'identifiers.name',
  'identifiers.contact.address',
  'identifiers.demographics.date-of-birth',
];

const ATTESTATIONS = [
  ['relevantAndMaterial', 'the information is relevant and material to a legitimate inquiry'],
  ['specificAndLimited', 'the request is specific and limited in scope'],
  ['deidentifiedInsufficient', 'de-identified information could not reasonably be used'],
] as const;

export interface LegalAssessment {
  validation: LegalValidation;
  /** What may be disclosed: the scope received, cut to 512(f)(2)'s fields where that applies. */
  scope: LegalScope;
}

/**
 * What each law says of a request as received. HIPAA (HIP-6) is the floor: what it does not
 * allow, CMIA does not either, so the request is refused. What HIPAA allows and CMIA (CMI-3)
 * does not goes to a privacy officer's review, never straight to fulfilment.
 */
export function assessLegalRequest(intake: LegalRequestIntake): LegalAssessment {
  const findings: LegalFinding[] = [];
  let hipaaAllows: boolean;
  let cmiaAllows = CMIA_INSTRUMENTS.includes(intake.instrument);
  let scope: LegalScope = intake.scope;

  if (HIPAA_INSTRUMENTS.includes(intake.instrument)) {
    hipaaAllows = true;
    findings.push({
      rule: 'HIP-6',
      detail: `a ${intake.instrument} is an instrument 164.512(f)(1)(ii) accepts`,
    });
  } else if (intake.instrument === 'administrative-request') {
    const missing = ATTESTATIONS.filter(([key]) => intake.attestations?.[key] !== true);
    hipaaAllows = missing.length === 0;
    findings.push({
      rule: 'HIP-6',
      detail: hipaaAllows
        ? 'an administrative request carrying all three attestations (164.512(f)(1)(ii)(C))'
        : `an administrative request must attest that ${missing.map(([, text]) => text).join('; and that ')} (164.512(f)(1)(ii)(C))`,
    });
  } else {
    // An oral statement: enough under HIPAA only for a law-enforcement official's request to
    // identify or locate a person (512(f)(2)).
    hipaaAllows = intake.identifyOrLocate === true && intake.requesterKind === 'law-enforcement';
    findings.push({
      rule: 'HIP-6',
      detail: hipaaAllows
        ? 'an oral request of law enforcement to identify or locate a person (164.512(f)(2))'
        : 'an oral statement is no instrument for a disclosure under 164.512(f)(1); it may only suspend an accounting (ACC-8)',
    });
  }

  if (intake.identifyOrLocate) {
    // Each category asked for, or the allowed fields under it (`identifiers` → name, address …).
    const categories = [
      ...new Set(
        intake.scope.categories.flatMap((c) =>
          IDENTIFY_OR_LOCATE_FIELDS.some((field) => covers(field, c))
            ? [c]
            : IDENTIFY_OR_LOCATE_FIELDS.filter((field) => covers(c, field)),
        ),
      ),
    ];
    const removed = intake.scope.categories.filter(
      (c) => !IDENTIFY_OR_LOCATE_FIELDS.some((field) => covers(field, c) || covers(c, field)),
    );
    if (removed.length) {
      findings.push({
        rule: 'HIP-6',
        detail: `to identify or locate a person only name, address and date of birth may be disclosed (164.512(f)(2)): not ${removed.join(', ')}`,
      });
    }
    if (categories.length === 0) {
      hipaaAllows = false;
      findings.push({
        rule: 'HIP-6',
        detail: 'nothing requested is among the fields 164.512(f)(2) allows',
      });
    }
    scope = {
      ...intake.scope,
      categories: categories.length ? categories : intake.scope.categories,
    };
  }

  if (!cmiaAllows) {
    findings.push({
      rule: 'CMI-3',
      detail:
        intake.instrument === 'administrative-request'
          ? 'CMIA has no equivalent of the administrative-request path (Civ. Code 56.10(b)): a privacy officer must review it'
          : `a ${intake.instrument} is not among the instruments Civ. Code 56.10(b) accepts`,
    });
  } else {
    findings.push({
      rule: 'CMI-3',
      detail: `a ${intake.instrument} compels disclosure under Civ. Code 56.10(b)`,
    });
  }
  // Neither law allows what HIPAA does not: CMIA is only ever stricter.
  if (!hipaaAllows) cmiaAllows = false;
  return { validation: { hipaaAllows, cmiaAllows, findings }, scope };
}

/** Whether `inner` lies within `outer`: its subjects, its categories, its period. */
export function scopeWithin(inner: LegalScope, outer: LegalScope): string[] {
  const problems: string[] = [];
  const outside = inner.subjects.filter((s) => !outer.subjects.includes(s));
  if (outside.length) problems.push('subjects');
  if (!inner.categories.every((c) => outer.categories.some((o) => covers(o, c)))) {
    problems.push('categories');
  }
  if (outer.from && (!inner.from || Date.parse(inner.from) < Date.parse(outer.from))) {
    problems.push('from');
  }
  if (outer.to && (!inner.to || Date.parse(inner.to) > Date.parse(outer.to))) {
    problems.push('to');
  }
  return problems;
}
