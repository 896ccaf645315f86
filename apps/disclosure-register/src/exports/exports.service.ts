import {
  canonicalJson,
  csvField,
  DsgError,
  ErrorCodes,
  type ExportManifest,
  type ExportManifestRequest,
  type ExportPageReply,
  type ExportPageRequest,
  exportColumns,
  type Hash,
  MerkleLevels,
  pushSubtree,
  subtreesOf,
  type TreeHeadReply,
  UnavailableError,
  ValidationFailedError,
  WithBody,
  type ExportLinesQuery,
} from '@dsg/contracts';
import { holdConnection, KeyRing, type Logger, PLATFORM_LOGGER } from '@dsg/platform';
import { Inject, Injectable } from '@nestjs/common';
import type { Response } from 'express';
import { pipeline } from 'node:stream/promises';
import { to as copyTo } from 'pg-copy-streams';
import { DataSource } from 'typeorm';
import { filterSql, isFiltered } from '../entries/entry-filter';
import { RegisterLog } from '../log/register-log.service';

/** Entries per page by default; a page is also cut to fit one NATS message (MAX_PAGE_BYTES). */
const DEFAULT_PAGE = 1000;
/** Streamed exports at once on one instance, and how long one may stall before it is cut. */
const MAX_STREAMS = 2;
const STREAM_STALL_MS = 60_000;

/** Under NATS's default max_payload (1 MiB), with room for the reply's JSON and headers. */
const MAX_PAGE_BYTES = 900 * 1024;
/** Leaf hashes read per query when computing the subtrees beside a range. */
const LEAF_CHUNK = 65_536;

/**
 * Auditor exports of the register (see libs/contracts/src/register/exports.ts for the format and
 * what each kind proves). Stateless: a manifest fixes the export to one sealed tree head, and
 * every page is a function of the manifest's terms and a position, so pages can be fetched from
 * any replica, in parallel, and again. A contiguous page is PostgreSQL's own COPY output, passed
 * through; a filtered page adds each entry's inclusion proof, from the head's tree held in memory
 * (the last one asked for: about 64 bytes per entry).
 */
