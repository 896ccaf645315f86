import { createHash, hash } from 'node:crypto';

/**
 * The Merkle tree of RFC 9162 (Certificate Transparency 2.0), section 2.1: leaf and node hashes
 * are domain-separated (0x00, 0x01), the tree of n leaves splits at the largest power of two
 * below n. Used by the register to seal tree heads and prove inclusion and consistency, and by
 * the offline verifier to check them without trusting the service.
 */
export type Hash = Buffer;

export function leafHash(leaf: Uint8Array | string): Hash {
  // One call, no Hash object: a string's leaf prefix is the character U+0000 (one zero byte).
  if (typeof leaf === 'string') return hash('sha256', `\u0000${leaf}`, 'buffer');
  return createHash('sha256')
    .update(Buffer.from([0]))
    .update(leaf)
    .digest();
}

/**
 * leafHash of `bytes[start, end)` without copying it: the byte before `start` (which the caller
 * no longer needs) is overwritten with the leaf prefix and the whole hashed in one call.
 */
export function leafHashInPlace(bytes: Buffer, start: number, end: number): Hash {
  bytes[start - 1] = 0;
  return hash('sha256', bytes.subarray(start - 1, end), 'buffer');
}

// Nodes are hashed in one call over a reused buffer: 0x01, left, right (synchronous, so safe).
const node = Buffer.alloc(65);
node[0] = 1;

export function nodeHash(left: Hash, right: Hash): Hash {
  node.set(left, 1);
  node.set(right, 33);
  return hash('sha256', node, 'buffer');
}

/** SHA-256 of the empty string: the root of the empty tree. */
export const EMPTY_ROOT: Hash = createHash('sha256').digest();

/**
 * The roots of the complete subtrees of a tree's leaves so far, left to right (a "compact
 * range"): enough to add leaves and compute the root without the leaves themselves.
 */
export interface CompactRange {
  nodes: { height: number; hash: Hash }[];
  size: number;
}

/** Adds a leaf hash: completed subtrees of one height merge as they meet. */
export function extendRange(range: CompactRange, leaf: Hash): void {
  pushSubtree(range.nodes, { height: 0, hash: leaf });
  range.size++;
}

/**
 * Adds the root of a complete subtree of 2^height leaves to a range's nodes (which must end at a
 * multiple of 2^height leaves), merging as `extendRange` does.
 */
export function pushSubtree(
  nodes: CompactRange['nodes'],
  subtree: { height: number; hash: Hash },
): void {
  let top = subtree;
  while (nodes.length > 0 && nodes[nodes.length - 1].height === top.height) {
    const left = nodes.pop()!;
    top = { height: top.height + 1, hash: nodeHash(left.hash, top.hash) };
  }
  nodes.push(top);
}

/** The root of the range's tree: its subtrees folded right to left (RFC 9162's definition). */
export function rangeRoot(range: CompactRange): Hash {
  const nodes = range.nodes;
  if (nodes.length === 0) return EMPTY_ROOT;
  let hash = nodes[nodes.length - 1].hash;
  for (let i = nodes.length - 2; i >= 0; i--) hash = nodeHash(nodes[i].hash, hash);
  return hash;
}

