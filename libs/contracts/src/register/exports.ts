import { createHash, hash } from 'node:crypto';
import { exportVerifyWorkers } from './export-verify-workers';
import { canonicalJson } from '../log/canonical-json';
import { detailsCommitted, leafMembers } from '../log/leaf';
import {
  type CompactRange,
  type Hash,
  leafHashInPlace,
  pushSubtree,
  rangeRoot,
  rootFromInclusion,
  subtreesOf,
} from '../log/merkle';
import { type KeyLike, signedBy } from '../keys/signed-by';
import type { ExportFormat, ExportManifest } from './exports.dto';

/**
 * Register exports, and their offline verification. An export is the register's entries as they
 * are stored (the leaf, its hash, the personal details kept apart and the salt of their
 * commitment), one line each, with a manifest the register signs. An auditor checks it with
 * `verifyExport` (or `npm run verify-export`) and the register's published keys alone:
 * - a contiguous export (kind `range`) must hold exactly the entries [fromPosition, toPosition)
 *   in order: every leaf is recomputed from its line, and with the subtrees left and right of the
 *   range (the manifest's rangeProof) they must give the root of the signed tree head;
 * - a filtered export (kind `filtered`) carries each entry's inclusion proof to that head, and the
 *   manifest signs the number and the digest of the leaves the register selected, in order.
 * Either way each line's personal details must match the commitment in its leaf.
 */

/** The columns (CSV) or members (JSON Lines) of an export's lines. */
export function exportColumns(kind: ExportManifest['kind'], format: ExportFormat): string[] {
  const columns =
    format === 'csv'
      ? ['position', 'leaf_hash', 'leaf', 'details', 'salt']
      : ['position', 'leafHash', 'leaf', 'details', 'salt'];
  return kind === 'filtered' ? [...columns, 'proof'] : columns;
}

/** What a manifest's signature is over: its canonical JSON without the signature. */
export function manifestSignedMessage(manifest: ExportManifest): string {
  const { signature: _signature, ...signed } = manifest;
  return canonicalJson(signed);
}

/** What a tree head's signature is over. */
export function treeHeadSignedMessage(head: ExportManifest['treeHead']): string {
  return canonicalJson({
    treeSize: head.treeSize,
    rootHash: head.rootHash,
    sealedAt: head.sealedAt,
  });
}

