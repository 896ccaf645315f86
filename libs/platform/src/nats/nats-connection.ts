import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { inboxPrefixFor } from '@dsg/contracts';
import { connect, type NatsConnection } from 'nats';
import { PLATFORM_CONFIG, PLATFORM_LOGGER } from '../tokens';
import { withTimeout } from '../util/with-timeout';
import type { PlatformConfig } from '../config/platform.config';
import type { Logger } from '../logging/logger';

/**
 * The process's one NATS connection, shared by the RPC server, the typed client and health.
 * It is drained last on shutdown, after the RPC server has finished its in-flight work.
 */
@Injectable()
export class NatsConnectionHolder implements OnApplicationShutdown {
  private nc?: NatsConnection;

  constructor(
    @Inject(PLATFORM_CONFIG) private readonly config: PlatformConfig,
    @Inject(PLATFORM_LOGGER) private readonly logger: Logger,
  ) {}

  async connect(): Promise<NatsConnection> {
    if (this.nc) return this.nc;
    this.nc = await connect({
      servers: this.config.nats.servers,
      name: this.config.instanceId,
      user: this.config.nats.user,
      pass: this.config.nats.password,
      inboxPrefix: inboxPrefixFor(this.config.nats.user),
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      // No stack trace captured per request (two Error objects each): see DsgClient.connect.
      noAsyncTraces: true,
    });
    void this.watch(this.nc);
    return this.nc;
  }

  get connection(): NatsConnection {
    if (!this.nc) throw new Error('NATS is not connected yet');
    return this.nc;
  }

  /** Readiness: a round trip to the server, bounded in time. */
  async check(timeoutMs: number): Promise<void> {
    const nc = this.connection;
    if (nc.isClosed() || nc.isDraining()) throw new Error('connection closed');
    await withTimeout(nc.flush(), timeoutMs, 'NATS flush');
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.nc && !this.nc.isClosed()) {
      // Bounded: with the server unreachable a drain would wait for a reconnect that may not come.
      await withTimeout(this.nc.drain(), this.config.shutdownTimeoutMs, 'NATS drain').catch(
        async (err: unknown) => {
          this.logger.warn({ err }, 'NATS drain failed; closing');
          await this.nc?.close();
        },
      );
    }
  }

  private async watch(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === 'pingTimer') continue;
      const level = status.type === 'disconnect' || status.type === 'error' ? 'warn' : 'info';
      this.logger[level]({ context: 'NATS', event: status.type }, `NATS ${status.type}`);
    }
  }
}
