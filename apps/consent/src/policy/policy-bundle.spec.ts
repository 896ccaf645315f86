import { DsgError } from '@dsg/contracts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { loadPolicyBundle } from './policy-bundle';

const seeded = readFileSync(
  join(__dirname, '..', '..', 'policy', 'him-medspa.policy.yaml'),
  'utf8',
);
// A bundle as plain data, edited freely to produce invalid variants.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = Record<string, any>;
const mutate = (change: (bundle: Loose) => void): string => {
  const bundle = parse(seeded) as Loose;
  change(bundle);
  return stringify(bundle);
};
const fieldsOf = (yamlText: string) => {
  try {
    loadPolicyBundle(yamlText);
  } catch (err) {
    return (err as DsgError).fields.map((f) => f.field);
  }
  throw new Error('expected the bundle to be refused');
};

describe(loadPolicyBundle.name, () => {
  it('accepts the seeded bundle, mirroring every section of the published policy', () => {
    const sut = loadPolicyBundle(seeded);
    expect(sut.bundle.policy).toMatchObject({ id: 'him-medspa', version: '2026.1' });
    expect(sut.categoryPaths).toEqual(
      expect.arrayContaining([
        'health',
        'health.medications',
        'payment.financing',
        'website.cookies',
        'identifiers.contact.email',
      ]),
    );
    // POL-2: exactly the recipient kinds section 3 names.
    expect(sut.bundle.recipientKinds.map((k) => k.id).sort()).toEqual([
      'financing-partner',
      'law-enforcement',
      'licensed-medical-professional',
      'payment-processor',
      'regulator',
      'service-provider',
    ]);
    // POL-1: the only sale purpose is there to be refused.
    expect(sut.bundle.purposes.filter((p) => p.sale).map((p) => p.id)).toEqual([
      'sale-of-personal-information',
    ]);
    expect(sut.contentHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('hashes content, not formatting', () => {
    const reformatted = stringify(parse(seeded), { indent: 4 });
    expect(loadPolicyBundle(reformatted).contentHash).toBe(loadPolicyBundle(seeded).contentHash);
    const changed = mutate((b) => (b.purposes[0].label = 'Scheduling'));
    expect(loadPolicyBundle(changed).contentHash).not.toBe(loadPolicyBundle(seeded).contentHash);
  });

  it('names every problem with its path in the file', () => {
    const fields = fieldsOf(
      mutate((b) => {
        b.purposes[2].basis = 'because';
        b.retention[0].period = '7 years';
        delete b.policy.effectiveDate;
      }),
    );
    expect(fields).toEqual(
      expect.arrayContaining(['purposes.2.basis', 'retention.0.period', 'policy.effectiveDate']),
    );
  });

  it('refuses retention for an unknown category, duplicate ids, and a sale treated as TPO (POL-1)', () => {
    expect(fieldsOf(mutate((b) => (b.retention[0].category = 'health.genome')))).toEqual([
      'retention.0.category',
    ]);
    expect(fieldsOf(mutate((b) => b.purposes.push({ ...b.purposes[0] })))).toEqual(['purposes']);
    expect(
      fieldsOf(
        mutate((b) =>
          Object.assign(
            b.purposes.find((p: { sale: boolean }) => p.sale),
            { tpo: 'payment' },
          ),
        ),
      ),
    ).toEqual(['purposes.9']);
  });
});
