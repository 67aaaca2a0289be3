import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue #4, throughput: the batch job that carries a ready delivery; a narrow index for merges
 * waiting on a member's line; and autovacuum that keeps up with a table every delivery updates
 * two or three times (dead versions otherwise pile up in its indexes between vacuums).
 */
export class DeliveryJobs1795500000000 implements MigrationInterface {
  name = 'DeliveryJobs1795500000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "deliveries" ADD "job_id" text`);
    await queryRunner.query(`CREATE INDEX "ix_deliveries_blocking" ON "deliveries" ("blocking_member_id", "slave_id") WHERE blocking_member_id IS NOT NULL`);
    await queryRunner.query(`ALTER TABLE "deliveries" SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02)`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "deliveries" RESET (autovacuum_vacuum_scale_factor, autovacuum_analyze_scale_factor)`);
    await queryRunner.query(`DROP INDEX "public"."ix_deliveries_blocking"`);
    await queryRunner.query(`ALTER TABLE "deliveries" DROP COLUMN "job_id"`);
  }
}
