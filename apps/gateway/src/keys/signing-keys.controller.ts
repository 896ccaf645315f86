import {
  DsgClient,
  type PublicSigningKey,
  type RotateSigningKeyReply,
  SERVICE_NAMES,
  type ServiceName,
} from '@dsg/contracts';
import { KeyRing, signAssertion, SystemService } from '@dsg/platform';
import {
  Controller,
  Get,
  Header,
  HttpCode,
  Inject,
  Param,
  Post,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import type { Response } from 'express';
import { ApiBearerAuth, ApiOkResponse, ApiParam } from '@nestjs/swagger';
import { IsIn } from 'class-validator';
import { type AuthenticatedRequest, PersonAuthGuard } from '../auth/person-auth.guard';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config';

interface SigningKeySet {
  keys: PublicSigningKey[];
  /** Services whose keys could not be fetched: the set is incomplete (HTTP 503). */
  unavailable?: ServiceName[];
}

class KeyOwner {
  @IsIn(SERVICE_NAMES)
  service!: ServiceName;
}

@Controller()
export class SigningKeysController {
  constructor(
    private readonly client: DsgClient,
    private readonly system: SystemService,
    private readonly keyRing: KeyRing,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
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

  /**
   * POST /v1/services/{service}/signing-keys/rotate: for a privacy officer. The gateway only
   * authenticates the person; the service itself checks the role in the assertion.
   */
  @Post('v1/services/:service/signing-keys/rotate')
  @HttpCode(200)
  @UseGuards(PersonAuthGuard)
  @ApiBearerAuth()
  @ApiParam({ name: 'service', enum: SERVICE_NAMES })
  @ApiOkResponse({ schema: { $ref: '#/components/schemas/RotateSigningKeyReply' } })
  rotate(
    @Param() owner: KeyOwner,
    @Req() request: AuthenticatedRequest,
  ): Promise<RotateSigningKeyReply> {
    const assertion = signAssertion(
      this.keyRing,
      request.principal,
      owner.service,
      this.config.assertionTtlSeconds,
    );
    return this.client.system(owner.service).rotateSigningKey({}, { assertion, retries: 0 });
  }
}
