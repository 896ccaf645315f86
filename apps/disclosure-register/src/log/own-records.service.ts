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

/** Log positions read per batch. */
const SPAN = 10_000;

/**
 * The register's entries are a holding of this service (issue 7): per subject,
 * records.disclosures with its latest entry's date as the creation date (ACC-9, RET-2: kept six
 * years; then the entries' personal details are redacted through the register's redaction path,
 * and the log still verifies). The log commits in position order, so the declared prefix of the
 * log is one position, moved forward a span at a time by the subject index.
 */
@Injectable()
export class RegisterOwnRecords extends OwnRecordsDeclaration {
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
      system: 'disclosure-register',
      category: 'records.disclosures',
      clock: 'creation',
    });
  }

  protected async next() {
    const [state] = (await this.dataSource.query(
      `SELECT d.position AS from,
              least(d.position + ${SPAN},
                    (SELECT coalesce(max(position) + 1, 0) FROM disclosure_register.entries)) AS to
         FROM disclosure_register.records_declared d`,
    )) as { from: string; to: string }[];
    if (Number(state.to) <= Number(state.from)) return undefined;
    const rows = (await this.dataSource.query(
      `SELECT client_id, max(recorded_at) AS at FROM disclosure_register.entries
        WHERE position >= $1 AND position < $2 AND client_id IS NOT NULL
        GROUP BY client_id ORDER BY client_id`,
      [state.from, state.to],
    )) as { client_id: string; at: Date }[];
    return {
      subjects: rows.map((r) => ({ clientId: r.client_id, at: r.at.toISOString() })),
      declared: async () => {
        await this.dataSource.query(
          'UPDATE disclosure_register.records_declared SET position = greatest(position, $1)',
          [state.to],
        );
      },
    };
  }
}
