import { createHash } from 'node:crypto';
import {
  consistencyProof,
  EMPTY_ROOT,
  inclusionProof,
  inclusionProofs,
  leafHash,
  MerkleLevels,
  nodeHash,
  pushSubtree,
  rangeRoot,
  rootHash,
  subtreesOf,
  verifyConsistency,
  verifyInclusion,
} from './merkle';

/** RFC 9162's definition, recursively, to check the one-pass root against. */
function referenceRoot(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return createHash('sha256').digest();
  if (leaves.length === 1) return leaves[0];
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return nodeHash(referenceRoot(leaves.slice(0, k)), referenceRoot(leaves.slice(k)));
}

const leaves = (n: number) => Array.from({ length: n }, (_, i) => leafHash(`entry ${i}`));

describe('Merkle tree (RFC 9162)', () => {
  it('separates leaf and node hashes and roots the empty tree at SHA-256("")', () => {
    expect(leafHash('').toString('hex')).toBe(
      createHash('sha256')
        .update(Buffer.from([0]))
        .digest('hex'),
    );
    // A leaf given as text hashes as its UTF-8 bytes would (non-ASCII included).
    for (const text of ['{"a":1}', 'Zoë — 診療', '']) {
      expect(leafHash(text)).toEqual(leafHash(Buffer.from(text, 'utf8')));
      expect(leafHash(text)).toEqual(
        createHash('sha256')
          .update(Buffer.concat([Buffer.from([0]), Buffer.from(text, 'utf8')]))
          .digest(),
      );
    }
    expect(EMPTY_ROOT.toString('hex')).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
  });

  it('computes the same root as the recursive definition for every size up to 70', () => {
    for (let n = 0; n <= 70; n++) expect(rootHash(leaves(n))).toEqual(referenceRoot(leaves(n)));
  });

  it('proves and verifies the inclusion of every leaf, and refuses a wrong leaf, index or root', () => {
    for (let n = 1; n <= 33; n++) {
      const tree = leaves(n);
      const root = rootHash(tree);
      for (let m = 0; m < n; m++) {
        const proof = inclusionProof(m, tree);
        expect(verifyInclusion(m, n, tree[m], proof, root)).toBe(true);
        expect(verifyInclusion(m, n, leafHash('forged'), proof, root)).toBe(false);
        if (n > 1) expect(verifyInclusion((m + 1) % n, n, tree[m], proof, root)).toBe(false);
        expect(verifyInclusion(m, n, tree[m], proof, leafHash('other root'))).toBe(false);
      }
    }
  });

  it('gives, in one pass, the root and the same audit path for every leaf as inclusionProof', () => {
    expect(inclusionProofs([])).toEqual({ root: EMPTY_ROOT, proofs: [] });
    for (let n = 1; n <= 40; n++) {
      const tree = leaves(n);
      const { root, proofs } = inclusionProofs(tree);
      expect(root).toEqual(referenceRoot(tree));
      for (let m = 0; m < n; m++) {
        expect(proofs[m]).toEqual(inclusionProof(m, tree));
        expect(verifyInclusion(m, n, tree[m], proofs[m], root)).toBe(true);
      }
    }
  });

  it('gives, from the tree kept level by level, the same root and audit paths as inclusionProof', () => {
    for (let n = 1; n <= 40; n++) {
      const tree = leaves(n);
      const levels = new MerkleLevels(Buffer.concat(tree));
      expect(levels.root()).toEqual(referenceRoot(tree));
      for (let m = 0; m < n; m++) expect(levels.proof(m)).toEqual(inclusionProof(m, tree));
    }
    expect(new MerkleLevels(Buffer.alloc(0)).root()).toEqual(EMPTY_ROOT);
  });

  it('roots any range [from, to) between the subtrees left and right of it (an export’s proof)', () => {
    const subtreeRoot = (tree: Buffer[], s: { start: number; height: number }) =>
      rootHash(tree.slice(s.start, s.start + 2 ** s.height));
    for (let n = 1; n <= 24; n++) {
      const tree = leaves(n);
      for (let from = 0; from <= n; from++) {
        for (let to = from; to <= n; to++) {
          const nodes: { height: number; hash: Buffer }[] = [];
          // Left: the compact range of [0, from); the range's own leaves; right: [to, n).
          for (const s of subtreesOf(0, from))
            nodes.push({ height: s.height, hash: subtreeRoot(tree, s) });
          for (let i = from; i < to; i++) pushSubtree(nodes, { height: 0, hash: tree[i] });
          for (const s of subtreesOf(to, n))
            pushSubtree(nodes, { height: s.height, hash: subtreeRoot(tree, s) });
          expect(rangeRoot({ nodes, size: n })).toEqual(referenceRoot(tree));
        }
      }
    }
    expect(subtreesOf(5, 13)).toEqual([
      { start: 5, height: 0 },
      { start: 6, height: 1 },
      { start: 8, height: 2 },
      { start: 12, height: 0 },
    ]);
  });

  it('proves every earlier tree a prefix of every later one, and refuses a rewritten history', () => {
    for (let n = 1; n <= 33; n++) {
      const tree = leaves(n);
      const root = rootHash(tree);
      for (let m = 1; m <= n; m++) {
        const proof = consistencyProof(m, tree);
        const firstRoot = rootHash(tree.slice(0, m));
        expect(verifyConsistency(m, n, firstRoot, root, proof)).toBe(true);
        // The same size with one early leaf changed is not a prefix.
        const rewritten = [leafHash('rewritten'), ...tree.slice(1, m)];
        if (m < n) {
          expect(verifyConsistency(m, n, rootHash(rewritten), root, proof)).toBe(false);
        }
      }
    }
  });
});
