import { join } from 'node:path';
import { DsgClient, inboxPrefixFor, protoRoot, SERVICES, type ServiceName } from '@dsg/contracts';
import { type INestApplication, type INestMicroservice, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { ServerGrpc } from '@nestjs/microservices';
import { ConfigError, loadConfig, type PlatformConfig } from '../config/platform.config';
import { runMigrations, type MigrationClass } from '../database/migrate';
import {
  GrpcExceptionFilter,
  HttpProblemFilter,
  NatsExceptionFilter,
} from '../errors/exception-filters';
import { createValidationPipe } from '../errors/validation.pipe';
import { DirectHandlers } from '../nats/direct-handlers';
import { createLogger, NestPinoLogger, type Logger } from '../logging/logger';
import { serializeError } from '../logging/redact';
import { MetricsInterceptor } from '../metrics/metrics.interceptor';
import { MetricsService } from '../metrics/metrics.service';
import { NatsConnectionHolder } from '../nats/nats-connection';
import { NatsRpcServer } from '../nats/nats-rpc.server';
import { DrainGuard } from '../health/drain.guard';
import { ensureEventStream } from '../events/jetstream';
import { OutboxRelay } from '../events/outbox-relay';
import { KeyRing, openKeyRing } from '../keys/key-ring';
import { AssertionVerifier } from '../identity/assertions';
import { AssertionGuard } from '../identity/require-role';
import { PlatformModule } from '../platform.module';
import { SystemService } from '../system/system.service';
import { stopTelemetry } from '../telemetry/instrument';
import { withTimeout } from '../util/with-timeout';

export interface ServiceDefinition {
  service: ServiceName;
  /** The service's feature module(s); the platform module is added around them. */
  module: Type;
  migrations: MigrationClass[];
  /** Extra HTTP set-up before the application starts (the gateway's OpenAPI document). */
  configureHttp?: (app: INestApplication) => void;
}

/**
 * The entry point of every service: `node main.js [serve|migrate]`.
 * Configuration is validated first; a bad variable stops the process with exit code 1 and a
 * message naming every bad variable.
 */
export async function runService(definition: ServiceDefinition): Promise<void> {
  const descriptor = SERVICES[definition.service];
  const command = process.argv[2] ?? 'serve';
  let config: PlatformConfig;
  try {
    // Migrations neither sign nor hash identifiers: they run without those secrets.
    config = loadConfig(descriptor, process.env, { requireSecrets: command !== 'migrate' });
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

  try {
    if (command === 'migrate') {
      await runMigrations(config, definition.migrations, logger);
      process.exit(0);
    }
    if (command === 'rotate-signing-key') {
      const kid = await rotateSigningKey(config);
      logger.info({ kid }, 'signing key rotated; the previous key is retired and still verifies');
      process.exit(0);
    }
    if (command !== 'serve') {
      logger.fatal({ command }, 'unknown command; use "serve", "migrate" or "rotate-signing-key"');
      process.exit(2);
    }
    if (config.signing.usingDevelopmentSecret) {
      logger.warn(
        'SIGNING_KEY_SECRET is not set: using the development secret (refused in production)',
      );
    }
    const service = await startService(config, definition, logger);
    handleSignals(service, config, logger);
  } catch (err) {
    if (err instanceof ConfigError) {
      logger.fatal({ invalidVariables: err.variables.map((v) => v.variable) }, err.message);
      process.stderr.write(`${err.message}\n`);
    } else {
      logger.fatal({ err }, `${command} failed`);
    }
    process.exit(1);
  }
}

/** `node main.js rotate-signing-key`: as the runtime role, like the service itself. */
async function rotateSigningKey(config: PlatformConfig): Promise<string> {
  const dataSource = await new DataSource({
    type: 'postgres',
    url: config.database.runtimeUrl,
    schema: config.service.schema,
    poolSize: 1,
  }).initialize();
  try {
    return await (await openKeyRing(dataSource, config.service, config.signing.secret)).rotate();
  } finally {
    await dataSource.destroy();
  }
}

export interface RunningService {
  app: INestApplication;
  /** Stops taking work, answers what is in flight, then closes everything. */
  stop(): Promise<void>;
}

/** Builds and starts the hybrid application: HTTP (health, metrics, API), NATS and gRPC. */
export async function startService(
  config: PlatformConfig,
  definition: ServiceDefinition,
  logger: Logger,
): Promise<RunningService> {
  const app = await NestFactory.create(
    {
      module: class ServiceRoot {},
      imports: [PlatformModule.forRoot(config, logger), definition.module],
    },
    { logger: new NestPinoLogger(logger), abortOnError: false },
  );
  const system = app.get(SystemService);
  const metrics = app.get(MetricsService);
  app.useGlobalFilters(new HttpProblemFilter(logger));
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalInterceptors(new MetricsInterceptor(metrics, 'http', logger));
  definition.configureHttp?.(app);

  const nats = app.get(NatsConnectionHolder);
  const natsServer = new NatsRpcServer({
    connection: () => nats.connect(),
    subjectPrefix: config.nats.subjectPrefix,
    queue: config.service.name,
    logger,
    metrics,
    drainTimeoutMs: config.shutdownTimeoutMs,
    direct: { handlers: app.get(DirectHandlers), pipe: createValidationPipe() },
  });
  const grpcServer = new ServerGrpc({
    url: `${config.grpc.host}:${config.grpc.port}`,
    package: config.service.grpcPackage,
    protoPath: join(protoRoot(), config.service.protoFile),
    loader: { includeDirs: [protoRoot()], keepCase: false, longs: Number, enums: String },
    gracefulShutdown: true,
  });
  const keyRing = app.get(KeyRing);
  const client = app.get(DsgClient);
  const verifier = new AssertionVerifier(config.service.name, async () => {
    // The gateway reads its own keys; every other service asks the gateway over NATS.
    if (config.service.name === 'gateway') {
      await keyRing.reload();
      return keyRing.publicKeys();
    }
    return (await client.gateway.signingKeys({}, { timeoutMs: 3000, retries: 1 })).keys;
  });
  app.useGlobalGuards(new DrainGuard(system), new AssertionGuard(verifier));
  app
    .connectMicroservice({ strategy: natsServer }, { deferInitialization: true })
    .useGlobalFilters(new NatsExceptionFilter(logger))
    .useGlobalGuards(new AssertionGuard(verifier))
    .useGlobalPipes(createValidationPipe());
  app
    .connectMicroservice({ strategy: grpcServer }, { deferInitialization: true })
    .useGlobalFilters(new GrpcExceptionFilter(logger))
    .useGlobalPipes(createValidationPipe())
    .useGlobalInterceptors(new MetricsInterceptor(metrics, 'grpc', logger));

  const relay = new OutboxRelay({
    dataSource: app.get(DataSource),
    connection: () => nats.connection,
    inboxPrefix: inboxPrefixFor(config.nats.user),
    schema: config.service.schema,
    subjectPrefix: config.nats.subjectPrefix,
    logger,
    pollIntervalMs: config.events.outboxPollIntervalMs,
    batchSize: config.events.outboxBatchSize,
    gatherMs: config.events.outboxGatherMs,
  });

  await app.init();
  await ensureEventStream(await (await nats.connect()).jetstreamManager(), {
    subjectPrefix: config.nats.subjectPrefix,
    source: config.service.name,
    replicas: config.events.replicas,
  });
  // The application's init hooks have run once; keep the microservices from running them again.
  for (const ms of app.getMicroservices()) markInitHooksCalled(ms);
  await app.startAllMicroservices();
  await app.listen(config.http.port, config.http.host);
  relay.start();
  // A rotation made by another replica (or the CLI) reaches this one within a minute.
  const reloadKeys = () =>
    keyRing
      .reload()
      .then(() => {
        const rejected = keyRing.rejectedKeyIds();
        if (rejected.length)
          logger.error(
            { context: 'Keys', rejected },
            'signing keys failed the integrity check and are ignored',
          );
      })
      .catch((err: unknown) => logger.warn({ context: 'Keys', err }, 'signing keys reload failed'));
  await reloadKeys();
  const keyTimer = setInterval(() => void reloadKeys(), 60_000).unref();
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

  const stop = async () => {
    // 1. Readiness turns 503 and new HTTP API calls get PLATFORM.SHUTTING_DOWN; probes still answer.
    system.beginDrain();
    // 2. No new NATS or gRPC work; what is in flight is answered.
    await Promise.all([
      natsServer.close(),
      withTimeout(grpcServer.close(), config.shutdownTimeoutMs, 'gRPC shutdown').catch(
        (err: unknown) => logger.warn({ context: 'Shutdown', err }, 'gRPC calls abandoned'),
      ),
    ]);
    // 3. Events committed by that work are published.
    clearInterval(keyTimer);
    await relay.stop();
    // 4. HTTP closes, then the NATS connection is drained and the database pool closed.
    await app.close();
    // 5. Spans still buffered are exported.
    await stopTelemetry();
  };
  return { app, stop };
}

function markInitHooksCalled(ms: INestMicroservice): void {
  (ms as unknown as { setIsInitHookCalled(value: boolean): void }).setIsInitHookCalled(true);
}

/**
 * SIGTERM/SIGINT: see RunningService.stop. Exit 0 when it completes, 1 if it fails or takes
 * longer than SHUTDOWN_TIMEOUT_MS (plus a little for closing connections).
 */
function handleSignals(service: RunningService, config: PlatformConfig, logger: Logger): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ context: 'Shutdown', signal }, 'shutting down');
    setTimeout(() => {
      logger.error({ context: 'Shutdown' }, 'shutdown timed out');
      process.exit(1);
    }, config.shutdownTimeoutMs + 2000).unref();
    service.stop().then(
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
