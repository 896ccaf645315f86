import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import { HttpProblemFilter, type Logger } from '@dsg/platform';
import { type GatewayConfig } from '../config/gateway.config';
import { RateLimitedError, RateLimiter } from './rate-limiter';

/** The API answers JSON and files only: nothing may run, frame or embed it. */
const API_POLICY =
  "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
/** Swagger UI at /docs runs its own script and styles from this origin. */
const DOCS_POLICY =
  "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/**
 * The gateway's hardening, before any route: security headers on every answer, no caching of
 * anything under /v1 (it carries personal data), a request rate per client address (the rate per
 * person is taken after authentication, in the dispatcher), and a size limit on JSON bodies
 * (413 REQUEST.TOO_LARGE). Every refusal here is problem+json, like the routes' own.
 */
export function hardenHttp(app: INestApplication, config: GatewayConfig, logger: Logger): void {
  const express = app as NestExpressApplication;
  express.disable('x-powered-by');
  // Behind a load balancer the client's address is in X-Forwarded-For, and only the proxies
  // named here may say so (TRUST_PROXY; none by default: the socket's address is the client's).
  if (config.trustProxy !== undefined) express.set('trust proxy', config.trustProxy);
  const byAddress = new RateLimiter(config.rateLimitAddressPerMinute);
  const problems = new HttpProblemFilter(logger);
  // Headers and the address limit come first: parsers' own refusals carry the headers too, and a
  // flood is refused before its bodies are read.
  express.use((req: Request, res: Response, next: NextFunction) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    res.setHeader('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
    res.setHeader(
      'Content-Security-Policy',
      req.path === '/docs' || req.path.startsWith('/docs/') ? DOCS_POLICY : API_POLICY,
    );
    if (req.path.startsWith('/v1')) res.setHeader('Cache-Control', 'no-store');
    // Probes and scrapes are not limited: an operator's monitoring must not lock itself out.
    if (req.path.startsWith('/health') || req.path === '/metrics') return next();
    try {
      byAddress.take(addressKey(req.ip ?? req.socket.remoteAddress ?? 'unknown'));
    } catch (err) {
      if (err instanceof RateLimitedError) res.setHeader('Retry-After', err.retryAfterSeconds);
      return problems.catch(err, {
        switchToHttp: () => ({ getResponse: () => res, getRequest: () => req }),
      } as never);
    }
    next();
  });
  // Registered here, so Nest does not add its defaults: JSON within the limit, and forms only so
  // that they are refused (415) by the dispatcher rather than read in full.
  express.useBodyParser('json', { limit: config.maxBodyBytes });
  express.useBodyParser('urlencoded', { limit: config.maxBodyBytes, extended: false });
}

/** An IPv6 client is counted by its /64: one host owns the whole prefix. */
export function addressKey(address: string): string {
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (v4) return v4[1];
  if (!address.includes(':')) return address;
  const [head, tail] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups =
    tail === undefined
      ? left
      : [
          ...left,
          ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'),
          ...right,
        ];
  return `${groups
    .slice(0, 4)
    .map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
