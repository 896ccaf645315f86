import { Type } from 'class-transformer';
import { IsDateString, IsIn, IsOptional, IsString, ValidateNested } from 'class-validator';
import { DependencyCheck } from '../system/system.dto';

export class StackHealthRequest {}

export class ServiceError {
  @IsString()
  code!: string;

  @IsString()
  message!: string;
}

export class ServiceHealth {
  @IsString()
  service!: string;

  /** The service's own state, or `unreachable` when it did not answer over NATS. */
  @IsIn(['ready', 'not_ready', 'draining', 'unreachable'])
  state!: 'ready' | 'not_ready' | 'draining' | 'unreachable';

  @IsOptional()
  @IsString()
  version?: string;

  @IsOptional()
  @IsString()
  instance?: string;

  @IsOptional()
  @ValidateNested({ each: true })
  @Type(() => DependencyCheck)
  checks?: DependencyCheck[];

  @IsOptional()
  @ValidateNested()
  @Type(() => ServiceError)
  error?: ServiceError;
}

export class StackHealthReply {
  @IsIn(['ok', 'degraded'])
  state!: 'ok' | 'degraded';

  @IsDateString()
  checkedAt!: string;

  @ValidateNested({ each: true })
  @Type(() => ServiceHealth)
  services!: ServiceHealth[];
}
