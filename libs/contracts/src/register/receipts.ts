import { canonicalJson } from '../log/canonical-json';
import { type Hash, inclusionProofs, leafHash, rootFromInclusion } from '../log/merkle';
import type { DisclosureReceipt, ReceiptBatch } from './disclosures.dto';

/**
 * Disclosure receipts are signed a batch at a time: the receipts one commit of the register
 * answers are the leaves of a Merkle tree (RFC 9162: leaf = SHA-256(0x00 ‖ canonical JSON of the
 * receipt without `batch`, `kid` and `signature`)), and the register signs, once, the canonical
 * JSON of `{receipts: <root, hex>, size: <leaves>}`. Each receipt carries its place in the batch
 * and its audit path (`batch`), so it verifies on its own: recompute its leaf, walk the path to
 * the root, check the signature over that message with the published key `kid`. One signature a
 * batch instead of one a receipt; a receipt proves exactly what one signed on its own would.
 */

/** What a receipt's leaf covers: every field but its batch proof and its signature. */
export type ReceiptBody = Omit<DisclosureReceipt, 'batch' | 'kid' | 'signature'> &
  Record<string, unknown>;

export function receiptLeaf(body: ReceiptBody): Hash {
  return leafHash(canonicalJson(body));
}

/** The message a batch's signature is over. */
export function receiptBatchMessage(root: Hash, size: number): string {
  return canonicalJson({ receipts: root.toString('hex'), size });
}

/** The batch of `bodies`: the message to sign, and each receipt's `batch` field. */
export function receiptBatch(bodies: readonly ReceiptBody[]): {
  message: string;
  batches: ReceiptBatch[];
} {
  const { root, proofs } = inclusionProofs(bodies.map(receiptLeaf));
  return {
    message: receiptBatchMessage(root, bodies.length),
    batches: proofs.map((proof, index) => ({
      size: bodies.length,
      index,
      proof: proof.map((h) => h.toString('hex')),
    })),
  };
}

/**
 * The message a receipt's signature must verify over (with the key `receipt.kid`), or undefined
 * if its batch proof is malformed. Verify it as any signature of the register's:
 * `verifyWithPublishedKey(receiptSignedMessage(r), {kid: r.kid, alg: 'EdDSA', sig: r.signature}, keys)`.
 */
export function receiptSignedMessage(receipt: DisclosureReceipt): string | undefined {
  const { batch, kid: _kid, signature: _signature, ...body } = receipt;
  if (!batch || !Array.isArray(batch.proof)) return undefined;
  const proof: Hash[] = [];
  for (const hex of batch.proof) {
    if (typeof hex !== 'string' || !/^[0-9a-f]{64}$/.test(hex)) return undefined;
    proof.push(Buffer.from(hex, 'hex'));
  }
  const root = rootFromInclusion(batch.index, batch.size, receiptLeaf(body as ReceiptBody), proof);
  return root ? receiptBatchMessage(root, batch.size) : undefined;
}
