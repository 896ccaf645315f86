import {
  CLIENT_SYSTEM_SUBJECTS,
  type ClientSystemContactReply,
  type ClientSystemMatchReply,
  type ClientSystemMatchRequest,
} from '@dsg/contracts';
import {
  type Logger,
  NatsConnectionHolder,
  PLATFORM_CONFIG,
  PLATFORM_LOGGER,
  type PlatformConfig,
} from '@dsg/platform';
import { Inject, Injectable } from '@nestjs/common';
import { CONSENT_CONFIG, type ConsentConfig } from '../config/consent.config';

/**
 * The spa's client system, through its documented provider interface
 * (libs/contracts/src/consent/client-system.ts): data-point matches for verification (CCP-3) and
 * the address notices to a client go to. Nothing it is sent or answers is logged or kept beyond
 * the call, except the kinds of point that matched.
 */
@Injectable()
export class ClientDirectory {
  constructor(
    private readonly nats: NatsConnectionHolder,
    @Inject(PLATFORM_CONFIG) private readonly platform: PlatformConfig,
    @Inject(CONSENT_CONFIG) private readonly config: ConsentConfig,
    @Inject(PLATFORM_LOGGER) private readonly logger: Logger,
  ) {}

  /** The kinds of point that match the client's record there; [] when it cannot answer. */
  async match(request: ClientSystemMatchRequest): Promise<string[]> {
    const reply = await this.ask<ClientSystemMatchReply>(CLIENT_SYSTEM_SUBJECTS.match, request);
    return Array.isArray(reply?.matched)
      ? reply.matched.filter((k): k is string => typeof k === 'string')
      : [];
  }

  /** The client's e-mail address for notices, if the client system has one. */
  async contact(clientId: string): Promise<string | undefined> {
    const reply = await this.ask<ClientSystemContactReply>(CLIENT_SYSTEM_SUBJECTS.contact, {
      clientId,
    });
    return typeof reply?.email === 'string' && reply.email.includes('@') ? reply.email : undefined;
  }

  private async ask<T>(operation: string, body: unknown): Promise<T | undefined> {
    try {
      const msg = await this.nats.connection.request(
        `${this.platform.nats.subjectPrefix}.${operation}`,
        new TextEncoder().encode(JSON.stringify(body)),
        { timeout: this.config.clientSystemTimeoutMs },
      );
      return JSON.parse(new TextDecoder().decode(msg.data)) as T;
    } catch (err) {
      this.logger.warn(
        { context: 'ClientDirectory', operation, code: (err as { code?: string }).code },
        'the client system did not answer',
      );
      return undefined;
    }
  }
}
