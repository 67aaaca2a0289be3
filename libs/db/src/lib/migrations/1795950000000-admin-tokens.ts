import { MigrationInterface, QueryRunner } from 'typeorm';

/** Issue 12: named admin tokens (digests only), written by the admin service alone. */
export class AdminTokens1795950000000 implements MigrationInterface {
  name = 'AdminTokens1795950000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "admin_tokens" ("id" SERIAL NOT NULL, "name" text NOT NULL, "digest" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "created_by" text NOT NULL, "last_used_at" TIMESTAMP WITH TIME ZONE, "revoked_at" TIMESTAMP WITH TIME ZONE, "revoked_by" text, CONSTRAINT "pk_admin_tokens" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "ux_admin_tokens_digest" ON "admin_tokens" ("digest") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "ux_admin_tokens_live_name" ON "admin_tokens" ("name") WHERE revoked_at IS NULL`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."ux_admin_tokens_live_name"`);
    await queryRunner.query(`DROP INDEX "public"."ux_admin_tokens_digest"`);
    await queryRunner.query(`DROP TABLE "admin_tokens"`);
  }
}
