import { detailsCommitted, leafMembers } from '@dsg/contracts/log/leaf';
import { type CompactRange, extendRange, leafHashInPlace } from '@dsg/contracts/log/merkle';

export { commitment, commitmentOfText } from '@dsg/contracts/log/leaf';

/**
 * What `verify` does to each entry, over a batch of entries read with `COPY (SELECT position,
 * leaf, leaf_hash, details::text, salt …) TO STDOUT (FORMAT binary)`. Pure and self-contained
 * (no Nest, no database) so it runs in worker threads, several batches at once: batches start at
 * positions that are multiples of VERIFY_BATCH_ROWS (a power of two), so each batch's Merkle
 * subtrees are whole subtrees of the log and the batches' results fold into one tree in order.
 */
export const VERIFY_BATCH_ROWS = 1 << 13;

/** The columns `verify` reads, in the order the batch parser expects them. */
export const VERIFY_COPY_SQL = `COPY (SELECT position, leaf, leaf_hash, details::text, salt
  FROM disclosure_register.entries ORDER BY position) TO STDOUT (FORMAT binary)`;

export interface BatchJob {
  /** The position the batch's first entry must be at. */
  first: number;
  /** Complete tuples of the binary COPY stream, nothing else. */
  bytes: Uint8Array;
  /** Sizes of sealed tree heads that end inside this batch, ascending. */
  headSizes: number[];
}

export type Nodes = { height: number; hash: Buffer }[];

export interface BatchResult {
  /** Entries checked and found good (the batch's own, from `first`). */
  checked: number;
  /** The first entry that does not match, if any: nothing after it was looked at. */
  bad?: { position: number; problem: string };
  /** The batch's compact range after its last good entry. */
  nodes: Nodes;
  /** The batch's compact range at each head size in `headSizes` that was reached. */
  snapshots: { size: number; nodes: Nodes }[];
}

/**
 * Checks a batch's entries: each at its place, its leaf hashing to its stored hash, its details
 * to the commitment. This is verify's hot path, so it reads the COPY bytes by offset and finds the
 * leaf's `position` and `details` members without parsing the whole leaf. That is exact for any
 * leaf the register wrote: a quote stands unescaped in canonical JSON only where a string starts
 * or ends, so `"position":` can only be a member name, and the register's leaves have these two
 * members once, at the top level (their one nested object is `recipient: {id, version}`). A leaf
 * changed by anyone else fails its hash, or the root of the next tree head, whatever it holds.
 */
export function checkBatch(job: BatchJob): BatchResult {
  const bytes = Buffer.from(job.bytes.buffer, job.bytes.byteOffset, job.bytes.byteLength);
  const range: CompactRange = { nodes: [], size: 0 };
  const snapshots: BatchResult['snapshots'] = [];
  let head = 0;
  const result = (bad?: BatchResult['bad']): BatchResult => ({
    checked: range.size,
    bad,
    nodes: range.nodes,
    snapshots,
  });
  let at = 0;
  while (at < bytes.length) {
    const expected = job.first + range.size;
    // Five fields, each a length (-1 for NULL) and its bytes; the batcher checked the shape.
    const position = bytes.readUInt32BE(at + 6) * 2 ** 32 + bytes.readUInt32BE(at + 10);
    const leafStart = at + 18;
    const leafEnd = leafStart + bytes.readInt32BE(at + 14);
    const storedHash = leafEnd + 4;
    const detailsLength = bytes.readInt32BE(storedHash + 32);
    const detailsStart = storedHash + 36;
    const detailsEnd = detailsStart + Math.max(detailsLength, 0);
    const saltLength = bytes.readInt32BE(detailsEnd);
    const saltStart = detailsEnd + 4;
    at = saltStart + Math.max(saltLength, 0);

    if (position !== expected) return result({ position: expected, problem: 'entry missing' });
    const members = leafMembers(bytes, leafStart, leafEnd);
    const hash = leafHashInPlace(bytes, leafStart, leafEnd);
    if (hash.compare(bytes, storedHash, storedHash + 32) !== 0) {
      return result({ position, problem: 'leaf does not match its hash' });
    }
    if (!members) return result({ position, problem: 'leaf is not JSON' });
    if (members.position !== position) {
      return result({ position, problem: 'entry is not at its place' });
    }
    if (detailsLength >= 0 && saltLength >= 0) {
      // The register stores details as the canonical JSON it committed to, so they are hashed
      // as they are; details stored otherwise (written before it did, as jsonb) are parsed and
      // canonicalised first. Either way they must be the committed content.
      const salt = bytes.subarray(saltStart, saltStart + saltLength);
      if (!detailsCommitted(salt, bytes, detailsStart, detailsEnd, members.details)) {
        return result({ position, problem: 'details do not match their commitment' });
      }
    }
    extendRange(range, hash);
    while (head < job.headSizes.length && job.headSizes[head] === job.first + range.size) {
      snapshots.push({ size: job.headSizes[head], nodes: [...range.nodes] });
      head++;
    }
  }
  return result();
}

