import type { LoggerService } from '@nestjs/common';
import pino, { type Logger } from 'pino';
import { redact } from './redact';

export type { Logger } from 'pino';

export interface LoggerOptions {
  service: string;
  instanceId: string;
  level: string;
  /** Defaults to stdout. Tests pass a stream to inspect lines. */
  destination?: pino.DestinationStream;
}

/**
 * Structured JSON logging, one line per event. Every object logged passes through `redact`, which
 * also reduces errors to type, message, code and stack.
 */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: options.service, instance: options.instanceId },
      timestamp: pino.stdTimeFunctions.isoTime,
      messageKey: 'msg',
      formatters: {
        level: (label) => ({ level: label }),
        log: (object) => redact(object) as Record<string, unknown>,
      },
      // `redact` has already reduced errors; pino's own err serializer would see plain objects.
      serializers: { err: (value: unknown) => value },
    },
    options.destination ?? pino.destination({ sync: true }),
  );
}

/** Nest's logger interface over pino, with Nest's context as the `context` field. */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(level: pino.Level, message: unknown, params: unknown[]): void {
    // Nest passes the context last; for errors a stack string may precede it.
    const context = typeof params[params.length - 1] === 'string' ? params.pop() : undefined;
    const fields: Record<string, unknown> = context ? { context } : {};
    if (message instanceof Error) {
      this.logger[level]({ ...fields, err: message }, message.message);
      return;
    }
    if (level === 'error' && typeof params[0] === 'string') fields.stack = params[0];
    if (typeof message === 'object' && message !== null) {
      this.logger[level]({ ...fields, ...(message as object) });
      return;
    }
    this.logger[level](fields, String(message));
  }
}
