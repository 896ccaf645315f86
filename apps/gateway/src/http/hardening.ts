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
  express.useBodyParser('json', { limit: config.maxBodyBytes });
  const byAddress = new RateLimiter(config.rateLimitAddressPerMinute);
  const problems = new HttpProblemFilter(logger);
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
      byAddress.take(req.socket.remoteAddress ?? 'unknown');
    } catch (err) {
      if (err instanceof RateLimitedError) res.setHeader('Retry-After', err.retryAfterSeconds);
      return problems.catch(err, {
        switchToHttp: () => ({ getResponse: () => res, getRequest: () => req }),
      } as never);
    }
    next();
  });
}
