import 'reflect-metadata';
import { type ServiceDescriptor } from '@dsg/contracts';
import { plainToInstance, Type } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  validateSync,
  type ValidationError,
} from 'class-validator';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * The environment variables every service reads, validated once at boot. Nothing else in the
 * code reads process.env; it reads the typed `PlatformConfig` built from this.
 */
export class PlatformEnv {
  @IsOptional()
  @Matches(/^(nats|tls):\/\/[^\s,]+(,(nats|tls):\/\/[^\s,]+)*$/, {
    message: 'NATS_URL must be one or more comma-separated nats:// or tls:// URLs',
  })
  NATS_URL?: string;

  @IsOptional()
  @Matches(/^[a-z][a-z0-9_-]{0,31}$/, {
    message:
      'NATS_SUBJECT_PREFIX must be 1-32 characters of a-z, 0-9, _ or -, starting with a letter',
  })
  NATS_SUBJECT_PREFIX?: string;

  @IsOptional()
  @Matches(/^[a-z][a-z0-9_-]{0,63}$/, {
    message: 'NATS_USER must be a NATS user name (a-z, 0-9, _ or -, starting with a letter)',
  })
  NATS_USER?: string;

  @IsOptional()
  @IsString()
  @MaxLength(256)
  NATS_PASSWORD?: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'NATS_REQUEST_TIMEOUT_MS must be an integer (milliseconds)' })
  @Min(100)
  @Max(120_000)
  NATS_REQUEST_TIMEOUT_MS?: number;

  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/\S+$/, { message: 'DATABASE_URL must be a postgres:// URL' })
  DATABASE_URL?: string;

  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/\S+$/, { message: 'DATABASE_RUNTIME_URL must be a postgres:// URL' })
  DATABASE_RUNTIME_URL?: string;

  @IsOptional()
  @IsString()
  @MaxLength(256)
  DATABASE_RUNTIME_PASSWORD?: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'DATABASE_POOL_SIZE must be an integer' })
  @Min(1)
  @Max(200)
  DATABASE_POOL_SIZE?: number;

  @IsOptional()
  @IsString()
  HTTP_HOST?: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'HTTP_PORT must be an integer between 0 and 65535' })
  @Min(0, { message: 'HTTP_PORT must be an integer between 0 and 65535' })
  @Max(65535, { message: 'HTTP_PORT must be an integer between 0 and 65535' })
  HTTP_PORT?: number;

  @IsOptional()
  @IsString()
  GRPC_HOST?: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'GRPC_PORT must be an integer between 0 and 65535' })
  @Min(0, { message: 'GRPC_PORT must be an integer between 0 and 65535' })
  @Max(65535, { message: 'GRPC_PORT must be an integer between 0 and 65535' })
  GRPC_PORT?: number;

  @IsOptional()
  @IsIn(LOG_LEVELS, { message: `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}` })
  LOG_LEVEL?: LogLevel;

  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'SHUTDOWN_TIMEOUT_MS must be an integer (milliseconds)' })
  @Min(100)
  @Max(300_000)
  SHUTDOWN_TIMEOUT_MS?: number;

  @IsOptional()
  @IsString()
  @MaxLength(64)
  INSTANCE_ID?: string;

  @IsOptional()
  @IsString()
  @MinLength(32, { message: 'SIGNING_KEY_SECRET must be at least 32 characters' })
  SIGNING_KEY_SECRET?: string;

  @IsOptional()
  @IsString()
  @MinLength(32, { message: 'IDENTIFIER_HASH_SECRET must be at least 32 characters' })
  IDENTIFIER_HASH_SECRET?: string;

  @IsOptional()
  @IsString()
  @MinLength(32, { message: 'IDENTIFIER_HASH_SECRET_PREVIOUS must be at least 32 characters' })
  IDENTIFIER_HASH_SECRET_PREVIOUS?: string;

  @IsOptional()
  @IsIn(['development', 'test', 'production'], {
    message: 'NODE_ENV must be development, test or production',
  })
  NODE_ENV?: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'JETSTREAM_REPLICAS must be an integer from 1 to 5' })
  @Min(1, { message: 'JETSTREAM_REPLICAS must be an integer from 1 to 5' })
  @Max(5, { message: 'JETSTREAM_REPLICAS must be an integer from 1 to 5' })
  JETSTREAM_REPLICAS?: number;

  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'RECORDS_DECLARE_EVERY_MS must be an integer (milliseconds)' })
  @Min(100)
  @Max(86_400_000)
  RECORDS_DECLARE_EVERY_MS?: number;

  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'OUTBOX_POLL_INTERVAL_MS must be an integer (milliseconds)' })
  @Min(10)
  @Max(60_000)
  OUTBOX_POLL_INTERVAL_MS?: number;

  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'OUTBOX_BATCH_SIZE must be an integer' })
  @Min(1)
  @Max(10_000)
  OUTBOX_BATCH_SIZE?: number;

  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'OUTBOX_GATHER_MS must be an integer (milliseconds)' })
  @Min(0)
  @Max(10_000)
  OUTBOX_GATHER_MS?: number;
}

