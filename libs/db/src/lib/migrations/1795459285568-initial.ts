import { MigrationInterface, QueryRunner } from "typeorm";

export class Initial1795459285568 implements MigrationInterface {
    name = 'Initial1795459285568'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "audit_events" ("id" BIGSERIAL NOT NULL, "event_id" uuid NOT NULL, "type" text NOT NULL, "occurred_at" TIMESTAMP WITH TIME ZONE NOT NULL, "source" text NOT NULL, "slave_id" integer, "member_id" integer, "details" jsonb NOT NULL, "recorded_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_c51af20537d07624e00f371d43f" UNIQUE ("event_id"), CONSTRAINT "pk_audit_events" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "ix_audit_events_type" ON "audit_events" ("type") `);
        await queryRunner.query(`CREATE INDEX "ix_audit_events_occurred_at" ON "audit_events" ("occurred_at") `);
        await queryRunner.query(`CREATE TABLE "outbox_events" ("id" BIGSERIAL NOT NULL, "event_id" uuid NOT NULL, "type" text NOT NULL, "payload" jsonb NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "published_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "UQ_a82c439f9dab57e098be1d83291" UNIQUE ("event_id"), CONSTRAINT "pk_outbox_events" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "ix_outbox_events_unpublished" ON "outbox_events" ("id") WHERE published_at IS NULL`);
        await queryRunner.query(`CREATE TABLE "slaves" ("id" SERIAL NOT NULL, "url" text NOT NULL, "slave_key_sealed" text NOT NULL, "enabled" boolean NOT NULL DEFAULT true, "disabled_reason" text, "registered_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "last_access_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "UQ_e6dca884d692cdfc3375051147e" UNIQUE ("url"), CONSTRAINT "pk_slaves" PRIMARY KEY ("id"))`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP TABLE "slaves"`);
        await queryRunner.query(`DROP INDEX "public"."ix_outbox_events_unpublished"`);
        await queryRunner.query(`DROP TABLE "outbox_events"`);
        await queryRunner.query(`DROP INDEX "public"."ix_audit_events_occurred_at"`);
        await queryRunner.query(`DROP INDEX "public"."ix_audit_events_type"`);
        await queryRunner.query(`DROP TABLE "audit_events"`);
    }

}
