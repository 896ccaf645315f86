import { createSigningKeys } from '@dsg/platform';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Signing keys of retention (encrypted private halves; see KeyRing). */
export class RetentionSigningKeys1764300000000 implements MigrationInterface {
  name = 'RetentionSigningKeys1764300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await createSigningKeys(queryRunner, 'retention', 'retention_runtime');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE "retention".signing_keys');
  }
}
