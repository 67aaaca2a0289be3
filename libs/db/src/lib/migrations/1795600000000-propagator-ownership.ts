import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue #11, one writer per table: the propagator stops writing `outbox_events` and `slaves`.
 * - propagation_changes: its own copy of each relayed outbox event (progress + the change to send,
 *   whose sealed parameters it erases once delivered); filled from the events already relayed.
 * - propagator_outbox: the audit events it originates, published by itself to the event stream.
 * - slave_delivery_health: last_success_at / failing_since, moved out of `slaves` (auth's).
 * - outbox_events.relayed_at is gone (nothing reads it).
 */
export class PropagatorOwnership1795600000000 implements MigrationInterface {
  name = 'PropagatorOwnership1795600000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "propagation_changes" ("seq" bigint NOT NULL, "event_id" uuid NOT NULL, "propagate" jsonb, "relayed_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "uq_propagation_changes_event" UNIQUE ("event_id"), CONSTRAINT "pk_propagation_changes" PRIMARY KEY ("seq"))`,
    );
    await queryRunner.query(
      `INSERT INTO "propagation_changes" ("seq", "event_id", "propagate", "relayed_at")
       SELECT "id", "event_id", "payload"->'propagate', "relayed_at" FROM "outbox_events" WHERE "relayed_at" IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE TABLE "propagator_outbox" ("id" BIGSERIAL NOT NULL, "event_id" uuid NOT NULL, "type" text NOT NULL, "payload" jsonb NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "published_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "uq_propagator_outbox_event" UNIQUE ("event_id"), CONSTRAINT "pk_propagator_outbox" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "ix_propagator_outbox_unpublished" ON "propagator_outbox" ("id") WHERE published_at IS NULL`);
    await queryRunner.query(
      `CREATE TABLE "slave_delivery_health" ("slave_id" integer NOT NULL, "last_success_at" TIMESTAMP WITH TIME ZONE, "failing_since" TIMESTAMP WITH TIME ZONE, CONSTRAINT "pk_slave_delivery_health" PRIMARY KEY ("slave_id"))`,
    );
    await queryRunner.query(
      `INSERT INTO "slave_delivery_health" ("slave_id", "last_success_at", "failing_since")
       SELECT "id", "last_success_at", "failing_since" FROM "slaves" WHERE "last_success_at" IS NOT NULL OR "failing_since" IS NOT NULL`,
    );
    await queryRunner.query(`ALTER TABLE "slaves" DROP COLUMN "last_success_at"`);
    await queryRunner.query(`ALTER TABLE "slaves" DROP COLUMN "failing_since"`);
    await queryRunner.query(`DROP INDEX "public"."ix_outbox_events_unrelayed"`);
    await queryRunner.query(`ALTER TABLE "outbox_events" DROP COLUMN "relayed_at"`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "outbox_events" ADD "relayed_at" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(`UPDATE "outbox_events" o SET "relayed_at" = c."relayed_at" FROM "propagation_changes" c WHERE c."seq" = o."id"`);
    await queryRunner.query(`CREATE INDEX "ix_outbox_events_unrelayed" ON "outbox_events" ("id") WHERE relayed_at IS NULL`);
    await queryRunner.query(`ALTER TABLE "slaves" ADD "failing_since" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(`ALTER TABLE "slaves" ADD "last_success_at" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(
      `UPDATE "slaves" s SET "last_success_at" = h."last_success_at", "failing_since" = h."failing_since" FROM "slave_delivery_health" h WHERE h."slave_id" = s."id"`,
    );
    await queryRunner.query(`DROP TABLE "slave_delivery_health"`);
    await queryRunner.query(`DROP INDEX "public"."ix_propagator_outbox_unpublished"`);
    await queryRunner.query(`DROP TABLE "propagator_outbox"`);
    await queryRunner.query(`DROP TABLE "propagation_changes"`);
  }
}
