import { DsgClient, type ServiceDescriptor } from '@dsg/contracts';
import { type DynamicModule, Global, Module, type Type } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { PlatformConfig } from './config/platform.config';
import { DataSource } from 'typeorm';
import { coalescingSocket } from './database/coalescing-socket';
import { EventConsumers } from './events/event-consumers';
import { Outbox } from './events/outbox';
import { IdentifierHasher } from './keys/identifier-hasher';
import { KeyRing, openKeyRing } from './keys/key-ring';
import { HealthController } from './health/health.controller';
import type { Logger } from './logging/logger';
import { MetricsService } from './metrics/metrics.service';
import { NatsConnectionHolder } from './nats/nats-connection';
import { DirectHandlers } from './nats/direct-handlers';
import { createSystemController } from './system/system.controller';
import { SystemService } from './system/system.service';
import { PLATFORM_CONFIG, PLATFORM_LOGGER } from './tokens';

/**
 * What every service gets: its typed configuration, logger, the NATS connection, the runtime-role
 * database connection (TypeORM, migrations never run here), metrics, health and the system
 * operations, and a DsgClient for calling the other services.
 */
/** The controllers every service gets from the platform (also read by the API-document test). */
export function platformControllers(service: ServiceDescriptor): Type[] {
  return [HealthController, createSystemController(service)];
}

@Global()
@Module({})
export class PlatformModule {
  static forRoot(config: PlatformConfig, logger: Logger): DynamicModule {
    return {
      module: PlatformModule,
      imports: [
        TypeOrmModule.forRoot({
          type: 'postgres',
          url: config.database.runtimeUrl,
          schema: config.service.schema,
          applicationName: config.instanceId,
          poolSize: config.database.poolSize,
          autoLoadEntities: true,
          synchronize: false,
          migrationsRun: false,
          logging: false,
          retryAttempts: 5,
          retryDelay: 1000,
          // Passed to pg's Pool: each connection's socket coalesces a query's protocol messages.
          extra: { stream: coalescingSocket },
        }),
      ],
      controllers: platformControllers(config.service),
      providers: [
        { provide: PLATFORM_CONFIG, useValue: config },
        { provide: PLATFORM_LOGGER, useValue: logger },
        NatsConnectionHolder,
        DirectHandlers,
        MetricsService,
        SystemService,
        Outbox,
        EventConsumers,
        {
          provide: IdentifierHasher,
          useValue: new IdentifierHasher(
            config.identifiers.secret,
            config.identifiers.previousSecret,
          ),
        },
        {
          provide: KeyRing,
          inject: [DataSource],
          useFactory: (dataSource: DataSource) =>
            openKeyRing(dataSource, config.service, config.signing.secret),
        },
        {
          provide: DsgClient,
          inject: [NatsConnectionHolder],
          useFactory: async (nats: NatsConnectionHolder) =>
            DsgClient.connect({
              caller: config.nats.user,
              connection: await nats.connect(),
              subjectPrefix: config.nats.subjectPrefix,
              timeoutMs: config.nats.requestTimeoutMs,
            }),
        },
      ],
      exports: [
        PLATFORM_CONFIG,
        PLATFORM_LOGGER,
        NatsConnectionHolder,
        DirectHandlers,
        MetricsService,
        SystemService,
        Outbox,
        EventConsumers,
        KeyRing,
        IdentifierHasher,
        DsgClient,
      ],
    };
  }
}
