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
 * Structured JSON logging, one line per event. Every object logged passes through `redact`, and
 * errors keep only name, message, code and stack: driver errors carry row values in `detail`.
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
      serializers: { err: serializeError },
    },
    options.destination ?? pino.destination({ sync: true }),
  );
}

export function serializeError(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error))
    return { message: typeof err === 'string' ? err : 'non-error thrown' };
  const code = (err as { code?: unknown }).code;
  return {
    type: err.name,
    message: err.message,
    ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
    stack: err.stack,
  };
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
