import type { LegalRequestIntake } from '@dsg/contracts';
import { assessLegalRequest, scopeWithin } from './legal-validation';

const intake = (change: Partial<LegalRequestIntake> = {}): LegalRequestIntake => ({
  requesterKind: 'law-enforcement',
  agency: 'Agency',
  official: { name: 'Official', title: 'Detective' },
  instrument: 'court-order',
  reference: 'REF-1',
  recipientId: 'law-enforcement',
  scope: { subjects: ['c1'], categories: ['identifiers', 'health'] },
  ...change,
});
const all = { relevantAndMaterial: true, specificAndLimited: true, deidentifiedInsufficient: true };

describe(assessLegalRequest.name, () => {
  it.each(['court-order', 'warrant', 'grand-jury-subpoena', 'judicial-subpoena'] as const)(
    'lets both laws allow a %s (HIP-6, CMI-3)',
    (instrument) => {
      const sut = assessLegalRequest(intake({ instrument }));
      expect(sut.validation).toMatchObject({ hipaaAllows: true, cmiaAllows: true });
    },
  );

  it('allows an administrative request with all three attestations under HIPAA only (HIP-6, CMI-3)', () => {
    const sut = assessLegalRequest(
      intake({ instrument: 'administrative-request', attestations: all }),
    );
    expect(sut.validation).toMatchObject({ hipaaAllows: true, cmiaAllows: false });
  });

  it.each(['relevantAndMaterial', 'specificAndLimited', 'deidentifiedInsufficient'] as const)(
    'refuses an administrative request without %s (HIP-6)',
    (missing) => {
      const sut = assessLegalRequest(
        intake({
          instrument: 'administrative-request',
          attestations: { ...all, [missing]: false },
        }),
      );
      expect(sut.validation).toMatchObject({ hipaaAllows: false, cmiaAllows: false });
    },
  );

  it('refuses an oral statement, except law enforcement’s to identify or locate, which goes to review', () => {
    expect(
      assessLegalRequest(intake({ instrument: 'oral-statement' })).validation.hipaaAllows,
    ).toBe(false);
    const court = assessLegalRequest(
      intake({ instrument: 'oral-statement', identifyOrLocate: true, requesterKind: 'court' }),
    );
    expect(court.validation.hipaaAllows).toBe(false);
    const locate = assessLegalRequest(
      intake({ instrument: 'oral-statement', identifyOrLocate: true }),
    );
    expect(locate.validation).toMatchObject({ hipaaAllows: true, cmiaAllows: false });
  });

  it('keeps only the 512(f)(2) fields of an identify-or-locate request, and refuses one that asks for none', () => {
    const sut = assessLegalRequest(
      intake({
        identifyOrLocate: true,
        scope: {
          subjects: ['c1'],
          categories: ['identifiers.contact', 'identifiers.name', 'health'],
        },
      }),
    );
    expect(sut.scope.categories).toEqual(['identifiers.contact.address', 'identifiers.name']);
    const none = assessLegalRequest(
      intake({ identifyOrLocate: true, scope: { subjects: ['c1'], categories: ['health'] } }),
    );
    expect(none.validation.hipaaAllows).toBe(false);
  });
});

describe(scopeWithin.name, () => {
  const outer = {
    subjects: ['a', 'b'],
    categories: ['identifiers'],
    from: '2026-01-01T00:00:00Z',
    to: '2026-06-01T00:00:00Z',
  };
  it('accepts a narrower scope and names what lies outside', () => {
    expect(
      scopeWithin(
        { subjects: ['a'], categories: ['identifiers.name'], from: outer.from, to: outer.to },
        outer,
      ),
    ).toEqual([]);
    expect(
      scopeWithin({ subjects: ['c'], categories: ['health'], from: '2025-12-31T00:00:00Z' }, outer),
    ).toEqual(['subjects', 'categories', 'from', 'to']);
  });
});
