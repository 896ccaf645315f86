import { createRuntimeRole } from '@dsg/platform';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The consent schema exists (created by the migrate command); its runtime role gets USAGE. */
export class InitConsentSchema1764100000000 implements MigrationInterface {
  name = 'InitConsentSchema1764100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await createRuntimeRole(queryRunner, 'consent', 'consent_runtime');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('REVOKE ALL ON SCHEMA "consent" FROM "consent_runtime"');
  }
}