export interface PlatformConfig {
  readonly service: ServiceDescriptor;
  readonly instanceId: string;
  readonly nats: {
    readonly servers: string[];
    readonly subjectPrefix: string;
    readonly requestTimeoutMs: number;
    /** NATS user (default: the service name); it is also the caller name of every request. */
    readonly user: string;
    readonly password?: string;
  };
  readonly database: {
    /** Owner connection: migrations only. */
    readonly adminUrl: string;
    /** Runtime-role connection the service serves with. */
    readonly runtimeUrl: string;
    readonly runtimePassword?: string;
    readonly poolSize: number;
  };
  readonly http: { readonly host: string; readonly port: number };
  readonly grpc: { readonly host: string; readonly port: number };
  readonly events: {
    /** Replica count of the JetStream streams this service creates (1 in tests). */
    readonly replicas: number;
    readonly outboxPollIntervalMs: number;
    readonly outboxBatchSize: number;
    /** The relay's pause after a pass that found fewer rows than a batch (OutboxRelayOptions). */
    readonly outboxGatherMs: number;
    /**
     * How often the consent service and the register declare their own records to the retention
     * service as holdings (issue 7).
     */
    readonly recordsDeclareEveryMs: number;
  };
  readonly signing: {
    /** Encrypts the private signing keys stored in the service's schema. */
    readonly secret: string;
    readonly usingDevelopmentSecret: boolean;
  };
  readonly identifiers: {
    /** Keyed hash (HMAC-SHA-256) secret for direct identifiers (e-mail, device ids). */
    readonly secret: string;
    /** The secret before the last rotation, still accepted when matching. */
    readonly previousSecret?: string;
  };
  readonly logLevel: LogLevel;
  readonly shutdownTimeoutMs: number;
}

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/dsg';
export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';

/** Only for development and tests; refused when NODE_ENV=production. */
export const DEVELOPMENT_IDENTIFIER_HASH_SECRET =
  'dsg-development-only-identifier-hash-secret-not-for-production';
export const DEVELOPMENT_SIGNING_KEY_SECRET =
  'dsg-development-only-signing-key-secret-not-for-production';

/**
 * A service's own integer variable: the fallback when unset, else a whole number within
 * [min, max]; a bad value is added to `problems` (reported with every other at once).
 */
export function integerVariable(
  env: NodeJS.ProcessEnv,
  problems: { variable: string; problems: string[] }[],
  variable: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = env[variable];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    problems.push({ variable, problems: [`must be an integer from ${min} to ${max}`] });
  }
  return value;
}

export class ConfigError extends Error {
  constructor(readonly variables: { variable: string; problems: string[] }[]) {
    super(
      `Invalid configuration: ${variables
        .map((v) => `${v.variable} (${v.problems.join('; ')})`)
        .join(', ')}`,
    );
    this.name = 'ConfigError';
  }
}

export interface LoadConfigOptions {
  /**
   * Whether production needs SIGNING_KEY_SECRET and IDENTIFIER_HASH_SECRET (default true).
   * `migrate` uses neither: a migration Job is not given them (least privilege).
   */
  requireSecrets?: boolean;
}

/**
 * Validates the environment and returns the typed configuration, or throws a ConfigError that
 * names every bad variable (values are never echoed: they may be secrets).
 */
