import type {
  QueryEntriesReply,
  QueryEntriesRequest,
  RegisterEntry,
  SubjectEntriesReply,
  SubjectEntry,
} from '@dsg/contracts';
import { requireCaller } from '@dsg/platform';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { RecipientsService } from '../recipients/recipients.service';
import { filterSql } from './entry-filter';
import { type EntryLeaf, recipientLookup, subjectEntries } from './subject-entries';

const DEFAULT_LIMIT = 100;

/**
 * Auditors' queries of the register: entries matching a filter, in position order, a page at a
 * time. Keyset pagination on position (`after`): every page is one index range scan from where
 * the last ended, and entries appended meanwhile never shift a page already read. And a subject's
 * entries for the consent service's know and access reports (CCP-1, HIP-8).
 */
@Injectable()
export class EntriesService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly recipients: RecipientsService,
  ) {}

  /**
   * Every entry about the subject, in position order, for a know or access report (CCP-1,
   * HIP-8): allowed disclosures, reported ones (a reported disclosure happened, whatever its
   * checks said) and notices, each with its recipient's name as of the entry. A disclosure the
   * register denied sent nothing and is left out, as the accounting leaves it out (ACC-2) and
   * deletion notices skip its recipient (CCP-4); an entry whose details were redacted no longer
   * names the subject. Caller: consent only.
   */
  async ofSubject(clientId: string, caller: string): Promise<SubjectEntriesReply> {
    requireCaller(
      caller,
      'consent',
      "lists a subject's register entries, for a verified rights request",
    );
    const rows = await subjectEntries(this.dataSource, clientId);
    const recipientAt = recipientLookup(this.recipients);
    const entries: SubjectEntry[] = [];
    for (const row of rows) {
      const leaf = JSON.parse(row.leaf) as EntryLeaf;
      if (leaf.type === 'disclosure' && leaf.decision !== 'ALLOW') continue;
      const recipient = await recipientAt(leaf.recipient.id, leaf.recipient.version);
      entries.push({
        position: Number(row.position),
        type: leaf.type,
        recordedAt: row.recorded_at.toISOString(),
        recipientId: leaf.recipient.id,
        recipientName: recipient?.name ?? leaf.recipient.id,
        purpose: leaf.purpose,
        categories: leaf.categories,
      });
    }
    return { entries };
  }

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
