import { createRuntimeRole } from '@dsg/platform';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The disclosure_register schema exists (created by the migrate command); its runtime role gets USAGE. */
export class InitDisclosureRegisterSchema1764100000000 implements MigrationInterface {
  name = 'InitDisclosureRegisterSchema1764100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await createRuntimeRole(queryRunner, 'disclosure_register', 'disclosure_register_runtime');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'REVOKE ALL ON SCHEMA "disclosure_register" FROM "disclosure_register_runtime"',
    );
  }
}
