import { createRuntimeRole } from '@dsg/platform';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The retention schema exists (created by the migrate command); its runtime role gets USAGE. */
export class InitRetentionSchema1764100000000 implements MigrationInterface {
  name = 'InitRetentionSchema1764100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await createRuntimeRole(queryRunner, 'retention', 'retention_runtime');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('REVOKE ALL ON SCHEMA "retention" FROM "retention_runtime"');
  }
}
