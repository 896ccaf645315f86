import { createRuntimeRole } from '@dsg/platform';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The gateway schema exists (created by the migrate command); its runtime role gets USAGE. */
export class InitGatewaySchema1764100000000 implements MigrationInterface {
  name = 'InitGatewaySchema1764100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await createRuntimeRole(queryRunner, 'gateway', 'gateway_runtime');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('REVOKE ALL ON SCHEMA "gateway" FROM "gateway_runtime"');
  }
}
