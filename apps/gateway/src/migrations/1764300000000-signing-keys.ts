import { createSigningKeys } from '@dsg/platform';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Signing keys of gateway (encrypted private halves; see KeyRing). */
export class GatewaySigningKeys1764300000000 implements MigrationInterface {
  name = 'GatewaySigningKeys1764300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await createSigningKeys(queryRunner, 'gateway', 'gateway_runtime');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE "gateway".signing_keys');
  }
}
