import { ageBand, ageOn } from './age';

describe(ageOn.name, () => {
  it('counts a birthday only once it has come (KID-3)', () => {
    expect(ageOn('2013-06-15', new Date('2026-06-14T23:00:00Z'))).toBe(12);
    expect(ageOn('2013-06-15', new Date('2026-06-15T00:00:00Z'))).toBe(13);
    expect(ageOn('2008-02-29', new Date('2026-02-28T12:00:00Z'))).toBe(17);
    expect(ageOn('2008-02-29', new Date('2026-03-01T12:00:00Z'))).toBe(18);
  });

  it('bands ages at 13, 16 and 18', () => {
    expect([12, 13, 15, 16, 17, 18].map(ageBand)).toEqual([
      'under-13',
      '13-15',
      '13-15',
      '16-17',
      '16-17',
      'adult',
    ]);
    expect(ageBand(undefined)).toBe('unknown');
  });
});
