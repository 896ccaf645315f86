import { ErasureCompleted } from '@dsg/contracts';
import {
  ensureEventStream,
  type EventConsumer,
  EventConsumers,
  type EventHandler,
  eventData,
  type Logger,
  PLATFORM_LOGGER,
} from '@dsg/platform';
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { CONSENT_CONFIG, type ConsentConfig } from '../config/consent.config';
import { RightsService } from './rights.service';

const CONSUMER = 'consent-erasures-completed';

/**
 * Carries rights requests on without anyone waiting: a deletion request is answered when the
 * retention service's erasure completes (its `erasure.completed` event, processed once), and
 * the periodic check (RIGHTS_CHECK_MS) tells privacy officers of deadlines passed and finishes
 * steps that failed (an opt-out whose register call timed out, an erasure event missed).
 */
@Injectable()
export class RightsEventsService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private consumer?: EventConsumer;
  private timer?: NodeJS.Timeout;
  private checking?: Promise<void>;

  constructor(
    private readonly consumers: EventConsumers,
    private readonly rights: RightsService,
    @Inject(CONSENT_CONFIG) private readonly config: ConsentConfig,
    @Inject(PLATFORM_LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.consumer = await this.consumers.start({
      stream: (jsm, prefix, replicas) =>
        ensureEventStream(jsm, { subjectPrefix: prefix, source: 'retention', replicas }),
      durable: CONSUMER,
      filterSubject: 'retention.events.erasure.completed.>',
      handlers: { 'erasure.completed': { 1: this.completed } },
    });
    this.timer = setInterval(() => this.runCheck(), this.config.rightsCheckMs);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.consumer?.stop();
    await this.checking;
  }

  private runCheck(): void {
    if (this.checking) return;
    this.checking = this.rights
      .check()
      .catch((err: { code?: string }) =>
        this.logger.warn(
          { context: 'Rights', code: err.code ?? 'PLATFORM.INTERNAL' },
          'the rights-request check failed; the next one tries again',
        ),
      )
      .finally(() => (this.checking = undefined));
  }

  private readonly completed: EventHandler = async (event, manager) => {
    const data = eventData(ErasureCompleted, event);
    const [row] = (await manager.query(
      `SELECT id FROM consent.rights_requests WHERE erasure_id = $1 AND answered_at IS NULL`,
      [data.erasureId],
    )) as { id: string }[];
    // After the inbox row commits; a failure is carried on by the periodic check.
    if (row) setImmediate(() => this.runCheck());
    return undefined;
  };
}
