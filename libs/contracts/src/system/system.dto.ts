import { Type } from 'class-transformer';
import {
  IsDateString,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';

// Replies carry validation decorators too: they are the documentation (JSON Schema for the
// AsyncAPI and OpenAPI documents is generated from them) and tests validate replies against them.

export class VersionRequest {}

export class VersionReply {
  @IsString()
  service!: string;

  @IsString()
  version!: string;

  /** Node.js runtime the instance runs on. */
  @IsString()
  runtime!: string;
}

export class StatusRequest {}

export const CHECK_STATES = ['up', 'down'] as const;
export type CheckState = (typeof CHECK_STATES)[number];

export class DependencyCheck {
  @IsString()
  name!: string;

  @IsIn(CHECK_STATES)
  state!: CheckState;

  /** Round-trip time of the check in milliseconds. */
  @IsNumber()
  latencyMs!: number;

  /** Why it is down, without secrets or personal data. */
  @IsOptional()
  @IsString()
  detail?: string;
}

export const INSTANCE_STATES = ['ready', 'not_ready', 'draining'] as const;
export type InstanceState = (typeof INSTANCE_STATES)[number];

export class StatusReply {
  @IsString()
  service!: string;

  @IsString()
  version!: string;

  @IsString()
  instance!: string;

  @IsIn(INSTANCE_STATES)
  state!: InstanceState;

  @IsDateString()
  startedAt!: string;

  @IsNumber()
  uptimeSeconds!: number;

  @ValidateNested({ each: true })
  @Type(() => DependencyCheck)
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
  @IsString()
  service!: string;

  /** Who the service saw calling: the NATS user (over NATS), or empty (gRPC, HTTP). */
  @IsString()
  caller!: string;

  @IsString()
  instance!: string;

  @IsString()
  payload!: string;

  @IsDateString()
  receivedAt!: string;
}
