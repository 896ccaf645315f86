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
 * The rights-request log is a holding of this service (issue 7): per subject, records.requests
 * with the latest date on its entries (received or answered) as their creation (RET-3: kept 24
 * months from then, then the answered entries are deleted through consent.requests.purge).
 * Subjects whose latest date is newer than the one declared are found by comparing the two.
 */
@Injectable()
export class RequestLogRecordsService extends OwnRecordsDeclaration {
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
      category: 'records.requests',
      clock: 'creation',
    });
  }

  protected async next() {
    const rows = (await this.dataSource.query(
      `SELECT r.client_id, max(greatest(r.received_at, r.answered_at)) AS at
         FROM consent.rights_requests r
         LEFT JOIN consent.request_log_declared d ON d.client_id = r.client_id
        GROUP BY r.client_id, d.at
       HAVING max(greatest(r.received_at, r.answered_at)) > coalesce(d.at, '-infinity')
        ORDER BY r.client_id
        LIMIT ${BATCH}`,
    )) as { client_id: string; at: Date }[];
    if (rows.length === 0) return undefined;
    return {
      subjects: rows.map((r) => ({ clientId: r.client_id, at: r.at.toISOString() })),
      declared: async () => {
        await this.dataSource.query(
          `INSERT INTO consent.request_log_declared (client_id, at)
           SELECT * FROM unnest($1::text[], $2::timestamptz[])
           ON CONFLICT (client_id) DO UPDATE SET at = greatest(consent.request_log_declared.at, excluded.at)`,
          [rows.map((r) => r.client_id), rows.map((r) => r.at.toISOString())],
        );
      },
    };
  }
}