/** The root of the tree over `leaves` (leaf hashes), in one pass. */
export function rootHash(leaves: readonly Hash[]): Hash {
  const range: CompactRange = { nodes: [], size: 0 };
  for (const leaf of leaves) extendRange(range, leaf);
  return rangeRoot(range);
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

/**
 * The root and every leaf's audit path (each as `inclusionProof` gives it) in one pass over the
 * tree: level by level, adjacent nodes pair up and an odd last node rises unhashed, which builds
 * RFC 9162's tree; a leaf's path is its sibling on each level it has one, from the bottom up.
 * Linear in the leaves, where asking inclusionProof for each would be quadratic.
 */
export function inclusionProofs(leaves: readonly Hash[]): { root: Hash; proofs: Hash[][] } {
  if (leaves.length === 0) return { root: EMPTY_ROOT, proofs: [] };
  const proofs: Hash[][] = leaves.map(() => []);
  // Which node of the current level each leaf is under.
  const at = leaves.map((_, i) => i);
  let level: Hash[] = [...leaves];
  while (level.length > 1) {
    for (let leaf = 0; leaf < leaves.length; leaf++) {
      const i = at[leaf];
      const sibling = i % 2 === 1 ? i - 1 : i + 1;
      if (sibling < level.length) proofs[leaf].push(level[sibling]);
      at[leaf] = i >> 1;
    }
    const up: Hash[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) up.push(nodeHash(level[i], level[i + 1]));
    if (level.length % 2 === 1) up.push(level[level.length - 1]);
    level = up;
  }
  return { root: level[0], proofs };
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

/**
 * The walk both verifications of RFC 9162 (2.1.3.2, 2.1.4.2) make along a proof: each hash joins
 * from the left (`fromLeft`) or the right (`fromRight`) of what has been computed so far. False
 * when the proof is longer than the tree allows; otherwise whether it ended at the root level.
 */
function walk(
  fn: number,
  sn: number,
  path: readonly Hash[],
  fromLeft: (hash: Hash) => void,
  fromRight: (hash: Hash) => void,
): boolean {
  for (const hash of path) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fromLeft(hash);
      if (fn % 2 === 0) {
        do {
          fn >>= 1;
          sn >>= 1;
        } while (fn % 2 === 0 && fn !== 0);
      }
    } else {
      fromRight(hash);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn === 0;
}

/** RFC 9162 2.1.3.2: does `proof` put `leaf` at `index` in the tree of `size` with `root`? */
export function verifyInclusion(
  index: number,
  size: number,
  leaf: Hash,
  proof: readonly Hash[],
  root: Hash,
): boolean {
  return rootFromInclusion(index, size, leaf, proof)?.equals(root) ?? false;
}

/**
 * The root that `proof` puts `leaf` at `index` under, in a tree of `size` leaves (RFC 9162
 * 2.1.3.2's computation), or undefined if the proof does not have that tree's shape.
 */
export function rootFromInclusion(
  index: number,
  size: number,
  leaf: Hash,
  proof: readonly Hash[],
): Hash | undefined {
  if (!Number.isInteger(index) || !Number.isInteger(size) || index < 0 || index >= size) {
    return undefined;
  }
  let r = leaf;
  const ended = walk(
    index,
    size - 1,
    proof,
    (p) => (r = nodeHash(p, r)),
    (p) => (r = nodeHash(r, p)),
  );
  return ended ? r : undefined;
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
  const ended = walk(
    fn,
    sn,
    path.slice(1),
    (c) => {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
    },
    (c) => (sr = nodeHash(sr, c)),
  );
  return ended && fr.equals(firstRoot) && sr.equals(secondRoot);
}

/**
 * The complete subtrees that make up the leaves [from, to), left to right, each as its first
 * leaf and height: at each step the largest subtree that starts there (aligned to its size) and
 * ends by `to`. Pushed (pushSubtree) after a compact range of [0, from) they make one of [0, to).
 */
export function subtreesOf(from: number, to: number): { start: number; height: number }[] {
  const out: { start: number; height: number }[] = [];
  let at = from;
  while (at < to) {
    let height = 0;
    while (at % 2 ** (height + 1) === 0 && at + 2 ** (height + 1) <= to) height++;
    out.push({ start: at, height });
    at += 2 ** height;
  }
  return out;
}

/**
 * Every level of the tree over `size` leaf hashes (32 bytes each, concatenated), for audit paths
 * of many leaves of one tree: RFC 9162's tree is the one where, level by level, nodes pair off left
 * to right and a last node without a partner goes up as it is. About 64 bytes per leaf.
 */
export class MerkleLevels {
  private readonly levels: Buffer[];

  constructor(leaves: Buffer) {
    if (leaves.length % 32 !== 0) throw new RangeError('leaf hashes are 32 bytes each');
    this.levels = [leaves];
    let level = leaves;
    while (level.length > 32) {
      const count = level.length / 32;
      const next = Buffer.alloc(Math.ceil(count / 2) * 32);
      for (let i = 0; i + 1 < count; i += 2) {
        nodeHash(
          level.subarray(i * 32, i * 32 + 32),
          level.subarray(i * 32 + 32, i * 32 + 64),
        ).copy(next, (i / 2) * 32);
      }
      if (count % 2 === 1) level.copy(next, ((count - 1) / 2) * 32, (count - 1) * 32);
      this.levels.push(next);
      level = next;
    }
  }

  get size(): number {
    return this.levels[0].length / 32;
  }

  root(): Hash {
    return this.size === 0 ? EMPTY_ROOT : Buffer.from(this.levels[this.levels.length - 1]);
  }

  /** The audit path of leaf `m`, from its sibling up (as inclusionProof gives it). */
  proof(m: number): Hash[] {
    if (!Number.isInteger(m) || m < 0 || m >= this.size) {
      throw new RangeError('leaf index outside the tree');
    }
    const path: Hash[] = [];
    let index = m;
    for (let l = 0; l < this.levels.length - 1; l++) {
      const sibling = index ^ 1;
      if (sibling * 32 < this.levels[l].length) {
        path.push(Buffer.from(this.levels[l].subarray(sibling * 32, sibling * 32 + 32)));
      }
      index >>= 1;
    }
    return path;
  }
}