/** One field of a CSV line as PostgreSQL writes it (quoted when it must be; NULL is empty). */
export function csvField(value: string | null): string {
  if (value === null) return '';
  return value === '' || /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export interface ExportVerdict {
  valid: boolean;
  /** Entry lines read and found good. */
  entries: number;
  /** The first bad line (1-based, the CSV header is line 1), when not valid. */
  line?: number;
  problem?: string;
}

/** Bytes of whole lines handed to a worker at a time. */
const JOB_BYTES = 1 << 20;

/**
 * Verifies an export (its bytes, in chunks as read) against its manifest and the register's
 * published public keys; names the first bad line. Lines are checked on their own (hashes,
 * commitment, proof) in worker threads where the compiled worker is at hand (see
 * exportVerifyWorkers), else here; then folded here in order (positions, digest, root). Memory
 * stays bounded: at most two jobs of about a megabyte per worker in flight.
 */
export async function verifyExport(
  chunks: AsyncIterable<Uint8Array | string>,
  manifest: ExportManifest,
  keys: readonly KeyLike[],
): Promise<ExportVerdict> {
  const refused = checkManifest(manifest, keys);
  if (refused) return { valid: false, entries: 0, line: 0, problem: refused };
  const terms: LineTerms = {
    format: manifest.format,
    kind: manifest.kind,
    treeSize: manifest.treeHead.treeSize,
    root: manifest.treeHead.rootHash,
  };
  const fold = new ExportFold(manifest);
  const workers = exportVerifyWorkers();
  // Jobs in flight, in order, with the number of the line before each.
  const inFlight: { before: number; result: Promise<LinesResult> }[] = [];
  let lines = 0;
  let verdict: ExportVerdict | undefined;
  const settle = async (): Promise<void> => {
    const { before, result } = inFlight.shift()!;
    const done = await result;
    const problem = fold.add(done);
    if (problem)
      verdict ??= {
        valid: false,
        entries: fold.good,
        line: before + problem.index + 1,
        problem: problem.problem,
      };
  };
  const send = async (bytes: Uint8Array, count: number): Promise<void> => {
    const result = workers
      ? workers.run({ ...terms, bytes })
      : Promise.resolve(checkLines({ ...terms, bytes }));
    inFlight.push({ before: lines, result });
    lines += count;
    while (!verdict && inFlight.length > (workers ? workers.count * 2 : 0)) await settle();
  };
  try {
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let header = manifest.format === 'csv';
    for await (const chunk of chunks) {
      pending.push(Buffer.from(chunk as Uint8Array));
      pendingBytes += chunk.length;
      if (pendingBytes < JOB_BYTES && !header) continue;
      let buf = Buffer.concat(pending, pendingBytes);
      if (header) {
        const nl = buf.indexOf(0x0a);
        if (nl < 0) {
          pending = [buf];
          continue;
        }
        header = false;
        lines++;
        const expected = exportColumns(manifest.kind, manifest.format).join(',');
        if (buf.toString('utf8', 0, nl) !== expected) {
          return { valid: false, entries: 0, line: 1, problem: `the header is not ${expected}` };
        }
        buf = buf.subarray(nl + 1);
      }
      const last = buf.lastIndexOf(0x0a);
      if (last < 0) {
        pending = [buf];
        pendingBytes = buf.length;
        continue;
      }
      await send(new Uint8Array(buf.subarray(0, last + 1)), countLines(buf, last + 1));
      if (verdict) return verdict;
      pending = last + 1 < buf.length ? [buf.subarray(last + 1)] : [];
      pendingBytes = buf.length - last - 1;
    }
    if (header)
      return { valid: false, entries: 0, line: 1, problem: 'the export is empty: no header' };
    if (pendingBytes > 0) {
      // What is left; its last line may lack its newline.
      let rest = Buffer.concat(pending, pendingBytes);
      if (rest[rest.length - 1] !== 0x0a) rest = Buffer.concat([rest, Buffer.from([0x0a])]);
      await send(new Uint8Array(rest), countLines(rest, rest.length));
    }
    while (!verdict && inFlight.length > 0) await settle();
    if (verdict) return verdict;
    const problem = fold.end();
    if (problem) return { valid: false, entries: fold.good, line: lines + 1, problem };
    return { valid: true, entries: fold.good };
  } finally {
    await workers?.close();
  }
}

function countLines(buf: Buffer, end: number): number {
  let n = 0;
  for (let i = buf.indexOf(0x0a); i >= 0 && i < end; i = buf.indexOf(0x0a, i + 1)) n++;
  return n;
}

/** The manifest's own signature, its tree head's, and the shape of its range proof. */
function checkManifest(manifest: ExportManifest, keys: readonly KeyLike[]): string | undefined {
  const registerKeys = keys.filter((k) => !k.service || k.service === 'disclosure-register');
  if (manifest.v !== 1) return 'the manifest is of an unknown version';
  if (!signedBy(manifestSignedMessage(manifest), manifest.kid, manifest.signature, registerKeys)) {
    return 'the manifest’s signature does not verify with the register’s published keys';
  }
  const head = manifest.treeHead;
  if (!signedBy(treeHeadSignedMessage(head), head.kid, head.signature, registerKeys)) {
    return 'the tree head’s signature does not verify with the register’s published keys';
  }
  const { fromPosition: from, toPosition: to } = manifest;
  if (!(Number.isInteger(from) && Number.isInteger(to) && 0 <= from && from <= to)) {
    return 'the manifest’s positions are not a range';
  }
  if (to > head.treeSize) return 'the manifest’s range goes past its tree head';
  if (manifest.kind === 'range') {
    const proof = manifest.rangeProof;
    const shape = (nodes: [number, string][] | undefined, a: number, b: number) =>
      Array.isArray(nodes) &&
      canonicalJson(nodes.map(([h]) => h)) ===
        canonicalJson(subtreesOf(a, b).map((s) => s.height)) &&
      nodes.every(([, hex]) => /^[0-9a-f]{64}$/.test(hex));
    if (!proof || !shape(proof.left, 0, from) || !shape(proof.right, to, head.treeSize)) {
      return 'the manifest’s range proof does not have the range’s shape';
    }
    if (manifest.entries !== to - from) return 'the manifest counts other entries than its range';
  }
  return undefined;
}

const HEX64 = /^[0-9a-f]{64}$/;

/** What the checks of single lines need to know of the manifest (sent to worker threads). */
export interface LineTerms {
  format: ExportFormat;
  kind: ExportManifest['kind'];
  treeSize: number;
  /** The signed tree head's root, hex. */
  root: string;
}

/** Whole lines (each ending in a newline), with the terms to check them on. */
export interface LinesJob extends LineTerms {
  bytes: Uint8Array;
}

export interface LinesResult {
  /** Lines found good, before the bad one if any. */
  count: number;
  positions: number[];
  /** Their leaf hashes, 32 bytes each. */
  hashes: Uint8Array;
  /** The first bad line, by its index in the job. */
  bad?: { index: number; problem: string };
}

const fieldScratch = { buf: Buffer.alloc(8192) };

/**
 * The checks each line passes on its own: its fields, its leaf hashing to its leaf hash, the leaf
 * being the entry at its position, the details matching the leaf's commitment and (filtered) the
 * inclusion proof leading to the signed root. Pure, so it runs in worker threads.
 */
export function checkLines(job: LinesJob): LinesResult {
  const bytes = Buffer.from(job.bytes.buffer, job.bytes.byteOffset, job.bytes.byteLength);
  const root = Buffer.from(job.root, 'hex');
  const positions: number[] = [];
  const hashes = Buffer.alloc(countLines(bytes, bytes.length) * 32);
  const result = (bad?: LinesResult['bad']): LinesResult => ({
    count: positions.length,
    positions,
    hashes: hashes.subarray(0, positions.length * 32),
    ...(bad ? { bad } : {}),
  });
  let start = 0;
  for (let nl = bytes.indexOf(0x0a); nl >= 0; nl = bytes.indexOf(0x0a, start)) {
    const fields =
      job.format === 'csv'
        ? csvFields(bytes, start, nl, fieldScratch)
        : jsonlFields(bytes, start, nl);
    start = nl + 1;
    const problem =
      typeof fields === 'string'
        ? fields
        : checkLine(fields, job, root, hashes, positions.length * 32);
    if (typeof problem === 'string') return result({ index: positions.length, problem });
    positions.push(problem);
  }
  return result();
}

/** One line's own checks; its position, or what is wrong. Its leaf hash goes to `out[at]`. */
function checkLine(
  [positionText, storedHash, leaf, details, salt, proof]: Fields,
  terms: LineTerms,
  root: Buffer,
  out: Buffer,
  at: number,
): number | string {
  if (!/^\d{1,15}$/.test(positionText)) return 'the position is not a number';
  const position = Number(positionText);
  if (leaf === null) return 'the line has no leaf';
  const computed = leafHashOf(leaf);
  if (storedHash === null || computed.toString('hex') !== storedHash) {
    return 'the leaf does not match its hash';
  }
  const members = leafMembers(leaf, 0, leaf.length);
  if (!members) return 'the leaf is not JSON';
  if (members.position !== position) return 'the leaf is not the entry at this position';
  if (details !== null) {
    const saltBytes = salt === null ? undefined : Buffer.from(salt, 'hex');
    if (!saltBytes || saltBytes.length * 2 !== salt!.length) return 'the details have no salt';
    if (!detailsCommitted(saltBytes, details, 0, details.length, members.details)) {
      return 'the details do not match their commitment';
    }
  }
  if (terms.kind === 'filtered') {
    const path = (proof ?? '').split(' ').filter(Boolean);
    if (!path.every((h) => HEX64.test(h))) return 'the inclusion proof is not hashes';
    const reached = rootFromInclusion(
      position,
      terms.treeSize,
      computed,
      path.map((h) => Buffer.from(h, 'hex')),
    );
    if (!reached?.equals(root)) return 'the inclusion proof does not lead to the tree head';
  }
  computed.copy(out, at);
  return position;
}

const leafScratch = { buf: Buffer.alloc(4096) };

function leafHashOf(leaf: Buffer): Hash {
  // A CSV leaf has a free byte before it in its scratch buffer: hashed in place.
  const fields = fieldScratch.buf;
  if (leaf.buffer === fields.buffer && leaf.byteOffset > fields.byteOffset) {
    const start = leaf.byteOffset - fields.byteOffset;
    return leafHashInPlace(fields, start, start + leaf.length);
  }
  if (leaf.length + 1 > leafScratch.buf.length) leafScratch.buf = Buffer.alloc(leaf.length * 2);
  const s = leafScratch.buf;
  s[0] = 0;
  leaf.copy(s, 1);
  return hash('sha256', s.subarray(0, leaf.length + 1), 'buffer');
}

/** The lines' checked results, folded in order: positions, the digest, the root. */
class ExportFold {
  good = 0;
  private readonly range: CompactRange;
  private readonly digest = createHash('sha256');
  private readonly root: Buffer;
  private last = -1;

  constructor(private readonly manifest: ExportManifest) {
    this.root = Buffer.from(manifest.treeHead.rootHash, 'hex');
    this.range = {
      nodes: (manifest.rangeProof?.left ?? []).map(([height, hex]) => ({
        height,
        hash: Buffer.from(hex, 'hex'),
      })),
      size: manifest.fromPosition,
    };
  }

  /** Adds a job's lines; the first bad one, by its index in the job. */
  add(result: LinesResult): { index: number; problem: string } | undefined {
    const { kind, fromPosition, toPosition } = this.manifest;
    const hashes = Buffer.from(
      result.hashes.buffer,
      result.hashes.byteOffset,
      result.hashes.byteLength,
    );
    for (let i = 0; i < result.count; i++) {
      const position = result.positions[i];
      if (kind === 'range' && position !== fromPosition + this.good) {
        return {
          index: i,
          problem: `expected the entry at position ${fromPosition + this.good}, found ${position}`,
        };
      }
      if (kind === 'filtered' && (position <= this.last || position >= toPosition)) {
        return {
          index: i,
          problem: `the entry at position ${position} is out of order or outside the export`,
        };
      }
      this.last = position;
      const leaf = hashes.subarray(i * 32, i * 32 + 32);
      if (kind === 'range') {
        pushSubtree(this.range.nodes, { height: 0, hash: leaf });
        this.range.size++;
      }
      this.digest.update(leaf);
      this.good++;
    }
    return result.bad;
  }

  /** After the last line: the count, the digest and (range) the root. */
  end(): string | undefined {
    if (this.good !== this.manifest.entries) {
      return `the export ends after ${this.good} entries; the manifest has ${this.manifest.entries}`;
    }
    if (this.digest.digest('hex') !== this.manifest.leavesDigest) {
      return 'the entries are not those the manifest signs';
    }
    if (this.manifest.kind === 'range') {
      for (const [height, hex] of this.manifest.rangeProof!.right) {
        pushSubtree(this.range.nodes, { height, hash: Buffer.from(hex, 'hex') });
      }
      if (!rangeRoot(this.range).equals(this.root)) {
        return 'the entries do not give the root of the signed tree head';
      }
    }
    return undefined;
  }
}

type Fields = [string, string | null, Buffer | null, Buffer | null, string | null, string | null];

/**
 * A CSV line's fields: position, leaf hash, leaf (bytes), details (bytes or null), salt, proof.
 * Quoted fields have their doubled quotes undone; an empty unquoted field is NULL. The bytes are
 * copied once, into `scratch` (one byte left free before each field, for the leaf's prefix).
 */
function csvFields(
  buf: Buffer,
  start: number,
  end: number,
  scratch: { buf: Buffer },
): [string, string | null, Buffer | null, Buffer | null, string | null, string | null] | string {
  if (scratch.buf.length < 2 * (end - start) + 16)
    scratch.buf = Buffer.alloc(4 * (end - start) + 16);
  const out = scratch.buf;
  const starts: number[] = [];
  const ends: number[] = [];
  let w = 0;
  let i = start;
  for (;;) {
    w++; // the free byte
    starts.push(w);
    if (buf[i] === 0x22) {
      // Quoted: to the quote not followed by another, with "" read as ". Copied byte by byte:
      // Buffer#copy costs more than the bytes of a short run.
      let k = i + 1;
      for (;;) {
        if (k >= end) return 'a quoted field is not closed';
        const c = buf[k++];
        if (c === 0x22) {
          if (k < end && buf[k] === 0x22) k++;
          else break;
        }
        out[w++] = c;
      }
      ends.push(w);
      i = k;
    } else {
      const from = i;
      while (i < end && buf[i] !== 0x2c) out[w++] = buf[i++];
      // An empty unquoted field is NULL.
      ends.push(i === from ? -1 : w);
    }
    if (i >= end) break;
    if (buf[i] !== 0x2c) return 'a field is not followed by a comma';
    i++;
  }
  if (starts.length < 5 || starts.length > 6) return `the line has ${starts.length} fields`;
  const text = (f: number) =>
    f < starts.length && ends[f] >= 0 ? out.toString('latin1', starts[f], ends[f]) : null;
  const bytes = (f: number) => (ends[f] >= 0 ? out.subarray(starts[f], ends[f]) : null);
  return [text(0) ?? '', text(1), bytes(2), bytes(3), text(4), text(5)];
}

/** A JSON Lines line's fields, as csvFields gives them. */
function jsonlFields(
  buf: Buffer,
  start: number,
  end: number,
): [string, string | null, Buffer | null, Buffer | null, string | null, string | null] | string {
  let line: Record<string, unknown>;
  try {
    line = JSON.parse(buf.toString('utf8', start, end)) as Record<string, unknown>;
  } catch {
    return 'the line is not JSON';
  }
  if (line === null || typeof line !== 'object') return 'the line is not a JSON object';
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  return [
    typeof line.position === 'number' ? String(line.position) : '',
    str(line.leafHash),
    typeof line.leaf === 'string' ? Buffer.from(line.leaf) : null,
    typeof line.details === 'string' ? Buffer.from(line.details) : null,
    str(line.salt),
    Array.isArray(line.proof) ? line.proof.join(' ') : null,
  ];
}
