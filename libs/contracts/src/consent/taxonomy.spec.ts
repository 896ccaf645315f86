import { covers, expand, leaves } from './taxonomy';

const known = [
  'health',
  'health.medications',
  'health.allergies',
  'health-records',
  'payment',
  'payment.card',
];

describe('category taxonomy', () => {
  it('matches segment by segment', () => {
    expect(covers('health', 'health.medications')).toBe(true);
    expect(covers('health', 'health')).toBe(true);
    expect(covers('health.medications', 'health')).toBe(false);
    expect(covers('health', 'health-records')).toBe(false);
  });

  it('expands a request for a node to every descendant, and nothing for an unknown path', () => {
    expect(expand('health', known)).toEqual(['health', 'health.medications', 'health.allergies']);
    expect(expand('health.genome', known)).toEqual([]);
    expect(leaves('health', known)).toEqual(['health.medications', 'health.allergies']);
    expect(leaves('payment.card', known)).toEqual(['payment.card']);
  });
  it('covers exactly as segment-by-segment comparison does', () => {
    const bySegments = (rule: string, requested: string) => {
      const r = rule.split('.');
      const q = requested.split('.');
      return r.length <= q.length && r.every((segment, i) => segment === q[i]);
    };
    const paths = [
      '',
      '.',
      'a',
      'ab',
      'a.b',
      'a.bc',
      'ab.c',
      'a.b.c',
      'a..b',
      'health',
      'health-records',
      'health.x',
    ];
    for (const rule of paths) {
      for (const requested of paths) {
        expect([rule, requested, covers(rule, requested)]).toEqual([
          rule,
          requested,
          bySegments(rule, requested),
        ]);
      }
    }
  });
});
