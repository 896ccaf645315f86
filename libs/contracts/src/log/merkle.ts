import { createHash } from 'node:crypto';

/**
 * The Merkle tree of RFC 9162 (Certificate Transparency 2.0), section 2.1: leaf and node hashes
 * are domain-separated (0x00, 0x01), the tree of n leaves splits at the largest power of two
 * below n. Used by the register to seal tree heads and prove inclusion and consistency, and by
 * the offline verifier to check them without trusting the service.
 */
export type Hash = Buffer;

export function leafHash(leaf: Uint8Array | string): Hash {
  return createHash('sha256')
    .update(Buffer.from([0]))
    .update(leaf)
    .digest();
}

export function nodeHash(left: Hash, right: Hash): Hash {
  return createHash('sha256')
    .update(Buffer.from([1]))
    .update(left)
    .update(right)
    .digest();
}

/** SHA-256 of the empty string: the root of the empty tree. */
export const EMPTY_ROOT: Hash = createHash('sha256').digest();

/**
 * The root of the tree over `leaves` (leaf hashes), in one pass: completed subtrees are kept on a
 * stack and merged when two of one height meet, then folded right to left, which is the RFC's
 * recursive definition computed bottom-up.
 */
export function rootHash(leaves: readonly Hash[]): Hash {
  if (leaves.length === 0) return EMPTY_ROOT;
  const stack: { height: number; hash: Hash }[] = [];
  for (const leaf of leaves) {
    let top = { height: 0, hash: leaf };
    while (stack.length > 0 && stack[stack.length - 1].height === top.height) {
      const left = stack.pop()!;
      top = { height: top.height + 1, hash: nodeHash(left.hash, top.hash) };
    }
    stack.push(top);
  }
  let hash = stack.pop()!.hash;
  while (stack.length > 0) hash = nodeHash(stack.pop()!.hash, hash);
  return hash;
}

/** The largest power of two strictly below n (n > 1). */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** PATH(m, D[0:n]) of RFC 9162 2.1.3.1: the audit path of leaf m in the tree of `leaves`. */
export function inclusionProof(m: number, leaves: readonly Hash[]): Hash[] {
  if (m < 0 || m >= leaves.length) throw new RangeError('leaf index outside the tree');
  const path = (index: number, from: number, to: number): Hash[] => {
    const n = to - from;
    if (n === 1) return [];
    const k = split(n);
    return index < k
      ? [...path(index, from, from + k), rootHash(leaves.slice(from + k, to))]
      : [...path(index - k, from + k, to), rootHash(leaves.slice(from, from + k))];
  };
  return path(m, 0, leaves.length);
}

/** PROOF(m, D[0:n]) of RFC 9162 2.1.4.1: the tree of the first m leaves is a prefix of this one. */
export function consistencyProof(m: number, leaves: readonly Hash[]): Hash[] {
  const n = leaves.length;
  if (m < 1 || m > n) throw new RangeError('the first tree size must be 1..n');
  const subproof = (size: number, from: number, to: number, complete: boolean): Hash[] => {
    const count = to - from;
    if (size === count) return complete ? [] : [rootHash(leaves.slice(from, to))];
    const k = split(count);
    return size <= k
      ? [...subproof(size, from, from + k, complete), rootHash(leaves.slice(from + k, to))]
      : [...subproof(size - k, from + k, to, false), rootHash(leaves.slice(from, from + k))];
  };
  return subproof(m, 0, n, true);
}

/** RFC 9162 2.1.3.2: does `proof` put `leaf` at `index` in the tree of `size` with `root`? */
export function verifyInclusion(
  index: number,
  size: number,
  leaf: Hash,
  proof: readonly Hash[],
  root: Hash,
): boolean {
  if (index < 0 || index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        do {
          fn >>= 1;
          sn >>= 1;
        } while (fn % 2 === 0 && fn !== 0);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn === 0 && r.equals(root);
}

/** RFC 9162 2.1.4.2: is the tree of `first` leaves (firstRoot) a prefix of `second`'s? */
export function verifyConsistency(
  first: number,
  second: number,
  firstRoot: Hash,
  secondRoot: Hash,
  proof: readonly Hash[],
): boolean {
  if (first < 1 || first > second) return false;
  if (first === second) return proof.length === 0 && firstRoot.equals(secondRoot);
  let path = [...proof];
  // A first tree that is a complete subtree is not in the proof: it starts the path.
  if ((first & (first - 1)) === 0) path = [firstRoot, ...path];
  if (path.length === 0) return false;
  let fn = first - 1;
  let sn = second - 1;
  while (fn % 2 === 1) {
    fn >>= 1;
    sn >>= 1;
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) {
        do {
          fn >>= 1;
          sn >>= 1;
        } while (fn % 2 === 0 && fn !== 0);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn === 0 && fr.equals(firstRoot) && sr.equals(secondRoot);
}
