import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditEventEntity } from '@switchboard/db';
import { DomainEvent, EventConsumer, OUTBOXES, Outbox } from '@switchboard/events';
import { ADMIN_API_OPTIONS, AdminApiOptions } from './admin-token.guard';

export const AUDIT_GROUP = 'admin-audit';
/** How often, and after how long, published events missing from the audit log are copied in. */
const SWEEP_EVERY_MS = 60_000;
const SWEEP_AFTER = "interval '2 minutes'";

/**
 * Records every domain event of the stream in the audit table, once (deduped on the event id).
 * Backstop: the outboxes are the record of truth (the change outbox and the propagator's own), so a
 * sweep copies in any event of either published more than two minutes ago that the stream did not
 * deliver (Redis lost its data, or trimmed the stream while admin was down).
 */
@Injectable()
export class AuditRecorder implements OnApplicationBootstrap, OnApplicationShutdown {
  private consumer?: EventConsumer;
  private sweeper?: NodeJS.Timeout;
  /** Per outbox table: ids at or below this are known to be in the audit log (or older than a day at boot). */
  private readonly watermarks = new Map<string, string>();

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(ADMIN_API_OPTIONS) private readonly options: AdminApiOptions,
  ) {}

  onApplicationBootstrap() {
    this.consumer = new EventConsumer({ redisUrl: this.options.redisUrl, group: AUDIT_GROUP, handle: (e) => this.record(e) });
    this.consumer.start();
    this.sweeper = setInterval(() => void this.sweep().catch(() => undefined), SWEEP_EVERY_MS);
    this.sweeper.unref();
  }

  async onApplicationShutdown() {
    if (this.sweeper) clearInterval(this.sweeper);
    await this.consumer?.stop();
  }

  /** Copies published events missing from the audit log; returns how many it added. */
  async sweep(): Promise<number> {
    let added = 0;
    for (const outbox of OUTBOXES) added += await this.sweepOutbox(outbox);
    return added;
  }

  private async sweepOutbox({ table }: Outbox): Promise<number> {
    let watermark = this.watermarks.get(table);
    if (watermark === undefined) {
      const [{ w }] = await this.db.query(`SELECT coalesce(max(id), 0)::text AS w FROM ${table} WHERE created_at < now() - interval '1 day'`);
      watermark = w as string;
    }
    const inserted: unknown[] = await this.db.query(
      `INSERT INTO audit_events (event_id, type, occurred_at, source, slave_id, member_id, details)
       SELECT o.event_id, o.type, (o.payload->>'occurredAt')::timestamptz, coalesce(o.payload->>'source', 'unknown'),
              (o.payload->>'slaveId')::int, (o.payload->>'memberId')::int, coalesce(o.payload->'data', '{}'::jsonb)
         FROM ${table} o
        WHERE o.id > $1 AND o.published_at < now() - ${SWEEP_AFTER}
          AND NOT EXISTS (SELECT 1 FROM audit_events a WHERE a.event_id = o.event_id)
        ORDER BY o.id
        LIMIT 5000
       ON CONFLICT (event_id) DO NOTHING
       RETURNING id`,
      [watermark],
    );
    const [{ w }] = await this.db.query(
      `SELECT coalesce(
         (SELECT min(id) - 1 FROM ${table} WHERE id > $1 AND (published_at IS NULL OR published_at >= now() - ${SWEEP_AFTER})),
         (SELECT max(id) FROM ${table}), $1)::text AS w`,
      [watermark],
    );
    this.watermarks.set(table, inserted.length < 5000 ? (w as string) : watermark);
    return inserted.length;
  }

  async record(event: DomainEvent): Promise<void> {
    await this.db
      .createQueryBuilder()
      .insert()
      .into(AuditEventEntity)
      .values({
        eventId: event.id,
        type: event.type,
        occurredAt: new Date(event.occurredAt),
        source: event.source,
        slaveId: event.slaveId,
        memberId: event.memberId,
        details: (event.data ?? {}) as never,
      })
      .orIgnore()
      .execute();
  }
}