/**
 * Cuts a binary COPY stream into batches of whole tuples, VERIFY_BATCH_ROWS at a time, copying
 * each byte once: chunks are kept as they come and joined when a batch is complete; only a tuple
 * split across two chunks is carried over.
 */
export class CopyBatcher {
  private carry: Buffer = Buffer.alloc(0);
  private parts: Buffer[] = [];
  private rows = 0;
  private started = false;
  private ended = false;

  /** Feeds a chunk; returns the batches it completed. */
  push(chunk: Buffer): Buffer[] {
    const batches: Buffer[] = [];
    const buf = this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : chunk;
    let offset = 0;
    if (!this.started) {
      if (buf.length < 19) {
        this.carry = Buffer.from(buf);
        return batches;
      }
      if (!buf.subarray(0, 11).equals(SIGNATURE)) throw new Error('not a binary COPY stream');
      offset = 19 + buf.readInt32BE(15);
      this.started = true;
    }
    let taken = offset;
    for (;;) {
      const end = tupleEnd(buf, offset);
      if (end === undefined) break;
      if (end === -1) {
        this.ended = true; // the trailer: what follows it is nothing
        break;
      }
      offset = end;
      if (++this.rows === VERIFY_BATCH_ROWS) {
        this.parts.push(buf.subarray(taken, offset));
        batches.push(Buffer.concat(this.parts));
        this.parts = [];
        this.rows = 0;
        taken = offset;
      }
    }
    if (offset > taken) this.parts.push(buf.subarray(taken, offset));
    this.carry = this.ended ? Buffer.alloc(0) : Buffer.from(buf.subarray(offset));
    return batches;
  }

  /** The last, partial batch, once the stream has ended; throws if it ended mid-tuple. */
  finish(): Buffer | undefined {
    if (this.carry.length > 0 || (this.started && !this.ended)) {
      throw new Error('the COPY stream ended inside a row');
    }
    if (this.rows === 0) return undefined;
    const last = Buffer.concat(this.parts);
    this.parts = [];
    this.rows = 0;
    return last;
  }
}

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/** The end of the tuple at `offset`: -1 at the trailer, undefined if it is not all here. */
function tupleEnd(buf: Buffer, offset: number): number | undefined {
  if (offset + 2 > buf.length) return undefined;
  const fields = buf.readInt16BE(offset);
  if (fields === -1) return -1;
  if (fields !== 5) throw new Error(`a COPY row of ${fields} fields, not 5`);
  let at = offset + 2;
  for (let i = 0; i < fields; i++) {
    if (at + 4 > buf.length) return undefined;
    const length = buf.readInt32BE(at);
    at += 4 + Math.max(length, 0);
    if (at > buf.length) return undefined;
  }
  return at;
}
