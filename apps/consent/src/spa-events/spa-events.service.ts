import { ClientEventOccurred, ClientUpdated, SPA_EVENTS_STREAM_SUBJECTS } from '@dsg/contracts';
import {
  ensureSpaEventsStream,
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
import { AuthorizationsService } from '../authorizations/authorizations.service';
import { DecisionReplicas } from '../decision/decision-replicas.service';
import { SubjectsService } from '../subjects/subjects.service';

/** The durable consumer (and inbox name) of the spa systems' events. */
export const SPA_EVENTS_CONSUMER = 'consent-spa-events';

/**
 * Keeps subjects current from the spa's own systems (issue 4: "active" is a status those systems
 * keep current through events) and expires authorizations by the event they name (HIP-1). The
 * consent service keeps the stream the systems publish to; each event is processed once (inbox),
 * an event whose data breaks the contract is parked, loudly, without blocking the ones after it.
 */
@Injectable()
export class SpaEventsService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private consumer?: EventConsumer;

  constructor(
    private readonly consumers: EventConsumers,
    private readonly subjects: SubjectsService,
    private readonly authorizations: AuthorizationsService,
    private readonly replicas: DecisionReplicas,
    @Inject(PLATFORM_LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.consumer = await this.consumers.start({
      stream: ensureSpaEventsStream,
      durable: SPA_EVENTS_CONSUMER,
      filterSubject: SPA_EVENTS_STREAM_SUBJECTS,
      handlers: {
        'client.updated': { 1: this.clientUpdated },
        'client.event-occurred': { 1: this.clientEventOccurred },
      },
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.consumer?.stop();
  }

  private readonly clientUpdated: EventHandler = async (event, manager) => {
    const data = eventData(ClientUpdated, event);
    await this.subjects.upsertIn(
      manager,
      { clientId: data.clientId, status: data.status, dateOfBirth: data.dateOfBirth },
      `spa-event:${event.id}`,
    );
    return this.replicas.recordIn(manager, [data.clientId]);
  };

  private readonly clientEventOccurred: EventHandler = async (event, manager) => {
    const data = eventData(ClientEventOccurred, event);
    const expired = await this.authorizations.expireByEvent(
      manager,
      data.clientId,
      data.event,
      data.occurredAt,
      event.id,
    );
    if (expired === 0) return undefined;
    this.logger.info({ context: 'SpaEvents', expired }, 'authorizations expired by event');
    return this.replicas.recordIn(manager, [data.clientId]);
  };
}
