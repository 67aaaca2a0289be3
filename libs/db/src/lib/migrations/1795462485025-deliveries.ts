import { MigrationInterface, QueryRunner } from "typeorm";

export class Deliveries1795462485025 implements MigrationInterface {
    name = 'Deliveries1795462485025'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "delivery_attempts" ("id" BIGSERIAL NOT NULL, "delivery_id" bigint NOT NULL, "attempted_at" TIMESTAMP WITH TIME ZONE NOT NULL, "duration_ms" integer NOT NULL, "http_status" integer, "ips_status" text, "error" text, "outcome" text NOT NULL, CONSTRAINT "pk_delivery_attempts" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "ix_delivery_attempts_delivery" ON "delivery_attempts" ("delivery_id", "id") `);
        await queryRunner.query(`CREATE TABLE "deliveries" ("id" BIGSERIAL NOT NULL, "event_id" uuid NOT NULL, "seq" bigint NOT NULL, "slave_id" integer NOT NULL, "member_id" integer NOT NULL, "blocking_member_id" integer, "action" text NOT NULL, "fields" text array NOT NULL, "status" text NOT NULL, "attempts" integer NOT NULL DEFAULT '0', "series" integer NOT NULL DEFAULT '0', "next_attempt_at" TIMESTAMP WITH TIME ZONE, "last_error" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "finished_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "uq_deliveries_event_slave" UNIQUE ("event_id", "slave_id"), CONSTRAINT "pk_deliveries" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "ix_deliveries_member" ON "deliveries" ("member_id") `);
        await queryRunner.query(`CREATE INDEX "ix_deliveries_status" ON "deliveries" ("status", "id") `);
        await queryRunner.query(`CREATE INDEX "ix_deliveries_queue" ON "deliveries" ("slave_id", "member_id", "seq") WHERE status IN ('waiting', 'ready', 'parked')`);
        await queryRunner.query(`CREATE INDEX "ix_deliveries_waiting" ON "deliveries" ("id") WHERE status = 'waiting'`);
        await queryRunner.query(`ALTER TABLE "outbox_events" ADD "relayed_at" TIMESTAMP WITH TIME ZONE`);
        await queryRunner.query(`ALTER TABLE "slaves" ADD "last_success_at" TIMESTAMP WITH TIME ZONE`);
        await queryRunner.query(`ALTER TABLE "slaves" ADD "failing_since" TIMESTAMP WITH TIME ZONE`);
        await queryRunner.query(`CREATE INDEX "ix_outbox_events_unrelayed" ON "outbox_events" ("id") WHERE relayed_at IS NULL`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP INDEX "public"."ix_outbox_events_unrelayed"`);
        await queryRunner.query(`ALTER TABLE "slaves" DROP COLUMN "failing_since"`);
        await queryRunner.query(`ALTER TABLE "slaves" DROP COLUMN "last_success_at"`);
        await queryRunner.query(`ALTER TABLE "outbox_events" DROP COLUMN "relayed_at"`);
        await queryRunner.query(`DROP INDEX "public"."ix_deliveries_waiting"`);
        await queryRunner.query(`DROP INDEX "public"."ix_deliveries_queue"`);
        await queryRunner.query(`DROP INDEX "public"."ix_deliveries_status"`);
        await queryRunner.query(`DROP INDEX "public"."ix_deliveries_member"`);
        await queryRunner.query(`DROP TABLE "deliveries"`);
        await queryRunner.query(`DROP INDEX "public"."ix_delivery_attempts_delivery"`);
        await queryRunner.query(`DROP TABLE "delivery_attempts"`);
    }

}
