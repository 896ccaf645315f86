import { generateKeyPairSync, sign, verify } from 'node:crypto';
import type { DisclosureReceipt } from './disclosures.dto';
import { type ReceiptBody, receiptBatch, receiptSignedMessage } from './receipts';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');

/** A batch of n receipts signed as the register signs them. */
function signedBatch(n: number): DisclosureReceipt[] {
  const bodies: ReceiptBody[] = Array.from({ length: n }, (_, i) => ({
    entryId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    position: 100 + i,
    leafHash: 'ab'.repeat(32),
    decision: i % 3 === 0 ? 'DENY' : 'ALLOW',
    reasons: i % 3 === 0 ? ['POL-2'] : [],
    recordedAt: '2026-11-26T09:00:00.000Z',
  }));
  const { message, batches } = receiptBatch(bodies);
  const signature = sign(null, Buffer.from(message), privateKey).toString('base64url');
  return bodies.map((body, i) => ({ ...body, batch: batches[i], kid: 'k1', signature }));
}

const verifies = (receipt: DisclosureReceipt): boolean => {
  const message = receiptSignedMessage(receipt);
  return (
    message !== undefined &&
    verify(null, Buffer.from(message), publicKey, Buffer.from(receipt.signature, 'base64url'))
  );
};

describe('disclosure receipts, signed a batch at a time', () => {
  it('verifies every receipt of batches of every size on its own', () => {
    for (let n = 1; n <= 20; n++) {
      for (const receipt of signedBatch(n)) expect(verifies(receipt)).toBe(true);
    }
  });

  it('refuses a receipt with any field changed, or moved to another place in its batch', () => {
    const [first, second] = signedBatch(7);
    expect(verifies({ ...first, decision: 'ALLOW' })).toBe(false);
    expect(verifies({ ...first, reasons: [] })).toBe(false);
    expect(verifies({ ...first, position: first.position + 1 })).toBe(false);
    expect(verifies({ ...second, retryOf: 'x' })).toBe(false);
    expect(verifies({ ...first, batch: { ...first.batch, index: 1 } })).toBe(false);
    expect(verifies({ ...first, batch: second.batch })).toBe(false);
  });

  it('gives no message for a malformed batch proof', () => {
    const [receipt] = signedBatch(5);
    const bad = (batch: unknown) =>
      receiptSignedMessage({ ...receipt, batch: batch as DisclosureReceipt['batch'] });
    expect(bad(undefined)).toBeUndefined();
    expect(bad({ ...receipt.batch, proof: ['zz'] })).toBeUndefined();
    expect(bad({ ...receipt.batch, index: 5 })).toBeUndefined();
    expect(bad({ ...receipt.batch, proof: receipt.batch.proof.slice(1) })).toBeUndefined();
    expect(bad({ ...receipt.batch, size: 0 })).toBeUndefined();
  });
});
