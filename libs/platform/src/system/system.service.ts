import {
  type DependencyCheck,
  type PingReply,
  type PingRequest,
  type Principal,
  type RotateSigningKeyReply,
  type SigningKeysReply,
  type StatusReply,
  type VersionReply,
} from '@dsg/contracts';
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { PlatformConfig } from '../config/platform.config';
import { KeyRing } from '../keys/key-ring';
import { NatsConnectionHolder } from '../nats/nats-connection';
import type { Logger } from '../logging/logger';
import { PLATFORM_CONFIG, PLATFORM_LOGGER } from '../tokens';
import { withTimeout } from '../util/with-timeout';
import { packageVersion } from './package-version';

const CHECK_TIMEOUT_MS = 2000;

/** Version, status and ping: one method each, served alike over NATS, gRPC and HTTP. */
@Injectable()
export class SystemService implements OnModuleDestroy {
  private readonly startedAt = new Date();
  private draining = false;
  private readonly extraChecks: { name: string; probe: () => Promise<unknown> }[] = [];

  constructor(
    @Inject(PLATFORM_CONFIG) private readonly config: PlatformConfig,
    private readonly nats: NatsConnectionHolder,
    private readonly dataSource: DataSource,
    private readonly keyRing: KeyRing,
    @Inject(PLATFORM_LOGGER) private readonly logger: Logger,
  ) {}

  /** First shutdown step: readiness turns false before anything stops serving. */
  beginDrain(): void {
    this.draining = true;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /**
   * A readiness condition of the service itself (a cache being loaded, say): the probe throws,
   * with a message free of personal data, while the service is not ready.
   */
  addReadinessCheck(name: string, probe: () => Promise<unknown>): void {
    this.extraChecks.push({ name, probe });
  }

  onModuleDestroy(): void {
    this.draining = true;
  }

  version(): VersionReply {
    return {
      service: this.config.service.name,
      version: packageVersion(),
      runtime: process.version,
    };
  }

  async status(): Promise<StatusReply> {
    const checks = await Promise.all([
      this.check('postgres', () => this.dataSource.query('SELECT 1')),
      this.check('nats', () => this.nats.check(CHECK_TIMEOUT_MS)),
      ...this.extraChecks.map((c) => this.check(c.name, c.probe)),
    ]);
    const healthy = checks.every((c) => c.state === 'up');
    return {
      service: this.config.service.name,
      version: packageVersion(),
      instance: this.config.instanceId,
      state: this.draining ? 'draining' : healthy ? 'ready' : 'not_ready',
      startedAt: this.startedAt.toISOString(),
      uptimeSeconds: Math.round((Date.now() - this.startedAt.getTime()) / 1000),
      checks,
    };
  }

  /** Current and retired public keys; re-read so a rotation by any replica shows at once. */
  async signingKeys(): Promise<SigningKeysReply> {
    await this.keyRing.reload();
    return { keys: this.keyRing.publicKeys() };
  }

  /** A new signing key; the previous one is retired and keeps verifying. Audited in the log. */
  async rotateSigningKey(principal: Principal): Promise<RotateSigningKeyReply> {
    const kid = await this.keyRing.rotate();
    this.logger.info(
      { context: 'Keys', kid, actor: principal.subject, roles: principal.roles },
      'signing key rotated',
    );
    return { kid };
  }

  async ping(request: PingRequest, caller = ''): Promise<PingReply> {
    const receivedAt = new Date().toISOString();
    if (request.delayMs) await new Promise((resolve) => setTimeout(resolve, request.delayMs));
    return {
      service: this.config.service.name,
      caller,
      instance: this.config.instanceId,
      payload: request.payload ?? '',
      receivedAt,
    };
  }

  private async check(name: string, probe: () => Promise<unknown>): Promise<DependencyCheck> {
    const started = performance.now();
    try {
      await withTimeout(probe(), CHECK_TIMEOUT_MS, name);
      return { name, state: 'up', latencyMs: elapsed(started) };
    } catch (err) {
      // The driver's message may name hosts or roles but never row data.
      return { name, state: 'down', latencyMs: elapsed(started), detail: (err as Error).message };
    }
  }
}

const elapsed = (started: number): number => Math.round((performance.now() - started) * 100) / 100;
