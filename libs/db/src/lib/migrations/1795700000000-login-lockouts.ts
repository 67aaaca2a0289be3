import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 11: logins run in the gateway, so their lockout state gets a table of its own, written only
 * by the gateway; `members` (auth's) keeps `lockout_reset_at`, the admin unlock / password change
 * mark that voids an older lockout record. Existing lockout state is moved over.
 */
export class LoginLockouts1795700000000 implements MigrationInterface {
  name = 'LoginLockouts1795700000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "login_lockouts" ("member_id" integer NOT NULL, "failed_logins" integer NOT NULL DEFAULT '0', "first_failed_at" TIMESTAMP WITH TIME ZONE, "locked_until" TIMESTAMP WITH TIME ZONE, "lock_count" integer NOT NULL DEFAULT '0', "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "pk_login_lockouts" PRIMARY KEY ("member_id"))`,
    );
    await queryRunner.query(`CREATE INDEX "ix_login_lockouts_locked_until" ON "login_lockouts" ("locked_until") WHERE locked_until IS NOT NULL`);
    await queryRunner.query(
      `INSERT INTO "login_lockouts" ("member_id", "failed_logins", "first_failed_at", "locked_until", "lock_count", "updated_at")
       SELECT "id", "failed_logins", "first_failed_at", "locked_until", "lock_count", now() FROM "members"
        WHERE "failed_logins" > 0 OR "locked_until" IS NOT NULL OR "lock_count" > 0`,
    );
    await queryRunner.query(`ALTER TABLE "members" ADD "lockout_reset_at" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(`DROP INDEX "public"."ix_members_locked_until"`);
    await queryRunner.query(`ALTER TABLE "members" DROP COLUMN "failed_logins", DROP COLUMN "first_failed_at", DROP COLUMN "locked_until", DROP COLUMN "lock_count"`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "members" ADD "failed_logins" integer NOT NULL DEFAULT '0', ADD "first_failed_at" TIMESTAMP WITH TIME ZONE, ADD "locked_until" TIMESTAMP WITH TIME ZONE, ADD "lock_count" integer NOT NULL DEFAULT '0'`,
    );
    await queryRunner.query(
      `UPDATE "members" m SET "failed_logins" = l."failed_logins", "first_failed_at" = l."first_failed_at", "locked_until" = l."locked_until", "lock_count" = l."lock_count"
         FROM "login_lockouts" l WHERE l."member_id" = m."id" AND (m."lockout_reset_at" IS NULL OR l."updated_at" > m."lockout_reset_at")`,
    );
    await queryRunner.query(`CREATE INDEX "ix_members_locked_until" ON "members" ("locked_until") WHERE locked_until IS NOT NULL`);
    await queryRunner.query(`ALTER TABLE "members" DROP COLUMN "lockout_reset_at"`);
    await queryRunner.query(`DROP INDEX "public"."ix_login_lockouts_locked_until"`);
    await queryRunner.query(`DROP TABLE "login_lockouts"`);
  }
}
