import { DsgClient, type PublicSigningKey, SERVICE_NAMES } from '@dsg/contracts';
import { SystemService } from '@dsg/platform';
import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse } from '@nestjs/swagger';

/**
 * GET /.well-known/signing-keys: the public keys of every service, current and retired, as one
 * JWK set. This is what an auditor verifies signatures against, offline if need be.
 */
@Controller('.well-known')
export class SigningKeysController {
  constructor(
    private readonly client: DsgClient,
    private readonly system: SystemService,
  ) {}

  @Get('signing-keys')
  @ApiOkResponse({ schema: { $ref: '#/components/schemas/SigningKeysReply' } })
  @Header('Cache-Control', 'public, max-age=60')
  async all(): Promise<{ keys: PublicSigningKey[] }> {
    const sets = await Promise.all(
      SERVICE_NAMES.map((name) =>
        name === 'gateway'
          ? this.system.signingKeys()
          : this.client.system(name).signingKeys({}, { timeoutMs: 3000 }),
      ),
    );
    return { keys: sets.flatMap((set) => set.keys) };
  }
}
