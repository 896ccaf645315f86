import {
  correctionConsumerName,
  correctionStreamName,
  correctionSubject,
  ErasureCompleted,
  HOLDING_SYSTEMS,
  qualifySubject,
} from '@dsg/contracts';
import {
  ensureEventStream,
  type EventConsumer,
  EventConsumers,
  type EventHandler,
  ensureWorkQueue,
  eventData,
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
import { CONSENT_CONFIG, type ConsentConfig } from '../config/consent.config';
import { RightsService } from './rights.service';

const CONSUMER = 'consent-erasures-completed';
/** A holding system has this long to acknowledge a correction task before it is delivered again. */
const TASK_ACK_WAIT_MS = 60_000;
/** A task not taken within this long is dropped by JetStream (the request keeps its record). */
const TASK_MAX_AGE_MS = 90 * 24 * 3600 * 1000;

/**
 * Carries rights requests on without anyone waiting: a deletion request is answered when the
 * retention service's erasure completes (its `erasure.completed` event, processed once, or the
 * fulfil call itself when the erasure completed at once), and the periodic check
 * (RIGHTS_CHECK_MS) tells privacy officers of deadlines passed and finishes steps that failed
 * (an opt-out whose register call timed out, an erasure whose event was missed).
 */
@Injectable()
export class RightsEventsService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private consumer?: EventConsumer;
  private timer?: NodeJS.Timeout;
  private checking?: Promise<void>;

  constructor(
    private readonly consumers: EventConsumers,
    private readonly rights: RightsService,
    private readonly nats: NatsConnectionHolder,
    @Inject(PLATFORM_CONFIG) private readonly platform: PlatformConfig,
    @Inject(CONSENT_CONFIG) private readonly config: ConsentConfig,
    @Inject(PLATFORM_LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // The correction tasks' work queue: a consumer per holding system, on its own subject.
    const prefix = this.platform.nats.subjectPrefix;
    await ensureWorkQueue(await (await this.nats.connect()).jetstreamManager(), {
      name: correctionStreamName(prefix),
      subjects: [qualifySubject(prefix, 'consent.corrections.>')],
      replicas: this.platform.events.replicas,
      maxAgeMs: TASK_MAX_AGE_MS,
      ackWaitMs: TASK_ACK_WAIT_MS,
      consumers: HOLDING_SYSTEMS.filter((s) => s !== 'consent' && s !== 'disclosure-register').map(
        (system) => ({
          durable: correctionConsumerName(system),
          filterSubject: qualifySubject(prefix, correctionSubject(system)),
        }),
      ),
    });
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
    // After the inbox row commits: the request is answered from the erasure's certificate; a
    // failure is carried on by the periodic check.
    if (row) setImmediate(() => void this.rights.carryOn(row.id));
    return undefined;
  };
}
