import { DsgClient } from '@dsg/contracts';
import {
  type Logger,
  OwnRecordsDeclaration,
  PLATFORM_CONFIG,
  PLATFORM_LOGGER,
  type PlatformConfig,
} from '@dsg/platform';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

const BATCH = 1000;

/**
 * The consent ledger's records are a holding of this service (issue 7): per subject,
 * records.consents with the latest ledger date as its last effective date (RET-2: kept six years
 * from then, then their personal details are redacted through consent.ledger.redact). Subjects
 * whose latest date is newer than the one declared are found by comparing the two, so no entry
 * is missed whatever order transactions commit in.
 */
@Injectable()
export class OwnRecordsService extends OwnRecordsDeclaration {
  constructor(
    private readonly dataSource: DataSource,
    dsg: DsgClient,
    @Inject(PLATFORM_CONFIG) config: PlatformConfig,
    @Inject(PLATFORM_LOGGER) logger: Logger,
  ) {
    super({
      dsg,
      config,
      logger,
      system: 'consent',
      category: 'records.consents',
      clock: 'lastEffective',
    });
  }

  protected async next() {
    const rows = (await this.dataSource.query(
      `SELECT l.client_id, max(l.occurred_at) AS at
         FROM consent.ledger l
         LEFT JOIN consent.records_declared d ON d.client_id = l.client_id
        GROUP BY l.client_id, d.at
       HAVING max(l.occurred_at) > coalesce(d.at, '-infinity')
        ORDER BY l.client_id
        LIMIT ${BATCH}`,
    )) as { client_id: string; at: Date }[];
    if (rows.length === 0) return undefined;
    return {
      subjects: rows.map((r) => ({ clientId: r.client_id, at: r.at.toISOString() })),
      declared: async () => {
        await this.dataSource.query(
          `INSERT INTO consent.records_declared (client_id, at)
           SELECT * FROM unnest($1::text[], $2::timestamptz[])
           ON CONFLICT (client_id) DO UPDATE SET at = greatest(consent.records_declared.at, excluded.at)`,
          [rows.map((r) => r.client_id), rows.map((r) => r.at.toISOString())],
        );
      },
    };
  }
}
