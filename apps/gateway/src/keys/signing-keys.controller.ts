import { DsgClient, type PublicSigningKey, SERVICE_NAMES, type ServiceName } from '@dsg/contracts';
import { SystemService } from '@dsg/platform';
import { Controller, Get, Header, Res } from '@nestjs/common';
import type { Response } from 'express';
import { ApiOkResponse } from '@nestjs/swagger';

interface SigningKeySet {
  keys: PublicSigningKey[];
  /** Services whose keys could not be fetched: the set is incomplete (HTTP 503). */
  unavailable?: ServiceName[];
}

/**
 * GET /.well-known/signing-keys, public. Rotating a key is a privacy officer's action in the
 * people's API (route keys.rotate).
 */
@Controller()
export class SigningKeysController {
  constructor(
    private readonly client: DsgClient,
    private readonly system: SystemService,
  ) {}

  /**
   * GET /.well-known/signing-keys: the public keys of every service, current and retired, as one
   * JWK set. This is what an auditor verifies signatures against, offline if need be.
   */
  @Get('.well-known/signing-keys')
  @Header('Cache-Control', 'public, max-age=60')
  @ApiOkResponse({ schema: { $ref: '#/components/schemas/SigningKeysReply' } })
  async all(@Res({ passthrough: true }) res: Response): Promise<SigningKeySet> {
    const results = await Promise.allSettled(
      SERVICE_NAMES.map((name) =>
        name === 'gateway'
          ? this.system.signingKeys()
          : this.client.system(name).signingKeys({}, { timeoutMs: 3000 }),
      ),
    );
    const keys: PublicSigningKey[] = [];
    const unavailable: ServiceName[] = [];
    results.forEach((result, i) => {
      const service = SERVICE_NAMES[i];
      if (result.status === 'rejected') {
        unavailable.push(service);
        return;
      }
      // A service vouches only for its own keys: a key it labels as another's is not published.
      keys.push(...result.value.keys.filter((key) => key.service === service));
    });
    // Incomplete is said out loud (503), never passed off as the whole set.
    if (unavailable.length > 0) res.status(503);
    return { keys, ...(unavailable.length > 0 ? { unavailable } : {}) };
  }
}
