import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

export class VersionRequest {}

export class VersionReply {
  service!: string;
  version!: string;
  /** Node.js runtime the instance runs on. */
  runtime!: string;
}

export class StatusRequest {}

export type CheckState = 'up' | 'down';

export class DependencyCheck {
  name!: string;
  state!: CheckState;
  /** Round-trip time of the check in milliseconds. */
  latencyMs!: number;
  /** Why it is down, without secrets or personal data. */
  detail?: string;
}

export type InstanceState = 'ready' | 'not_ready' | 'draining';

export class StatusReply {
  service!: string;
  version!: string;
  instance!: string;
  state!: InstanceState;
  startedAt!: string;
  uptimeSeconds!: number;
  checks!: DependencyCheck[];
}

/**
 * Round-trip probe for operators: measures the path caller → NATS/gRPC → service → caller,
 * and (with delayMs) holds a request in flight, which is how drain on shutdown is verified.
 */
export class PingRequest {
  @IsOptional()
  @IsString()
  @MaxLength(256)
  payload?: string;

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(10_000)
  delayMs?: number;
}

export class PingReply {
  service!: string;
  instance!: string;
  payload!: string;
  receivedAt!: string;
}
