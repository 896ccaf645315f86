import type { DependencyCheck } from '../system/system.dto';

export class StackHealthRequest {}

export class ServiceHealth {
  service!: string;
  /** The service's own state, or `unreachable` when it did not answer over NATS. */
  state!: 'ready' | 'not_ready' | 'draining' | 'unreachable';
  version?: string;
  instance?: string;
  checks?: DependencyCheck[];
  error?: { code: string; message: string };
}

export class StackHealthReply {
  state!: 'ok' | 'degraded';
  checkedAt!: string;
  services!: ServiceHealth[];
}
