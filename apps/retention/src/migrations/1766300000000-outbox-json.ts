import { keepOutboxEnvelopesAsJson, keepOutboxEnvelopesAsJsonb } from '@dsg/platform';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Retention's outbox keeps each envelope as the JSON text it was written as: a sweep writes purge
 * commands of up to PURGE_COMMAND_ITEMS items each, and acknowledgements list their items; jsonb
 * parsed and printed them again for the relay. See keepOutboxEnvelopesAsJson.
 */
export class RetentionOutboxJson1766300000000 implements MigrationInterface {
  name = 'RetentionOutboxJson1766300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await keepOutboxEnvelopesAsJson(queryRunner, 'retention');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await keepOutboxEnvelopesAsJsonb(queryRunner, 'retention');
  }
}
