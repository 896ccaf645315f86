import { join } from 'node:path';
import { protoRoot, SERVICES, type ServiceName } from '@dsg/contracts';
import { type INestApplication, type INestMicroservice, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type GrpcOptions, Transport } from '@nestjs/microservices';
import { ConfigError, loadConfig, type PlatformConfig } from '../config/platform.config';
import { runMigrations, type MigrationClass } from '../database/migrate';
import {
  GrpcExceptionFilter,
  HttpProblemFilter,
  NatsExceptionFilter,
} from '../errors/exception-filters';
import { createValidationPipe } from '../errors/validation.pipe';
import { createLogger, NestPinoLogger, serializeError, type Logger } from '../logging/logger';
import { MetricsInterceptor } from '../metrics/metrics.interceptor';
import { MetricsService } from '../metrics/metrics.service';
import { NatsConnectionHolder } from '../nats/nats-connection';
import { NatsRpcServer } from '../nats/nats-rpc.server';
import { PlatformModule } from '../platform.module';

export interface ServiceDefinition {
  service: ServiceName;
  /** The service's feature module(s); the platform module is added around them. */
  module: Type;
  migrations: MigrationClass[];
}

/**
 * The entry point of every service: `node main.js [serve|migrate]`.
 * Configuration is validated first; a bad variable stops the process with exit code 1 and a
 * message naming every bad variable.
 */
export async function runService(definition: ServiceDefinition): Promise<void> {
  const descriptor = SERVICES[definition.service];
  let config: PlatformConfig;
  try {
    config = loadConfig(descriptor);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const logger = createLogger({
      service: descriptor.name,
      instanceId: String(process.pid),
      level: 'info',
    });
    logger.fatal(
      { invalidVariables: err.variables.map((v) => v.variable), problems: err.variables },
      err.message,
    );
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
  const logger = createLogger({
    service: descriptor.name,
    instanceId: config.instanceId,
    level: config.logLevel,
  });
  process.on('unhandledRejection', (reason) =>
    logger.error({ err: serializeError(reason) }, 'unhandled rejection'),
  );
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception');
    process.exit(1);
  });

  const command = process.argv[2] ?? 'serve';
  try {
    if (command === 'migrate') {
      await runMigrations(config, definition.migrations, logger);
      process.exit(0);
    }
    if (command !== 'serve') {
      logger.fatal({ command }, 'unknown command; use "serve" or "migrate"');
      process.exit(2);
    }
    const app = await startService(config, definition, logger);
    handleSignals(app, config, logger);
  } catch (err) {
    logger.fatal({ err }, `${command} failed`);
    process.exit(1);
  }
}

/** Builds and starts the hybrid application: HTTP (health, metrics, API), NATS and gRPC. */
export async function startService(
  config: PlatformConfig,
  definition: ServiceDefinition,
  logger: Logger,
): Promise<INestApplication> {
  const app = await NestFactory.create(
    {
      module: class ServiceRoot {},
      imports: [PlatformModule.forRoot(config, logger), definition.module],
    },
    { logger: new NestPinoLogger(logger), abortOnError: false },
  );
  app.useGlobalFilters(new HttpProblemFilter(logger));
  app.useGlobalPipes(createValidationPipe());
  const metrics = app.get(MetricsService);
  app.useGlobalInterceptors(new MetricsInterceptor(metrics, 'http'));

  const nats = app.get(NatsConnectionHolder);
  const natsServer = app.connectMicroservice(
    {
      strategy: new NatsRpcServer({
        connection: () => nats.connect(),
        subjectPrefix: config.nats.subjectPrefix,
        queue: config.service.name,
        logger,
        metrics,
        drainTimeoutMs: config.shutdownTimeoutMs,
      }),
    },
    { deferInitialization: true },
  );
  const grpcServer = app.connectMicroservice<GrpcOptions>(
    {
      transport: Transport.GRPC,
      options: {
        url: `${config.grpc.host}:${config.grpc.port}`,
        package: config.service.grpcPackage,
        protoPath: join(protoRoot(), config.service.protoFile),
        loader: { includeDirs: [protoRoot()], keepCase: false, longs: Number, enums: String },
        gracefulShutdown: true,
      },
    },
    { deferInitialization: true },
  );
  natsServer
    .useGlobalFilters(new NatsExceptionFilter(logger))
    .useGlobalPipes(createValidationPipe());
  grpcServer
    .useGlobalFilters(new GrpcExceptionFilter(logger))
    .useGlobalPipes(createValidationPipe())
    .useGlobalInterceptors(new MetricsInterceptor(metrics, 'grpc'));

  await app.init();
  // The application's init hooks have run once; keep the microservices from running them again.
  for (const ms of [natsServer, grpcServer]) markInitHooksCalled(ms);
  await app.startAllMicroservices();
  await app.listen(config.http.port, config.http.host);
  const address = app.getHttpServer().address() as { port: number };
  logger.info(
    {
      context: 'Bootstrap',
      httpPort: address.port,
      grpcPort: config.grpc.port,
      subjectPrefix: config.nats.subjectPrefix,
    },
    `${config.service.name} ready`,
  );
  return app;
}

function markInitHooksCalled(ms: INestMicroservice): void {
  (ms as unknown as { setIsInitHookCalled(value: boolean): void }).setIsInitHookCalled(true);
}

/**
 * SIGTERM/SIGINT: readiness turns false, HTTP stops accepting, NATS subscriptions are drained and
 * in-flight requests finish, gRPC shuts down gracefully, then NATS and PostgreSQL are closed.
 * Exit 0 when that completes within SHUTDOWN_TIMEOUT_MS, 1 otherwise.
 */
function handleSignals(app: INestApplication, config: PlatformConfig, logger: Logger): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ context: 'Shutdown', signal }, 'shutting down');
    setTimeout(() => {
      logger.error({ context: 'Shutdown' }, 'shutdown timed out');
      process.exit(1);
    }, config.shutdownTimeoutMs + 2000).unref();
    app.close().then(
      () => {
        logger.info({ context: 'Shutdown' }, 'stopped');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ context: 'Shutdown', err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
