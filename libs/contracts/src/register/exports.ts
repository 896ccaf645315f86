import { createHash, createPublicKey, hash, verify } from 'node:crypto';
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
import type { PublicSigningKey } from '../keys/keys.dto';
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

type KeyLike = Pick<PublicSigningKey, 'kid' | 'kty' | 'crv' | 'x'> & { service?: string };

/**
 * Verifies an export (its bytes, in chunks as read) against its manifest and the register's
 * published public keys; names the first bad line. Constant memory: one line at a time.
 */
export async function verifyExport(
  chunks: AsyncIterable<Uint8Array | string>,
  manifest: ExportManifest,
  keys: readonly KeyLike[],
): Promise<ExportVerdict> {
  const refused = checkManifest(manifest, keys);
  if (refused) return { valid: false, entries: 0, line: 0, problem: refused };
  const checker = new LineChecker(manifest);
  let carry: Buffer | undefined;
  let lineNo = 0;
  for await (const chunk of chunks) {
    const buf = carry
      ? Buffer.concat([carry, Buffer.from(chunk as Uint8Array)])
      : Buffer.from(chunk as Uint8Array);
    let start = 0;
    for (let nl = buf.indexOf(0x0a, start); nl >= 0; nl = buf.indexOf(0x0a, start)) {
      lineNo++;
      const problem = checker.line(buf, start, nl);
      if (problem) return { valid: false, entries: checker.good, line: lineNo, problem };
      start = nl + 1;
    }
    carry = start < buf.length ? Buffer.from(buf.subarray(start)) : undefined;
  }
  if (carry && carry.length > 0) {
    lineNo++;
    const problem = checker.line(carry, 0, carry.length);
    if (problem) return { valid: false, entries: checker.good, line: lineNo, problem };
  }
  const problem = checker.end();
  if (problem) return { valid: false, entries: checker.good, line: lineNo + 1, problem };
  return { valid: true, entries: checker.good };
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

function signedBy(message: string, kid: string, sig: string, keys: readonly KeyLike[]): boolean {
  const key = keys.find((k) => k.kid === kid);
  if (!key || typeof sig !== 'string') return false;
  try {
    const publicKey = createPublicKey({
      key: { kty: key.kty, crv: key.crv, x: key.x },
      format: 'jwk',
    });
    return verify(null, Buffer.from(message), publicKey, Buffer.from(sig, 'base64url'));
  } catch {
    return false;
  }
}

const HEX64 = /^[0-9a-f]{64}$/;

/** Checks lines one at a time (see verifyExport). */
class LineChecker {
  good = 0;
  private headerSeen: boolean;
  private readonly header: string;
  private readonly range: CompactRange;
  private readonly digest = createHash('sha256');
  private readonly root: Buffer;
  private last = -1;
  private readonly scratch = { buf: Buffer.alloc(4096) };
  private readonly fields = { buf: Buffer.alloc(8192) };

  constructor(private readonly manifest: ExportManifest) {
    this.header = exportColumns(manifest.kind, manifest.format).join(',');
    this.headerSeen = manifest.format !== 'csv';
    this.root = Buffer.from(manifest.treeHead.rootHash, 'hex');
    this.range = {
      nodes: (manifest.rangeProof?.left ?? []).map(([height, hex]) => ({
        height,
        hash: Buffer.from(hex, 'hex'),
      })),
      size: manifest.fromPosition,
    };
  }

  /** The problem of the line `buf[start, end)`, if any. */
  line(buf: Buffer, start: number, end: number): string | undefined {
    if (!this.headerSeen) {
      this.headerSeen = true;
      return buf.toString('utf8', start, end) === this.header
        ? undefined
        : `the header is not ${this.header}`;
    }
    const fields =
      this.manifest.format === 'csv'
        ? csvFields(buf, start, end, this.fields)
        : jsonlFields(buf, start, end);
    if (typeof fields === 'string') return fields;
    const [positionText, storedHash, leaf, details, salt, proof] = fields;
    if (!/^\d{1,15}$/.test(positionText)) return 'the position is not a number';
    const position = Number(positionText);
    const { kind, fromPosition, toPosition } = this.manifest;
    if (kind === 'range' && position !== fromPosition + this.good) {
      return `expected the entry at position ${fromPosition + this.good}, found ${position}`;
    }
    if (kind === 'filtered' && (position <= this.last || position >= toPosition)) {
      return `the entry at position ${position} is out of order or outside the export`;
    }
    this.last = position;
    if (leaf === null) return 'the line has no leaf';
    const computed = this.leafHash(leaf);
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
    if (kind === 'filtered') {
      const path = (proof ?? '').split(' ').filter(Boolean);
      if (!path.every((h) => HEX64.test(h))) return 'the inclusion proof is not hashes';
      const root = rootFromInclusion(
        position,
        this.manifest.treeHead.treeSize,
        computed,
        path.map((h) => Buffer.from(h, 'hex')),
      );
      if (!root?.equals(this.root)) return 'the inclusion proof does not lead to the tree head';
    } else {
      pushSubtree(this.range.nodes, { height: 0, hash: computed });
      this.range.size++;
    }
    this.digest.update(computed);
    this.good++;
    return undefined;
  }

  /** After the last line: the count, the digest and (range) the root. */
  end(): string | undefined {
    if (!this.headerSeen) return 'the export is empty: no header';
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

  private leafHash(leaf: Buffer): Hash {
    // A CSV leaf has a free byte before it in its scratch buffer: hashed in place.
    if (leaf.buffer === this.fields.buf.buffer && leaf.byteOffset > this.fields.buf.byteOffset) {
      return leafHashInPlace(
        this.fields.buf,
        leaf.byteOffset - this.fields.buf.byteOffset,
        leaf.byteOffset - this.fields.buf.byteOffset + leaf.length,
      );
    }
    if (leaf.length + 1 > this.scratch.buf.length) this.scratch.buf = Buffer.alloc(leaf.length * 2);
    const s = this.scratch.buf;
    s[0] = 0;
    leaf.copy(s, 1);
    return hash('sha256', s.subarray(0, leaf.length + 1), 'buffer');
  }
}

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
