import { createHash, hash } from 'node:crypto';
import { canonicalJson } from './canonical-json';

/**
 * What a register leaf commits to, checked without trusting the register: its `position`, and
 * its `details` commitment (SHA-256 over the entry's salt and the canonical JSON of its personal
 * details, which are kept apart from the leaf). Shared by the register's `verify` and the offline
 * export verifier.
 */

// The salt and details are hashed in one call from a reused buffer (synchronous, so safe).
const scratch = Buffer.alloc(64 * 1024);

/** SHA-256 over the salt and the canonical JSON of the details, hex: the leaf's commitment. */
export function commitment(salt: Uint8Array, details: unknown): string {
  return commitmentOfText(salt, canonicalJson(details));
}

/** The commitment to details given as their canonical JSON text. */
export function commitmentOfText(salt: Uint8Array, text: string): string {
  if (salt.length + text.length * 3 > scratch.length) {
    return createHash('sha256').update(salt).update(text).digest('hex');
  }
  scratch.set(salt, 0);
  const length = salt.length + scratch.write(text, salt.length, 'utf8');
  return hash('sha256', scratch.subarray(0, length), 'hex');
}

/** SHA-256 over the salt and the details' bytes as stored, hex. */
export function storedCommitment(
  salt: Uint8Array,
  bytes: Buffer,
  start: number,
  end: number,
): string {
  if (salt.length + end - start > scratch.length) {
    return createHash('sha256').update(salt).update(bytes.subarray(start, end)).digest('hex');
  }
  scratch.set(salt, 0);
  bytes.copy(scratch, salt.length, start, end);
  return hash('sha256', scratch.subarray(0, salt.length + end - start), 'hex');
}

/** Whether details stored in another form than canonical JSON are the committed content. */
export function canonicalCommits(salt: Uint8Array, text: string, committed: unknown): boolean {
  let details: unknown;
  try {
    details = JSON.parse(text);
  } catch {
    return false; // not JSON: commits to nothing
  }
  return commitment(salt, details) === committed;
}

const POSITION_KEY = Buffer.from('"position":');
const DETAILS_KEY = Buffer.from('"details":"');

/**
 * Whether the details stored as `bytes[start, end)` are what `committed` commits to: hashed as
 * they are (the register stores the canonical JSON it committed to) or, stored in another form
 * (written before it did, as jsonb), parsed and canonicalised first.
 */
export function detailsCommitted(
  salt: Uint8Array,
  bytes: Buffer,
  start: number,
  end: number,
  committed: unknown,
): boolean {
  return (
    storedCommitment(salt, bytes, start, end) === committed ||
    canonicalCommits(salt, bytes.toString('utf8', start, end), committed)
  );
}

/** A leaf's `position` and `details` members (undefined if it is not a JSON object). */
export function leafMembers(
  bytes: Buffer,
  start: number,
  end: number,
): { position?: unknown; details?: unknown } | undefined {
  const leaf = bytes.subarray(start, end);
  const p = leaf.indexOf(POSITION_KEY);
  const d = leaf.indexOf(DETAILS_KEY);
  if (p >= 0 && d >= 0) {
    let i = p + POSITION_KEY.length;
    let position = 0;
    for (let c = leaf[i]; c >= 0x30 && c <= 0x39; c = leaf[++i])
      position = position * 10 + c - 0x30;
    const close = leaf.indexOf(0x22, d + DETAILS_KEY.length);
    if (i > p + POSITION_KEY.length && (leaf[i] === 0x2c || leaf[i] === 0x7d) && close > 0) {
      return { position, details: leaf.toString('latin1', d + DETAILS_KEY.length, close) };
    }
  }
  try {
    const parsed = JSON.parse(leaf.toString('utf8')) as unknown;
    return parsed !== null && typeof parsed === 'object' ? parsed : undefined;
  } catch {
    return undefined;
  }
}
