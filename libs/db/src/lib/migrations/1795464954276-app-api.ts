import { MigrationInterface, QueryRunner } from "typeorm";

export class AppApi1795464954276 implements MigrationInterface {
    name = 'AppApi1795464954276'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "app_keys" ("api_key" text NOT NULL, "secret_sealed" text NOT NULL, "title" text NOT NULL, "description" text NOT NULL DEFAULT '', "type" text NOT NULL, "callback_url" text, "always_signed" boolean NOT NULL DEFAULT false, "accept_order_a" boolean NOT NULL DEFAULT true, "signature_mode" text NOT NULL DEFAULT 'md5', "enabled" boolean NOT NULL DEFAULT true, "allowed_networks" text array NOT NULL DEFAULT '{}', "daily_quota" integer, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "pk_app_keys" PRIMARY KEY ("api_key"))`);
        await queryRunner.query(`CREATE TABLE "app_frobs" ("digest" text NOT NULL, "api_key" text NOT NULL, "member_id" integer, "permissions" jsonb, "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "used_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "pk_app_frobs" PRIMARY KEY ("digest"))`);
        await queryRunner.query(`CREATE INDEX "ix_app_frobs_expires" ON "app_frobs" ("expires_at") `);
        await queryRunner.query(`CREATE TABLE "app_grants" ("id" SERIAL NOT NULL, "member_id" integer NOT NULL, "api_key" text NOT NULL, "permissions" jsonb NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "uq_app_grants_member_key" UNIQUE ("member_id", "api_key"), CONSTRAINT "pk_app_grants" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "ix_app_grants_key" ON "app_grants" ("api_key") `);
        await queryRunner.query(`CREATE TABLE "app_tokens" ("digest" text NOT NULL, "grant_id" integer NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "last_used_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "pk_app_tokens" PRIMARY KEY ("digest"))`);
        await queryRunner.query(`CREATE INDEX "ix_app_tokens_grant" ON "app_tokens" ("grant_id") `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP INDEX "public"."ix_app_tokens_grant"`);
        await queryRunner.query(`DROP TABLE "app_tokens"`);
        await queryRunner.query(`DROP INDEX "public"."ix_app_grants_key"`);
        await queryRunner.query(`DROP TABLE "app_grants"`);
        await queryRunner.query(`DROP INDEX "public"."ix_app_frobs_expires"`);
        await queryRunner.query(`DROP TABLE "app_frobs"`);
        await queryRunner.query(`DROP TABLE "app_keys"`);
    }

}
