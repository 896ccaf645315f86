/**
 * RFC 8785 (JSON Canonicalization Scheme): object keys sorted by UTF-16 code units (the default
 * order of `Array.prototype.sort`), no whitespace, numbers and strings as ECMAScript serialises
 * them. Undefined members are left out; a value JSON cannot carry (NaN, Infinity, undefined
 * elsewhere, a function) is refused rather than turned into null or dropped. Written as loops: it runs on every append and every verify.
 *
 * A value already in canonical form — plain objects whose keys are in canonical order, finite
 * numbers, no undefined array element, nothing with a toJSON — is written by JSON.stringify,
 * which then writes exactly these bytes (RFC 8785 takes its strings and numbers from
 * ECMAScript's JSON.stringify), without sorting or joining anything. Writers of leaves build
 * their objects in that order; anything else takes the general path.
 */
export function canonicalJson(value: unknown): string {
  return inCanonicalOrder(value, 0) ? JSON.stringify(value) : sortedCanonicalJson(value);
}

/** Deeper than this, the general path decides (and a cycle fails there, as it always did). */
const MAX_FAST_DEPTH = 32;

/**
 * True when JSON.stringify(value) is its canonical JSON: checked without allocating (for…in
 * lists a plain object's keys in its own order; any key not after the one before fails).
 */
function inCanonicalOrder(value: unknown, depth: number): boolean {
  if (value === null) return true;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object':
      break;
    default:
      return false;
  }
  if (depth > MAX_FAST_DEPTH) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (!inCanonicalOrder(value[i], depth + 1)) return false;
    }
    return true;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  const object = value as Record<string, unknown>;
  let previous: string | undefined;
  for (const key in object) {
    if (previous !== undefined && !(previous < key)) return false;
    if (!Object.prototype.hasOwnProperty.call(object, key)) return false;
    const member = object[key];
    if (member !== undefined && !inCanonicalOrder(member, depth + 1)) return false;
    previous = key;
  }
  return true;
}

/** What JSON carries besides null and objects (undefined only as an object member, left out). */
const CARRIED = new Set(['string', 'number', 'boolean']);

function sortedCanonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) {
      throw new Error('canonical JSON cannot carry a non-finite number');
    }
    if (value !== null && !CARRIED.has(typeof value)) {
      throw new Error(`canonical JSON cannot carry ${typeof value} here`);
    }
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      out += (i === 0 ? '' : ',') + sortedCanonicalJson(value[i]);
    }
    return out + ']';
  }
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object).sort();
  let out = '{';
  for (const key of keys) {
    const member = object[key];
    if (member === undefined) continue;
    out += (out.length === 1 ? '' : ',') + JSON.stringify(key) + ':' + sortedCanonicalJson(member);
  }
  return out + '}';
}
