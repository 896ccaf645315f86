/**
 * RFC 8785 (JSON Canonicalization Scheme): object keys sorted by UTF-16 code units (the default
 * order of `Array.prototype.sort`), no whitespace, numbers and strings as ECMAScript serialises
 * them. Undefined members are left out; a value JSON cannot carry (NaN, Infinity) is refused
 * rather than turned into null. Written as loops: it runs on every append and every verify.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) {
      throw new Error('canonical JSON cannot carry a non-finite number');
    }
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      out += (i === 0 ? '' : ',') + canonicalJson(value[i]);
    }
    return out + ']';
  }
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object).sort();
  let out = '{';
  for (const key of keys) {
    const member = object[key];
    if (member === undefined) continue;
    out += (out.length === 1 ? '' : ',') + JSON.stringify(key) + ':' + canonicalJson(member);
  }
  return out + '}';
}
