import { ClientUpdated } from '@dsg/contracts';
import {
  ensureSpaEventsStream,
  type EventConsumer,
  EventConsumers,
  eventData,
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
import { HoldingsService } from './holdings.service';

/** The retention service's durable consumer (and inbox name) of the spa systems' events. */
const CONSUMER = 'retention-spa-events';

/**
 * Keeps holdings current from the spa's own systems' events: a client's date of birth that
 * changes (`client.updated`) dates every holding of the subject again, so a minor's record keeps
 * its 19th-birthday floor (RET-1, KID-3). Each event is processed once (the retention inbox); one
 * whose data breaks the contract is parked, loudly. The stream is the consent service's.
 */
@Injectable()
export class HoldingsSpaEvents implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private consumer?: EventConsumer;

  constructor(
    private readonly consumers: EventConsumers,
    private readonly holdings: HoldingsService,
    @Inject(PLATFORM_LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.consumer = await this.consumers.start({
      stream: ensureSpaEventsStream,
      durable: CONSUMER,
      filterSubject: 'spa.events.client.updated.>',
      handlers: { 'client.updated': { 1: this.clientUpdated } },
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.consumer?.stop();
  }

  private readonly clientUpdated: EventHandler = async (event, manager) => {
    const data = eventData(ClientUpdated, event);
    if (!data.dateOfBirth) return undefined;
    const redated = await this.holdings.redateSubject(manager, data.clientId, data.dateOfBirth);
    if (redated) {
      this.logger.info({ context: 'Holdings', redated }, 'holdings dated again: date of birth');
    }
    return undefined;
  };
}
