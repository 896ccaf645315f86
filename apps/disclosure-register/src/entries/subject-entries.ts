import { DsgError, ErrorCodes, type RecipientReply } from '@dsg/contracts';
import type { DataSource } from 'typeorm';
import type { RecipientsService } from '../recipients/recipients.service';

/** What the accounting and a subject's entries read of an entry's leaf. */
export interface EntryLeaf {
  type: string;
  decision: string;
  legalBasis: string;
  flagged?: boolean;
  occurredAt?: string;
  purpose: string;
  categories: string[];
  legalRequestRef?: string;
  recipient: { id: string; version: number | null };
}

export interface SubjectEntryRow {
  position: string;
  leaf: string;
  details: { description?: string } | null;
  recorded_at: Date;
}

/**
 * Every entry about a subject, in position order: found by the subject column's index, each
 * confirmed against its details. The redaction path (ACC-9, RET-2) clears the column with the
 * details, so an entry whose details were redacted no longer names anyone and is not found.
 */
export function subjectEntries(dataSource: DataSource, clientId: string) {
  return dataSource.query(
    `SELECT position, leaf, details, recorded_at FROM disclosure_register.entries
      WHERE client_id = $1 AND (details IS NULL OR details ->> 'clientId' = $1)
      ORDER BY position`,
    [clientId],
  ) as Promise<SubjectEntryRow[]>;
}

/**
 * The recipient version an entry names, each read once per call site. An unknown recipient (a
 * disclosure denied for it, POL-2) is undefined, to be named by its id; any other failure is
 * thrown: nothing is answered with ids in place of names because the registry could not be read.
 */
export function recipientLookup(recipients: RecipientsService) {
  const seen = new Map<string, Promise<RecipientReply | undefined>>();
  return (id: string, version: number | null): Promise<RecipientReply | undefined> => {
    const key = `${id}@${version}`;
    let found = seen.get(key);
    if (!found) {
      found = recipients.get(id, version ?? undefined).catch((err: unknown) => {
        if (err instanceof DsgError && err.code === ErrorCodes.NOT_FOUND) return undefined;
        throw err;
      });
      seen.set(key, found);
    }
    return found;
  };
}
