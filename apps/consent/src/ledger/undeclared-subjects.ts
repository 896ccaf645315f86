import type { OwnRecordsBatch } from '@dsg/platform';
import type { DataSource } from 'typeorm';

const BATCH = 1000;

/** Where a kind of this service's records is kept, and where what was declared of it is noted. */
export interface RecordSource {
  /** The records' table (e.g. consent.ledger). */
  table: string;
  /** The SQL expression of a record's date (its retention clock runs from the latest). */
  at: string;
  /** The table of the latest date declared per subject. */
  declared: string;
}

/**
 * The next batch of subjects whose latest record date is newer than the one declared to the
 * retention service (found by comparing the two, so no record is missed whatever order
 * transactions commit in), or undefined when everything is declared.
 */
export async function undeclaredSubjects(
  dataSource: DataSource,
  { table, at, declared }: RecordSource,
): Promise<OwnRecordsBatch | undefined> {
  const rows = (await dataSource.query(
    `SELECT r.client_id, max(${at}) AS at
       FROM ${table} r
       LEFT JOIN ${declared} d ON d.client_id = r.client_id
      GROUP BY r.client_id, d.at
     HAVING max(${at}) > coalesce(d.at, '-infinity')
      ORDER BY r.client_id
      LIMIT ${BATCH}`,
  )) as { client_id: string; at: Date }[];
  if (rows.length === 0) return undefined;
  return {
    subjects: rows.map((r) => ({ clientId: r.client_id, at: r.at.toISOString() })),
    declared: async () => {
      await dataSource.query(
        `INSERT INTO ${declared} AS d (client_id, at)
         SELECT * FROM unnest($1::text[], $2::timestamptz[])
         ON CONFLICT (client_id) DO UPDATE SET at = greatest(d.at, excluded.at)`,
        [rows.map((r) => r.client_id), rows.map((r) => r.at.toISOString())],
      );
    },
  };
}
