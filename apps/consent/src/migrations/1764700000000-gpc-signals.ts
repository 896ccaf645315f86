import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Browsers that sent a Global Privacy Control signal, by keyed hash of their device id (CCP-5). */
export class ConsentGpcSignals1764700000000 implements MigrationInterface {
  name = 'ConsentGpcSignals1764700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE consent.gpc_signals (
        device_hash   text PRIMARY KEY,
        first_seen_at timestamptz NOT NULL DEFAULT now(),
        last_seen_at  timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(
      'GRANT SELECT, INSERT, UPDATE (last_seen_at) ON consent.gpc_signals TO consent_runtime',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE consent.gpc_signals');
  }
}
