import { addPeriod, dueFor, type RetentionRule } from './schedule';

const rules: RetentionRule[] = [
  {
    category: 'health',
    period: 'P7Y',
    from: 'last-encounter',
    minorFloor: '19th-birthday',
    action: 'delete',
    rule: 'RET-1',
  },
  { category: 'payment', period: 'P7Y', from: 'creation', action: 'delete', rule: 'RET-4' },
  { category: 'website', period: 'P13M', from: 'creation', action: 'delete', rule: 'RET-5' },
  { category: 'website.device', period: 'P90D', from: 'creation', action: 'delete', rule: 'RET-5' },
];

describe(dueFor.name, () => {
  it('runs a medical record seven years from the last encounter (RET-1)', () => {
    const sut = dueFor(
      rules,
      'health.history',
      { lastEncounter: '2020-03-01T10:00:00Z' },
      '1980-01-01',
    );
    expect(sut).toMatchObject({ rule: 'RET-1', action: 'delete' });
    expect(sut.dueAt?.toISOString()).toBe('2027-03-01T10:00:00.000Z');
  });

  it("keeps a minor's record to the later of its two clocks: the 19th birthday when it comes later (RET-1)", () => {
    const young = dueFor(rules, 'health', { lastEncounter: '2020-03-01T10:00:00Z' }, '2012-06-15');
    expect(young.dueAt?.toISOString()).toBe('2031-06-15T00:00:00.000Z');
    expect(young.reason).toContain('19th birthday');
    const older = dueFor(rules, 'health', { lastEncounter: '2020-03-01T10:00:00Z' }, '2005-06-15');
    expect(older.dueAt?.toISOString()).toBe('2027-03-01T10:00:00.000Z');
  });

  it('takes the most specific rule, and the clock the rule names (RET-4, RET-5)', () => {
    const card = dueFor(rules, 'payment.card', {
      creation: '2026-01-31T00:00:00Z',
      lastEncounter: '2026-06-01T00:00:00Z',
    });
    expect(card).toMatchObject({ rule: 'RET-4' });
    expect(card.dueAt?.toISOString()).toBe('2033-01-31T00:00:00.000Z');
    expect(
      dueFor(rules, 'website.device', { creation: '2026-01-01T00:00:00Z' }).dueAt?.toISOString(),
    ).toBe('2026-04-01T00:00:00.000Z');
    expect(
      dueFor(rules, 'website.cookies', { creation: '2026-01-01T00:00:00Z' }).dueAt?.toISOString(),
    ).toBe('2027-02-01T00:00:00.000Z');
  });

  it('says why nothing is due: no stated period (RET-5), or no date for the clock', () => {
    expect(dueFor(rules, 'identifiers.name', { creation: '2026-01-01T00:00:00Z' })).toEqual({
      rule: 'RET-5',
      reason: 'no retention period is stated for identifiers.name',
    });
    const noClock = dueFor(rules, 'health', { creation: '2026-01-01T00:00:00Z' });
    expect(noClock.dueAt).toBeUndefined();
    expect(noClock.reason).toContain('last-encounter');
  });
});

describe(addPeriod.name, () => {
  it('adds years, months and days in UTC calendar terms', () => {
    expect(addPeriod(new Date('2026-01-31T12:00:00Z'), 'P1M').toISOString()).toBe(
      '2026-03-03T12:00:00.000Z',
    );
    expect(() => addPeriod(new Date(), 'PT5H')).toThrow();
  });
});
