import { ConfigError } from '@dsg/platform';
import { plainToInstance, Type } from 'class-transformer';
import {
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  Min,
  validateSync,
} from 'class-validator';

/** Variables only the gateway reads: the people's identity provider, assertions, hardening. */
class GatewayEnv {
  @IsOptional()
  @IsUrl(
    { require_tld: false, protocols: ['http', 'https'] },
    { message: 'OIDC_ISSUER must be an http(s) URL' },
  )
  OIDC_ISSUER?: string;

  @IsOptional()
  @IsString()
  OIDC_AUDIENCE?: string;

  @IsOptional()
  @IsUrl(
    { require_tld: false, protocols: ['http', 'https'] },
    { message: 'OIDC_JWKS_URL must be an http(s) URL' },
  )
  OIDC_JWKS_URL?: string;

  @IsOptional()
  @IsString()
  OIDC_ROLES_CLAIM?: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'ASSERTION_TTL_SECONDS must be an integer from 10 to 300' })
  @Min(10, { message: 'ASSERTION_TTL_SECONDS must be an integer from 10 to 300' })
  @Max(300, { message: 'ASSERTION_TTL_SECONDS must be an integer from 10 to 300' })
  ASSERTION_TTL_SECONDS?: number;

  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'RATE_LIMIT_PER_MINUTE must be an integer from 1 to 100000' })
  @Min(1, { message: 'RATE_LIMIT_PER_MINUTE must be an integer from 1 to 100000' })
  @Max(100_000, { message: 'RATE_LIMIT_PER_MINUTE must be an integer from 1 to 100000' })
  RATE_LIMIT_PER_MINUTE?: number;

  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'RATE_LIMIT_ADDRESS_PER_MINUTE must be an integer from 1 to 1000000' })
  @Min(1, { message: 'RATE_LIMIT_ADDRESS_PER_MINUTE must be an integer from 1 to 1000000' })
  @Max(1_000_000, {
    message: 'RATE_LIMIT_ADDRESS_PER_MINUTE must be an integer from 1 to 1000000',
  })
  RATE_LIMIT_ADDRESS_PER_MINUTE?: number;

  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'MAX_BODY_BYTES must be an integer from 1024 to 10485760' })
  @Min(1024, { message: 'MAX_BODY_BYTES must be an integer from 1024 to 10485760' })
  @Max(10_485_760, { message: 'MAX_BODY_BYTES must be an integer from 1024 to 10485760' })
  MAX_BODY_BYTES?: number;

  @IsOptional()
  @Matches(/^(\d{1,2}|loopback|linklocal|uniquelocal|[0-9a-fA-F.:/]+(,\s*[0-9a-fA-F.:/]+)*)$/, {
    message:
      'TRUST_PROXY must be a number of proxy hops, loopback, linklocal, uniquelocal or a list of addresses/CIDRs',
  })
  TRUST_PROXY?: string;
}

export interface GatewayConfig {
  /** Absent: no identity provider, so every person-facing action answers 401. */
  oidc?: { issuer: string; audience: string; jwksUrl: string; rolesClaim: string };
  assertionTtlSeconds: number;
  /** Requests a minute per person (token bucket per replica). */
  rateLimitPerMinute: number;
  /** Requests a minute per client address, before authentication. */
  rateLimitAddressPerMinute: number;
  /** The largest JSON body taken (413 beyond). */
  maxBodyBytes: number;
  /** Express's `trust proxy`: which proxies may name the client's address (absent: none). */
  trustProxy?: number | string;
}

export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');

export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const raw = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v !== ''),
  );
  const parsed = plainToInstance(GatewayEnv, raw);
  const errors = validateSync(parsed);
  const problems = errors.map((e) => ({
    variable: e.property,
    problems: Object.values(e.constraints ?? {}),
  }));
  if (parsed.OIDC_ISSUER && (!parsed.OIDC_AUDIENCE || !parsed.OIDC_JWKS_URL)) {
    for (const variable of ['OIDC_AUDIENCE', 'OIDC_JWKS_URL'] as const) {
      if (!parsed[variable])
        problems.push({ variable, problems: ['is required when OIDC_ISSUER is set'] });
    }
  }
  // In production the provider's keys must not be swappable in transit.
  if (env.NODE_ENV === 'production') {
    for (const variable of ['OIDC_ISSUER', 'OIDC_JWKS_URL'] as const) {
      if (parsed[variable]?.startsWith('http://')) {
        problems.push({ variable, problems: ['must be an https:// URL when NODE_ENV=production'] });
      }
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    oidc: parsed.OIDC_ISSUER
      ? {
          issuer: parsed.OIDC_ISSUER,
          audience: parsed.OIDC_AUDIENCE!,
          jwksUrl: parsed.OIDC_JWKS_URL!,
          rolesClaim: parsed.OIDC_ROLES_CLAIM ?? 'roles',
        }
      : undefined,
    assertionTtlSeconds: parsed.ASSERTION_TTL_SECONDS ?? 60,
    rateLimitPerMinute: parsed.RATE_LIMIT_PER_MINUTE ?? 600,
    rateLimitAddressPerMinute: parsed.RATE_LIMIT_ADDRESS_PER_MINUTE ?? 3000,
    maxBodyBytes: parsed.MAX_BODY_BYTES ?? 65_536,
    ...(parsed.TRUST_PROXY
      ? {
          trustProxy: /^\d+$/.test(parsed.TRUST_PROXY)
            ? Number(parsed.TRUST_PROXY)
            : parsed.TRUST_PROXY,
        }
      : {}),
  };
}
