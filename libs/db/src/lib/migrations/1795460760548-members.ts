import { MigrationInterface, QueryRunner } from "typeorm";

export class Members1795460760548 implements MigrationInterface {
    name = 'Members1795460760548'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "members" ("id" integer NOT NULL, "name" text NOT NULL, "name_key" text NOT NULL, "email" text NOT NULL, "email_key" text NOT NULL, "pass_salt" text NOT NULL, "pass_digest" text NOT NULL, "validating" boolean NOT NULL DEFAULT false, "revalidate_url" text, "banned" boolean NOT NULL DEFAULT false, "failed_logins" integer NOT NULL DEFAULT '0', "first_failed_at" TIMESTAMP WITH TIME ZONE, "locked_until" TIMESTAMP WITH TIME ZONE, "lock_count" integer NOT NULL DEFAULT '0', "session_epoch" integer NOT NULL DEFAULT '0', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_00a3be73225fa6bf721c1221b6b" UNIQUE ("name_key"), CONSTRAINT "UQ_2a31aad55bd68dfbf01d83d5d44" UNIQUE ("email_key"), CONSTRAINT "ck_members_id_positive" CHECK ("id" > 0), CONSTRAINT "pk_members" PRIMARY KEY ("id"))`);
        // Member ids: positive int32 allocated here, never reused (spec D6). Not a column default, so
        // that imports can keep ids from an existing network; imports move the sequence past them.
        await queryRunner.query(`CREATE SEQUENCE "members_id_seq" AS integer MINVALUE 1 MAXVALUE 2147483647 NO CYCLE OWNED BY "members"."id"`);
        await queryRunner.query(`CREATE INDEX "ix_members_locked_until" ON "members" ("locked_until") WHERE locked_until IS NOT NULL`);
        await queryRunner.query(`CREATE TABLE "settings" ("key" text NOT NULL, "value" jsonb NOT NULL, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "pk_settings" PRIMARY KEY ("key"))`);
        await queryRunner.query(`ALTER TABLE "slaves" ADD "master_key_sealed" text`);
        await queryRunner.query(`ALTER TABLE "slaves" ALTER COLUMN "slave_key_sealed" DROP NOT NULL`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "slaves" ALTER COLUMN "slave_key_sealed" SET NOT NULL`);
        await queryRunner.query(`ALTER TABLE "slaves" DROP COLUMN "master_key_sealed"`);
        await queryRunner.query(`DROP TABLE "settings"`);
        await queryRunner.query(`DROP INDEX "public"."ix_members_locked_until"`);
        await queryRunner.query(`DROP TABLE "members"`); // drops members_id_seq (OWNED BY)
    }

}
