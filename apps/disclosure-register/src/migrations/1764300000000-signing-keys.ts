import { createSigningKeys } from '@dsg/platform';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Signing keys of disclosure_register (encrypted private halves; see KeyRing). */
export class DisclosureRegisterSigningKeys1764300000000 implements MigrationInterface {
  name = 'DisclosureRegisterSigningKeys1764300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await createSigningKeys(queryRunner, 'disclosure_register', 'disclosure_register_runtime');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE "disclosure_register".signing_keys');
  }
}
