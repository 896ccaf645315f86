import { Inject, Injectable } from '@nestjs/common';
import type { JetStreamManager } from 'nats';
import { DataSource } from 'typeorm';
import type { PlatformConfig } from '../config/platform.config';
import type { Logger } from '../logging/logger';
import { NatsConnectionHolder } from '../nats/nats-connection';
import { PLATFORM_CONFIG, PLATFORM_LOGGER } from '../tokens';
import { EventConsumer, type EventHandlers } from './event-consumer';

/**
 * Starts a service's durable consumers of streams: the stream made sure of (`stream`, given the
 * JetStream manager, the subject prefix and the configured replica count), the inbox in the
 * service's own schema, on the service's connection.
 */
@Injectable()
export class EventConsumers {
  constructor(
    private readonly dataSource: DataSource,
    private readonly nats: NatsConnectionHolder,
    @Inject(PLATFORM_CONFIG) private readonly config: PlatformConfig,
    @Inject(PLATFORM_LOGGER) private readonly logger: Logger,
  ) {}

  async start(options: {
    stream: (jsm: JetStreamManager, prefix: string, replicas: number) => Promise<string>;
    durable: string;
    filterSubject: string;
    handlers: EventHandlers;
  }): Promise<EventConsumer> {
    const connection = await this.nats.connect();
    const prefix = this.config.nats.subjectPrefix;
    const stream = await options.stream(
      await connection.jetstreamManager(),
      prefix,
      this.config.events.replicas,
    );
    const consumer = new EventConsumer({
      connection,
      dataSource: this.dataSource,
      schema: this.config.service.schema,
      durable: options.durable,
      stream,
      subjectPrefix: prefix,
      filterSubject: options.filterSubject,
      logger: this.logger,
      handlers: options.handlers,
    });
    await consumer.start();
    return consumer;
  }
}