@Injectable()
export class ExportsService {
  private tree?: { size: number; levels: Promise<MerkleLevels> };
  /** Streamed exports in progress on this instance. */
  private streams = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly log: RegisterLog,
    private readonly keyRing: KeyRing,
    @Inject(PLATFORM_LOGGER) private readonly logger: Logger,
  ) {}

  async manifest(request: ExportManifestRequest): Promise<ExportManifest> {
    const head = await this.log.sealedHead(request.treeSize);
    const kind = isFiltered(request.filter) ? 'filtered' : 'range';
    const { from, to } = this.bounds(request, head);
    const where = filterSql(kind === 'filtered' ? request.filter : undefined, 3);
    const [selected] = (await this.dataSource.query(
      `SELECT count(*)::int AS n,
              encode(sha256(coalesce(string_agg(leaf_hash, ''::bytea ORDER BY position), ''::bytea)), 'hex') AS digest
         FROM disclosure_register.entries
        WHERE position >= $1 AND position < $2${where.sql}`,
      [from, to, ...where.params],
    )) as { n: number; digest: string }[];
    if (kind === 'range' && selected.n !== to - from) {
      throw new DsgError(
        ErrorCodes.INTERNAL,
        'The register has fewer entries than its tree head: verify the log',
      );
    }
    const unsigned: Omit<ExportManifest, 'signature' | 'kid'> = {
      v: 1,
      kind,
      format: request.format,
      columns: exportColumns(kind, request.format),
      fromPosition: from,
      toPosition: to,
      ...(kind === 'filtered' ? { filter: request.filter } : {}),
      entries: selected.n,
      leavesDigest: selected.digest,
      treeHead: head,
      ...(kind === 'range'
        ? {
            rangeProof: {
              left: await this.subtrees(0, from),
              right: await this.subtrees(to, head.treeSize),
            },
          }
        : {}),
      proves:
        kind === 'range'
          ? `Every entry of the register from position ${from} to ${to - 1}, in order, none missing, none added, none changed: each leaf recomputed from its line, with the subtrees left and right of the range, gives the root of the register's signed tree head of ${head.treeSize} entries. Each entry's personal details match the commitment in its leaf.`
          : `Each of the ${selected.n} entries is in the register's log under its signed tree head of ${head.treeSize} entries (an inclusion proof per line), unchanged, and the export holds exactly the entries the register selected for the filter among positions ${from} to ${to - 1}, in order (their number and digest are signed here). It does not prove that no other entry matches the filter: a contiguous export proves completeness for its range.`,
      createdAt: new Date().toISOString(),
    };
    const signed = { ...unsigned, kid: this.keyRing.activeKeyId };
    const signature = this.keyRing.sign(canonicalJson(signed));
    if (signature.kid !== signed.kid) {
      throw new DsgError(ErrorCodes.UNAVAILABLE, 'The signing key changed; ask again');
    }
    return { ...signed, signature: signature.sig };
  }

  async page(request: ExportPageRequest): Promise<WithBody<ExportPageReply>> {
    const head = await this.log.sealedHead(request.treeSize);
    const { from: start, to } = this.bounds(request, head);
    const from = Math.max(request.from ?? start, start);
    const limit = request.limit ?? DEFAULT_PAGE;
    if (isFiltered(request.filter)) return this.filteredPage(request, head, from, to, limit);
    for (let n = Math.min(limit, to - from); ; n = Math.ceil(n / 2)) {
      const body = n > 0 ? await this.copy(request.format, from, from + n) : [];
      if (body.reduce((bytes, part) => bytes + part.length, 0) <= MAX_PAGE_BYTES || n === 1) {
        return new WithBody({ entries: n, ...(from + n < to ? { next: from + n } : {}) }, body);
      }
    }
  }

  /** The export's positions: a range within the head, given or all of it. */
  private bounds(
    request: Pick<ExportManifestRequest, 'fromPosition' | 'toPosition'>,
    head: TreeHeadReply,
  ): { from: number; to: number } {
    const from = request.fromPosition ?? 0;
    const to = request.toPosition ?? head.treeSize;
    if (to > head.treeSize) {
      throw new ValidationFailedError([
        {
          field: 'toPosition',
          constraint: 'withinTreeHead',
          message: `toPosition must be at most the tree head's size (${head.treeSize})`,
        },
      ]);
    }
    if (from > to) {
      throw new ValidationFailedError([
        {
          field: 'fromPosition',
          constraint: 'notAfterToPosition',
          message: 'fromPosition must not be after toPosition',
        },
      ]);
    }
    return { from, to };
  }

  /** Entries [from, to) as PostgreSQL writes them (CSV, or one JSON object a line), in parts. */
  private async copy(format: ExportPageRequest['format'], from: number, to: number) {
    const sql = copySql(format, from, to);
    const { client, release } = await holdConnection(this.dataSource);
    let broken = false;
    try {
      const parts: Buffer[] = [];
      for await (const chunk of client.query(copyTo(sql))) parts.push(chunk as Buffer);
      return parts;
    } catch (err) {
      broken = true;
      throw err;
    } finally {
      release(broken || undefined);
    }
  }

  /**
   * A contiguous export's lines [fromPosition, toPosition) under a sealed head, as one HTTP
   * response streamed from one COPY: PostgreSQL's output passes through with the socket's
   * backpressure, so memory stays flat however long the range. (Two COPYs of halves at once,
   * one read ahead into memory, were measured slower on two cores: the register's CPU doubled.)
   * Refusals (an unknown head, a range outside it) happen before the first byte, as
   * problem+json; a failure once lines have gone out cuts the response short, which the client
   * reports (a chunked response without its end).
   */
  async streamRange(query: ExportLinesQuery, res: Response): Promise<void> {
    const head = await this.log.sealedHead(query.treeSize);
    const { from, to } = this.bounds(query, head);
    // Each stream holds a connection for as long as its client reads: a few at once, so the
    // pool stays for disclosures; a client that stops reading is cut off.
    if (this.streams >= MAX_STREAMS) {
      throw new UnavailableError(
        ErrorCodes.UNAVAILABLE,
        `${MAX_STREAMS} exports are streaming from this instance; retry shortly`,
      );
    }
    this.streams++;
    let held: Awaited<ReturnType<typeof holdConnection>>;
    try {
      held = await holdConnection(this.dataSource);
    } catch (err) {
      this.streams--;
      throw err; // before the first byte: a problem+json answer
    }
    res.setTimeout(STREAM_STALL_MS, () => res.destroy());
    let broken = false;
    try {
      const { client } = held;
      res.status(200);
      res.setHeader(
        'Content-Type',
        query.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson',
      );
      res.setHeader('Dsg-Entries', String(to - from));
      res.setHeader('Cache-Control', 'no-store');
      if (to === from) {
        res.end();
        return;
      }
      await pipeline(client.query(copyTo(copySql(query.format, from, to))), res);
    } catch (err) {
      // A COPY stopped midway leaves its connection unusable: it is closed, not given back.
      broken = true;
      res.destroy();
      this.logger.warn(
        { context: 'Exports', code: (err as { code?: string }).code },
        'an export stream was cut short',
      );
    } finally {
      held.release(broken || undefined);
      this.streams--;
    }
  }

  private async filteredPage(
    request: ExportPageRequest,
    head: TreeHeadReply,
    from: number,
    to: number,
    limit: number,
  ): Promise<WithBody<ExportPageReply>> {
    const where = filterSql(request.filter, 4);
    const rows = (await this.dataSource.query(
      `SELECT position::int AS position, encode(leaf_hash, 'hex') AS leaf_hash, leaf,
              details::text AS details, encode(salt, 'hex') AS salt
         FROM disclosure_register.entries
        WHERE position >= $1 AND position < $2${where.sql}
        ORDER BY position LIMIT $3`,
      [from, to, limit, ...where.params],
    )) as {
      position: number;
      leaf_hash: string;
      leaf: string;
      details: string | null;
      salt: string | null;
    }[];
    const tree = rows.length > 0 ? await this.levels(head.treeSize) : undefined;
    const lines: string[] = [];
    let bytes = 0;
    let taken = 0;
    for (const row of rows) {
      const proof = tree!.proof(row.position).map((h) => h.toString('hex'));
      const line =
        request.format === 'csv'
          ? `${row.position},${row.leaf_hash},${csvField(row.leaf)},${csvField(row.details)},${csvField(row.salt)},${proof.join(' ')}\n`
          : `${JSON.stringify({ position: row.position, leafHash: row.leaf_hash, leaf: row.leaf, details: row.details, salt: row.salt, proof })}\n`;
      if (taken > 0 && bytes + Buffer.byteLength(line) > MAX_PAGE_BYTES) break;
      bytes += Buffer.byteLength(line);
      lines.push(line);
      taken++;
    }
    const more = taken < rows.length || rows.length === limit;
    return new WithBody(
      {
        entries: taken,
        ...(more && taken > 0 ? { next: rows[taken - 1].position + 1 } : {}),
      },
      Buffer.from(lines.join('')),
    );
  }

  /** The tree of the head of `size` entries, level by level (the last one asked for is kept). */
  private levels(size: number): Promise<MerkleLevels> {
    if (this.tree?.size !== size) {
      const levels = this.leafHashes(0, size).then((leaves) => new MerkleLevels(leaves));
      this.tree = { size, levels };
      levels.catch(() => {
        if (this.tree?.levels === levels) this.tree = undefined;
      });
    }
    return this.tree.levels;
  }

  /** The leaf hashes of [from, to), concatenated. */
  private async leafHashes(from: number, to: number): Promise<Buffer> {
    const out = Buffer.alloc((to - from) * 32);
    for (let at = from; at < to; at += LEAF_CHUNK) {
      const rows = (await this.dataSource.query(
        `SELECT leaf_hash FROM disclosure_register.entries
          WHERE position >= $1 AND position < $2 ORDER BY position`,
        [at, Math.min(at + LEAF_CHUNK, to)],
      )) as { leaf_hash: Buffer }[];
      rows.forEach((r, i) => r.leaf_hash.copy(out, (at - from + i) * 32));
    }
    return out;
  }

  /** The roots of the complete subtrees that make up [from, to), as [height, hex]. */
  private async subtrees(from: number, to: number): Promise<[number, string][]> {
    const out: [number, string][] = [];
    for (const s of subtreesOf(from, to)) {
      // A subtree's root, folded from its leaves a chunk at a time (bounded memory).
      const nodes: { height: number; hash: Hash }[] = [];
      const end = s.start + 2 ** s.height;
      for (let at = s.start; at < end; at += LEAF_CHUNK) {
        const leaves = await this.leafHashes(at, Math.min(at + LEAF_CHUNK, end));
        for (let i = 0; i < leaves.length; i += 32) {
          pushSubtree(nodes, { height: 0, hash: leaves.subarray(i, i + 32) });
        }
      }
      out.push([s.height, nodes[0].hash.toString('hex')]);
    }
    return out;
  }
}

/**
 * COPY of entries [from, to) in order: CSV of `position, leaf_hash, leaf, details, salt`, or one
 * JSON object a line. Integers only (validated), so they are written into the statement: COPY
 * takes no parameters.
 */
function copySql(format: ExportPageRequest['format'], from: number, to: number): string {
  const range = `position >= ${Number(from)} AND position < ${Number(to)}`;
  return format === 'csv'
    ? `COPY (SELECT position, encode(leaf_hash, 'hex'), leaf, details::text, encode(salt, 'hex')
         FROM disclosure_register.entries WHERE ${range} ORDER BY position)
       TO STDOUT WITH (FORMAT csv)`
    : // JSON text has no raw control characters, so a CSV with \x01 as quote and \x02 as
      // delimiter writes each object as it is, one a line.
      `COPY (SELECT json_build_object('position', position, 'leafHash', encode(leaf_hash, 'hex'),
               'leaf', leaf, 'details', details::text, 'salt', encode(salt, 'hex'))::text
         FROM disclosure_register.entries WHERE ${range} ORDER BY position)
       TO STDOUT WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')`;
}
