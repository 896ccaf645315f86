import type { QueryEntriesReply, QueryEntriesRequest, RegisterEntry } from '@dsg/contracts';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { filterSql } from './entry-filter';

const DEFAULT_LIMIT = 100;

/**
 * Auditors' queries of the register: entries matching a filter, in position order, a page at a
 * time. Keyset pagination on position (`after`): every page is one index range scan from where
 * the last ended, and entries appended meanwhile never shift a page already read.
 */
@Injectable()
export class EntriesService {
  constructor(private readonly dataSource: DataSource) {}

  async query(request: QueryEntriesRequest): Promise<QueryEntriesReply> {
    const limit = request.limit ?? DEFAULT_LIMIT;
    const where = filterSql(request.filter, 3);
    // One more than the page: whether there is a next page, without counting.
    const rows = (await this.dataSource.query(
      `SELECT position, entry_id, recorded_at, encode(leaf_hash, 'hex') AS leaf_hash, leaf, details
         FROM disclosure_register.entries
        WHERE position > $1${where.sql}
        ORDER BY position LIMIT $2`,
      [request.after ?? -1, limit + 1, ...where.params],
    )) as {
      position: string;
      entry_id: string;
      recorded_at: Date;
      leaf_hash: string;
      leaf: string;
      details: Record<string, unknown> | null;
    }[];
    const entries: RegisterEntry[] = rows.slice(0, limit).map((r) => ({
      position: Number(r.position),
      entryId: r.entry_id,
      recordedAt: r.recorded_at.toISOString(),
      leafHash: r.leaf_hash,
      leaf: JSON.parse(r.leaf) as Record<string, unknown>,
      ...(r.details ? { details: r.details } : {}),
    }));
    return {
      entries,
      ...(rows.length > limit ? { nextAfter: entries[entries.length - 1].position } : {}),
    };
  }
}
