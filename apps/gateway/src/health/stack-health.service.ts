import {
  DsgClient,
  DsgError,
  SERVICE_NAMES,
  type ServiceHealth,
  type ServiceName,
  type StackHealthReply,
} from '@dsg/contracts';
import { SystemService } from '@dsg/platform';
import { Injectable } from '@nestjs/common';

// Longer than a service's own dependency checks (2 s), so a slow database shows as the service's
// own not_ready with its checks, not as unreachable.
const STATUS_TIMEOUT_MS = 3500;

/**
 * The stack as the operator sees it: every service's own status, asked over NATS (so a service
 * that cannot be reached on the bus shows as unreachable even if its pod looks healthy).
 */
@Injectable()
export class StackHealthService {
  constructor(
    private readonly client: DsgClient,
    private readonly system: SystemService,
  ) {}

  async check(): Promise<StackHealthReply> {
    const services = await Promise.all(SERVICE_NAMES.map((name) => this.statusOf(name)));
    return {
      state: services.every((s) => s.state === 'ready') ? 'ok' : 'degraded',
      checkedAt: new Date().toISOString(),
      services,
    };
  }

  private async statusOf(name: ServiceName): Promise<ServiceHealth> {
    if (name === 'gateway') return this.system.status();
    try {
      return await this.client
        .system(name)
        .status({}, { timeoutMs: STATUS_TIMEOUT_MS, retries: 0 });
    } catch (err) {
      const error =
        err instanceof DsgError
          ? { code: err.code, message: err.message }
          : { code: 'PLATFORM.INTERNAL', message: 'status call failed' };
      return { service: name, state: 'unreachable', error };
    }
  }
}
