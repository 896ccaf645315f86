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
    expect(() => canonicalJson([1, undefined])).toThrow('cannot carry undefined');
    expect(() => canonicalJson(undefined)).toThrow('cannot carry undefined');
    expect(() => canonicalJson({ a: 1n })).toThrow('cannot carry bigint');
  });

  /** RFC 8785 as written out: keys sorted at every level, whatever order the value has. */
  function reference(value: unknown): string {
    if (value === null || typeof value !== 'object') {
      if (typeof value === 'number' && !Number.isFinite(value)) throw new Error('non-finite');
      if (value !== null && !['string', 'number', 'boolean'].includes(typeof value)) {
        throw new Error(typeof value);
      }
      return JSON.stringify(value);
    }
    if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`;
    const members = Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${reference((value as Record<string, unknown>)[k])}`);
    return `{${members.join(',')}}`;
  }

  /** A small deterministic generator (xorshift), so a failure is reproducible. */
  function random(seed: number): () => number {
    let x = seed;
    return () => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) / 2 ** 32;
    };
  }
  const KEYS = [
    'a',
    'b',
    'B',
    '1',
    '10',
    '2',
    '\u00f6',
    '\u20ac',
    '\ud83d\ude00',
    '',
    'toJSON',
    'z',
  ];

  function value(rnd: () => number, depth: number, sorted: boolean): unknown {
    const pick = rnd();
    if (depth > 3 || pick < 0.35) {
      const leaves = [null, true, false, 0, -0, 1.5, 1e21, 'x', 'é\n"', -7, undefined];
      return leaves[Math.floor(rnd() * leaves.length)];
    }
    if (pick < 0.55) {
      return Array.from({ length: Math.floor(rnd() * 4) }, () => value(rnd, depth + 1, sorted));
    }
    const keys = KEYS.filter(() => rnd() < 0.4);
    if (sorted) keys.sort();
    const object: Record<string, unknown> = {};
    for (const k of keys) object[k] = value(rnd, depth + 1, sorted);
    return object;
  }

  it('writes a value whose keys are already in order, or not, as the RFC says (both paths)', () => {
    const rnd = random(20261201);
    for (let i = 0; i < 3000; i++) {
      const v = value(rnd, 0, i % 2 === 0);
      let expected: string | Error;
      try {
        expected = reference(v);
      } catch (err) {
        expected = err as Error;
      }
      if (expected instanceof Error) expect(() => canonicalJson(v)).toThrow();
      else expect(canonicalJson(v)).toBe(expected);
    }
  });

  it('does not take a toJSON, a Date or a class instance for a plain object', () => {
    const at = new Date(0);
    expect(canonicalJson({ a: at })).toBe(reference({ a: at }));
    expect(() => canonicalJson({ a: { toJSON: () => 'x' } })).toThrow('cannot carry function');
    class Point {
      constructor(
        readonly y = 2,
        readonly x = 1,
      ) {}
    }
    expect(canonicalJson(new Point())).toBe('{"x":1,"y":2}');
    const inherited = Object.create({ b: 1 }) as Record<string, unknown>;
    inherited.a = 2;
    expect(canonicalJson(inherited)).toBe('{"a":2}');
  });
});
