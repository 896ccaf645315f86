import { createSigningKeys } from '@dsg/platform';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Signing keys of consent (encrypted private halves; see KeyRing). */
export class ConsentSigningKeys1764300000000 implements MigrationInterface {
  name = 'ConsentSigningKeys1764300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await createSigningKeys(queryRunner, 'consent', 'consent_runtime');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE "consent".signing_keys');
  }
}
