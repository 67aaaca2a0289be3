import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type IORedis from 'ioredis';
import { DataSource } from 'typeorm';
import { REDIS } from '@switchboard/redis';
import { EVENT_STREAM_MAXLEN, EventWriter, eventStream } from './domain-event';
import { OutboxWaker } from './outbox-waker';
import { CHANGE_OUTBOX, Outbox, eventFromOutbox } from './outbox';

export const OUTBOX_PUBLISHER_OPTIONS = Symbol('OUTBOX_PUBLISHER_OPTIONS');
export interface OutboxPublisherOptions {
  /** The service running the publisher: it writes only that service's stream (`eventStream(writer)`). */
  writer: EventWriter;
  /** The outbox this service writes and publishes (default: the change outbox). */
  outbox?: Outbox;
  databaseUrl: string;
  /** Fallback poll interval when no NOTIFY arrives (missed during a reconnect, say). */
  pollMs: number;
  batchSize: number;
}

/**
 * Relays committed events of one outbox table to the Redis event stream of the service that writes
 * that table (`eventStream(options.writer)`), oldest first. One publisher works at a time per outbox (advisory lock), so
 * several replicas can run; a row is marked published only after
 * Redis accepted it, so a Redis outage delays events and loses none (a crash between XADD and the
 * commit can publish one twice: consumers dedupe on the event id).
 */
@Injectable()
export class OutboxPublisher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OutboxPublisher.name);
  private readonly waker: OutboxWaker;
  private readonly outbox: Outbox;
  private readonly stream: string;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(REDIS) private readonly redis: IORedis,
    @Inject(OUTBOX_PUBLISHER_OPTIONS) private readonly options: OutboxPublisherOptions,
  ) {
    this.outbox = options.outbox ?? CHANGE_OUTBOX;
    this.stream = eventStream(options.writer);
    this.waker = new OutboxWaker({
      databaseUrl: options.databaseUrl,
      applicationName: `switchboard-publisher-${this.outbox.table}`,
      channel: this.outbox.channel,
      pollMs: options.pollMs,
      work: async () => (await this.publishBatch()) === this.options.batchSize,
      logger: this.logger,
    });
  }

  onApplicationBootstrap() {
    this.waker.start();
  }

  async onApplicationShutdown() {
    await this.waker.stop();
  }

  /** Publish now. */
  kick() {
    this.waker.kick();
  }

  /** Publishes one batch; returns how many events it published. */
  async publishBatch(): Promise<number> {
    return this.db.transaction(async (manager) => {
      // One publisher at a time (an advisory lock, not row locks: the propagator's relay reads the
      // same rows, and SKIP LOCKED on either side would make the other miss fresh events).
      const [{ locked }] = await manager.query('SELECT pg_try_advisory_xact_lock($1) AS locked', [this.outbox.publishLock]);
      if (!locked) return 0;
      const rows: { id: string; eventId: string; type: string; payload: Record<string, unknown> }[] = await manager.query(
        `SELECT id, event_id AS "eventId", type, payload FROM ${this.outbox.table} WHERE published_at IS NULL ORDER BY id LIMIT $1`,
        [this.options.batchSize],
      );
      if (rows.length === 0) return 0;
      const pipeline = this.redis.multi();
      for (const row of rows) {
        pipeline.xadd(this.stream, 'MAXLEN', '~', String(EVENT_STREAM_MAXLEN), '*', 'event', JSON.stringify(eventFromOutbox(row)));
      }
      const results = await pipeline.exec();
      const failed = results?.find(([err]) => err);
      if (!results || failed) throw failed?.[0] ?? new Error('Redis refused the batch');
      await manager.query(`UPDATE ${this.outbox.table} SET published_at = now() WHERE id = ANY($1::bigint[])`, [rows.map((r) => r.id)]);
      return rows.length;
    });
  }
}
