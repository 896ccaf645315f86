import { ErrorCodes } from '@dsg/contracts';
import {
  ensureEventStream,
  type EventConsumer,
  EventConsumers,
  type EventHandler,
  type Logger,
  PLATFORM_LOGGER,
} from '@dsg/platform';
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { HoldingsService } from '../holdings/holdings.service';
import { RetentionPolicy } from './retention-policy';

const CONSUMER = 'retention-policy-published';
/**
 * How often the version in effect is compared with the one the holdings were last dated under:
 * a version published with a later effective date comes into effect without an event, and a
 * consent replica still on the old version may have answered just after the event.
 */
const CHECK_EVERY_MS = 30_000;

/**
 * A new policy version dates every holding again (issue 7: nothing computed under an old
 * schedule is kept): on the consent service's `policy.published` events (durable, processed once),
 * at boot (to catch up with versions published while no replica ran), and whenever the version in
 * effect is found to differ from the one last dated under (checked every 30 s: a version that
 * comes into effect later announces nothing then). The work runs after the event is
 * acknowledged, in batches any replica may share.
 */
@Injectable()
export class PolicyEventsService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private consumer?: EventConsumer;
  private running?: Promise<void>;
  private again = false;
  private timer?: NodeJS.Timeout;
  /** The version the last complete run dated the holdings under. */
  private datedUnder?: string;

  constructor(
    private readonly consumers: EventConsumers,
    private readonly policy: RetentionPolicy,
    private readonly holdings: HoldingsService,
    @Inject(PLATFORM_LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // The consent service's stream, as it creates it (whichever service boots first).
    this.consumer = await this.consumers.start({
      stream: (jsm, prefix, replicas) =>
        ensureEventStream(jsm, { subjectPrefix: prefix, source: 'consent', replicas }),
      durable: CONSUMER,
      filterSubject: 'consent.events.policy.published.>',
      handlers: { 'policy.published': { 1: this.published } },
    });
    this.redate();
    this.timer = setInterval(() => void this.check(), CHECK_EVERY_MS);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.consumer?.stop();
    await this.running;
  }

  /** Dates the holdings again if the version in effect is not the one they were dated under. */
  private async check(): Promise<void> {
    this.policy.forget();
    try {
      if ((await this.policy.current()).version !== this.datedUnder) this.redate();
    } catch {
      // The consent service does not answer now: the next check asks again.
    }
  }

  private readonly published: EventHandler = async () => {
    this.policy.forget();
    // After the inbox row commits: a crash before the work is done is caught up at boot.
    setImmediate(() => this.redate());
    return undefined;
  };

  /** One run at a time; a request during a run starts another after it. */
  private redate(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          const { redated, version } = await this.holdings.recompute();
          this.datedUnder = version;
          if (redated) {
            this.logger.info(
              { context: 'Schedules', redated },
              'holdings dated again under the policy in effect',
            );
          }
        } catch (err) {
          const code = (err as { code?: string }).code;
          this.logger.warn(
            { context: 'Schedules', code: code ?? ErrorCodes.INTERNAL },
            'holdings could not be dated again now; the next policy event or boot retries',
          );
        }
      } while (this.again);
    })().finally(() => {
      this.running = undefined;
    });
  }
}
