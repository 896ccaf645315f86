import { canonicalJson } from './canonical-json';

describe('canonicalJson (RFC 8785)', () => {
  it('sorts members by UTF-16 code units (the RFC 3.2.3 example)', () => {
    const input = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    const keys = Object.keys(JSON.parse(canonicalJson(input)) as object);
    // Integer-like keys are listed first by any object; the order of the text is what counts.
    const text = canonicalJson(input);
    const order = ['\r', '1', '\u0080', '\u00f6', '\u20ac', '\ud83d\ude00', '\ufb33'].map((k) =>
      text.indexOf(JSON.stringify(k) + ':'),
    );
    expect(keys).toHaveLength(7);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it('writes numbers as ECMAScript does (the RFC 3.2.2.3 example) and no whitespace', () => {
    const input: unknown = JSON.parse(
      '{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001]}',
    );
    expect(canonicalJson(input)).toBe('{"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27]}');
    expect(canonicalJson({ b: [true, null, { d: 'x', c: 'y\n' }], a: 1 })).toBe(
      '{"a":1,"b":[true,null,{"c":"y\\n","d":"x"}]}',
    );
  });

  it('leaves out undefined members and refuses what JSON cannot carry', () => {
    expect(canonicalJson({ a: undefined, b: 2 })).toBe('{"b":2}');
    expect(canonicalJson({})).toBe('{}');
    expect(() => canonicalJson({ a: NaN })).toThrow('non-finite');
    expect(() => canonicalJson([Infinity])).toThrow('non-finite');
  });
});
