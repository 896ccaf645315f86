import {
  DsgClient,
  ErrorCodes,
  type PurgeItem,
  type PurgeOutcome,
  PurgeWorker,
} from '@dsg/contracts';
import {
  type Logger,
  NatsConnectionHolder,
  PLATFORM_CONFIG,
  PLATFORM_LOGGER,
  type PlatformConfig,
} from '@dsg/platform';
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { ensurePurgeStream } from './purge-stream';
import { OWN_RECORD_SYSTEMS } from './purges.service';

/**
 * This product's own records are purged like any holder's (issue 7, item 4), by the retention
 * service on their services' behalf: purge commands for `consent` go to the consent service's
 * redaction path (consent.ledger.redact: evidence and actor references leave the subject's
 * ledger entries), those for `disclosure-register` to the register's (entries' personal details
 * recorded up to the holding's clock leave; the leaves stay, the log still verifies); those for
 * the rights-request log (records.requests, RET-3) to consent.requests.purge (answered entries up
 * to the holding's clock are deleted). Each item is confirmed first, as any holder's: a legal
 * hold stops it (RET-6).
 */
@Injectable()
export class OwnRecordsHolder implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private workers: PurgeWorker[] = [];

  constructor(
    private readonly dsg: DsgClient,
    private readonly nats: NatsConnectionHolder,
    @Inject(PLATFORM_CONFIG) private readonly config: PlatformConfig,
    @Inject(PLATFORM_LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // The stream and consumers, whichever of the retention service's parts boots first.
    await ensurePurgeStream(
      await this.nats.connect().then((nc) => nc.jetstreamManager()),
      this.config.nats.subjectPrefix,
      this.config.events.replicas,
    );
    for (const system of OWN_RECORD_SYSTEMS) {
      const worker = new PurgeWorker({
        client: this.dsg,
        system,
        subjectPrefix: this.config.nats.subjectPrefix,
        execute: (items) => this.execute(system, items),
        onError: (err) =>
          this.logger.warn(
            {
              context: 'OwnRecords',
              system,
              code: (err as { code?: string }).code ?? ErrorCodes.INTERNAL,
            },
            'a purge command of our own records failed; it is delivered again',
          ),
      });
      await worker.start();
      this.workers.push(worker);
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.stop()));
  }

  private async execute(system: string, items: PurgeItem[]): Promise<Map<string, PurgeOutcome>> {
    const outcomes = new Map<string, PurgeOutcome>();
    for (const item of items) {
      const reason = `retention ${item.rule}: ${item.category} ${item.action}`;
      try {
        if (system === 'consent' && item.category === 'records.consents') {
          const { redactedEntries } = await this.dsg.consent.ledgerRedact({
            clientId: item.clientId,
            reason,
          });
          outcomes.set(item.itemId, {
            outcome: 'done',
            detail: `consent ledger: personal details redacted from ${redactedEntries} entries`,
          });
        } else if (system === 'disclosure-register' && item.category === 'records.disclosures') {
          // Entries recorded up to the holding's clock; for an erasure, all of them so far.
          const before = item.through
            ? new Date(Date.parse(item.through) + 1).toISOString()
            : new Date().toISOString();
          const { redactedEntries } = await this.dsg.disclosureRegister.entriesRedact({
            clientId: item.clientId,
            before,
            reason,
          });
          outcomes.set(item.itemId, {
            outcome: 'done',
            detail: `register: personal details redacted from ${redactedEntries} entries; the log still verifies`,
          });
        } else if (system === 'consent' && item.category === 'records.requests') {
          // Answered entries up to the holding's clock; for an erasure, all answered so far.
          const { deletedEntries, keptOpen } = await this.dsg.consent.requestPurge({
            clientId: item.clientId,
            through: item.through ?? new Date().toISOString(),
            reason,
          });
          outcomes.set(item.itemId, {
            outcome: 'done',
            detail: `rights-request log: ${deletedEntries} entries deleted${keptOpen ? `, ${keptOpen} open kept` : ''}`,
          });
        } else {
          outcomes.set(item.itemId, {
            outcome: 'failed',
            detail: `no purge path for ${item.category} in ${system}`,
          });
        }
      } catch (err) {
        outcomes.set(item.itemId, {
          outcome: 'failed',
          detail: `the ${system} service did not purge: ${(err as { code?: string }).code ?? ErrorCodes.INTERNAL}`,
        });
      }
    }
    return outcomes;
  }
}
