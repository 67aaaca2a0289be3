import { MigrationInterface, QueryRunner } from 'typeorm';

/** Deliveries carried by batch jobs: the job that holds a ready delivery (issue #4, throughput). */
export class DeliveryJobs1795500000000 implements MigrationInterface {
  name = 'DeliveryJobs1795500000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "deliveries" ADD "job_id" text`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "deliveries" DROP COLUMN "job_id"`);
  }
}
