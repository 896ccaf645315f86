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
import { undeclaredSubjects } from '../ledger/undeclared-subjects';

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

  protected next() {
    return undeclaredSubjects(this.dataSource, {
      table: 'consent.rights_requests',
      at: 'greatest(r.received_at, r.answered_at)',
      declared: 'consent.request_log_declared',
    });
  }
}