export function loadConfig(
  service: ServiceDescriptor,
  env: NodeJS.ProcessEnv = process.env,
  { requireSecrets = true }: LoadConfigOptions = {},
): PlatformConfig {
  const raw = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v !== ''),
  );
  const parsed = plainToInstance(PlatformEnv, raw, { enableImplicitConversion: false });
  const errors = validateSync(parsed, { whitelist: false, forbidUnknownValues: true });
  if (errors.length > 0) throw new ConfigError(errors.map(describeError));

  const adminUrl = parsed.DATABASE_URL ?? DEFAULT_DATABASE_URL;
  // An owner URL with a password means the server checks passwords: the derived runtime
  // connection would fail at the first query instead of here.
  if (
    !parsed.DATABASE_RUNTIME_URL &&
    !parsed.DATABASE_RUNTIME_PASSWORD &&
    URL.canParse(adminUrl) &&
    new URL(adminUrl).password
  ) {
    throw new ConfigError([
      {
        variable: 'DATABASE_RUNTIME_PASSWORD',
        problems: [
          'is required when DATABASE_URL carries a password (or set DATABASE_RUNTIME_URL)',
        ],
      },
    ]);
  }
  let runtimeUrl: string;
  try {
    runtimeUrl =
      parsed.DATABASE_RUNTIME_URL ??
      deriveRuntimeUrl(adminUrl, service.runtimeRole, parsed.DATABASE_RUNTIME_PASSWORD);
  } catch {
    throw new ConfigError([{ variable: 'DATABASE_URL', problems: ['is not a parsable URL'] }]);
  }
  if (parsed.NODE_ENV === 'production' && requireSecrets) {
    const missing = (['SIGNING_KEY_SECRET', 'IDENTIFIER_HASH_SECRET'] as const).filter(
      (v) => !parsed[v],
    );
    if (missing.length > 0) {
      throw new ConfigError(
        missing.map((variable) => ({
          variable,
          problems: ['is required when NODE_ENV=production'],
        })),
      );
    }
  }
  return {
    service,
    instanceId: parsed.INSTANCE_ID ?? `${service.name}-${process.pid}`,
    nats: {
      servers: (parsed.NATS_URL ?? DEFAULT_NATS_URL).split(','),
      subjectPrefix: parsed.NATS_SUBJECT_PREFIX ?? 'dsg',
      requestTimeoutMs: parsed.NATS_REQUEST_TIMEOUT_MS ?? 5000,
      user: parsed.NATS_USER ?? service.name,
      password: parsed.NATS_PASSWORD,
    },
    database: {
      adminUrl,
      runtimeUrl,
      runtimePassword: parsed.DATABASE_RUNTIME_PASSWORD,
      poolSize: parsed.DATABASE_POOL_SIZE ?? 10,
    },
    http: {
      host: parsed.HTTP_HOST ?? '0.0.0.0',
      port: parsed.HTTP_PORT ?? service.defaultHttpPort,
    },
    grpc: {
      host: parsed.GRPC_HOST ?? '0.0.0.0',
      port: parsed.GRPC_PORT ?? service.defaultGrpcPort,
    },
    events: {
      replicas: parsed.JETSTREAM_REPLICAS ?? 1,
      outboxPollIntervalMs: parsed.OUTBOX_POLL_INTERVAL_MS ?? 200,
      outboxBatchSize: parsed.OUTBOX_BATCH_SIZE ?? 200,
      outboxGatherMs: parsed.OUTBOX_GATHER_MS ?? 50,
      recordsDeclareEveryMs: parsed.RECORDS_DECLARE_EVERY_MS ?? 60_000,
    },
    signing: {
      secret: parsed.SIGNING_KEY_SECRET ?? DEVELOPMENT_SIGNING_KEY_SECRET,
      usingDevelopmentSecret: !parsed.SIGNING_KEY_SECRET,
    },
    identifiers: {
      secret: parsed.IDENTIFIER_HASH_SECRET ?? DEVELOPMENT_IDENTIFIER_HASH_SECRET,
      previousSecret: parsed.IDENTIFIER_HASH_SECRET_PREVIOUS,
    },
    logLevel: parsed.LOG_LEVEL ?? 'info',
    shutdownTimeoutMs: parsed.SHUTDOWN_TIMEOUT_MS ?? 10_000,
  };
}

/** The runtime role connects to the same server and database as the owner, under its own name. */
export function deriveRuntimeUrl(adminUrl: string, role: string, password?: string): string {
  const url = new URL(adminUrl);
  url.username = role;
  url.password = password ? encodeURIComponent(password) : '';
  return url.toString();
}

function describeError(error: ValidationError): { variable: string; problems: string[] } {
  return { variable: error.property, problems: Object.values(error.constraints ?? {}) };
}
