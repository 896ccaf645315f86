import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Where a recipient takes notices of opt-outs and deletions (CCP-2, CCP-4): `{email?,
 * webhookUrl?}`, part of each version like the rest of the recipient (null: none given; such a
 * recipient's notices fail visibly with NO_DESTINATION in the consent service's notice list).
 */
export class RegisterRecipientNoticeContact1766900000000 implements MigrationInterface {
  name = 'RegisterRecipientNoticeContact1766900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE disclosure_register.recipient_versions ADD COLUMN notice_contact jsonb',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE disclosure_register.recipient_versions DROP COLUMN notice_contact',
    );
  }
}
