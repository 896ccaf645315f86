import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What a sweep reads and writes per item, made smaller (issue 7's throughput):
 * - holdings.through: the latest of a holding's clock dates, written with its clocks when it is
 *   declared, so a sweep reads it rather than parsing the clocks of every due holding. A purge
 *   item carries it: what is purged is what was held up to then.
 * - purge_items keep sweep_id and erasure_id without foreign keys: the checks ran a query per
 *   inserted item (a fifth of the insert's time). The ids are written only by this service, in the
 *   transaction that reads or creates their sweep or erasure, and the runtime role may not delete
 *   either (it has SELECT, INSERT and UPDATE only), so no item can name one that does not exist.
 */
export class RetentionSweepInOneStatement1766700000000 implements MigrationInterface {
  name = 'RetentionSweepInOneStatement1766700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE retention.holdings ADD COLUMN through timestamptz');
    await queryRunner.query(`
      UPDATE retention.holdings h
         SET through = (SELECT max(c.at::timestamptz) FROM jsonb_each_text(h.clocks) AS c(clock, at))`);
    await queryRunner.query(`
      ALTER TABLE retention.purge_items
        DROP CONSTRAINT purge_items_sweep_id_fkey,
        DROP CONSTRAINT purge_items_erasure_id_fkey`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE retention.purge_items
        ADD CONSTRAINT purge_items_sweep_id_fkey FOREIGN KEY (sweep_id)
          REFERENCES retention.sweeps (id),
        ADD CONSTRAINT purge_items_erasure_id_fkey FOREIGN KEY (erasure_id)
          REFERENCES retention.erasures (id)`);
    await queryRunner.query('ALTER TABLE retention.holdings DROP COLUMN through');
  }
}
