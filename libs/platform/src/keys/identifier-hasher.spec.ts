import { IdentifierHasher } from './identifier-hasher';

describe(IdentifierHasher.name, () => {
  const oldSecret = 'o'.repeat(40);
  const newSecret = 'n'.repeat(40);

  it('hashes normalised identifiers without revealing them', () => {
    const sut = new IdentifierHasher(newSecret);
    const stored = sut.hash('email', ' Ann@Example.TEST ');
    expect(stored).not.toContain('ann');
    expect(sut.matches('email', 'ann@example.test', stored)).toBe(true);
    expect(sut.matches('email', 'bob@example.test', stored)).toBe(false);
    expect(sut.matches('device', 'ann@example.test', stored)).toBe(false);
  });

  it('keeps matching hashes made before a rotation, and flags them for re-keying', () => {
    const before = new IdentifierHasher(oldSecret).hash('phone', '(818) 555-0100');
    const sut = new IdentifierHasher(newSecret, oldSecret);
    expect(sut.matches('phone', '818 555 0100', before)).toBe(true);
    expect(sut.isStale(before)).toBe(true);
    expect(sut.isStale(sut.hash('phone', '818 555 0100'))).toBe(false);
    expect(new IdentifierHasher(newSecret).matches('phone', '818 555 0100', before)).toBe(false);
  });
});
