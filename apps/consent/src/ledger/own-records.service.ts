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
import { undeclaredSubjects } from './undeclared-subjects';

/**
 * The consent ledger's records are a holding of this service (issue 7): per subject,
 * records.consents with the latest ledger date as its last effective date (RET-2: kept six years
 * from then, then their personal details are redacted through consent.ledger.redact).
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

  protected next() {
    return undeclaredSubjects(this.dataSource, {
      table: 'consent.ledger',
      at: 'r.occurred_at',
      declared: 'consent.records_declared',
    });
  }
}
