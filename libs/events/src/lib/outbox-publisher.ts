import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type IORedis from 'ioredis';
import { DataSource } from 'typeorm';
import { OutboxEventEntity } from '@switchboard/db';
import { REDIS } from '@switchboard/redis';
import { EVENT_STREAM, EVENT_STREAM_MAXLEN } from './domain-event';
import { OutboxWaker } from './outbox-waker';
import { eventFromOutbox } from './outbox';

export const OUTBOX_PUBLISHER_OPTIONS = Symbol('OUTBOX_PUBLISHER_OPTIONS');
const PUBLISH_LOCK = 7_106_362_849;
export interface OutboxPublisherOptions {
  databaseUrl: string;
  /** Fallback poll interval when no NOTIFY arrives (missed during a reconnect, say). */
  pollMs: number;
  batchSize: number;
}

/**
 * Relays committed outbox events to the Redis event stream, oldest first. One publisher works at a
 * time (advisory lock), so several auth replicas can run; a row is marked published only after
 * Redis accepted it, so a Redis outage delays events and loses none (a crash between XADD and the
 * commit can publish one twice: consumers dedupe on the event id).
 */
@Injectable()
export class OutboxPublisher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OutboxPublisher.name);
  private readonly waker: OutboxWaker;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(REDIS) private readonly redis: IORedis,
    @Inject(OUTBOX_PUBLISHER_OPTIONS) private readonly options: OutboxPublisherOptions,
  ) {
    this.waker = new OutboxWaker({
      databaseUrl: options.databaseUrl,
      applicationName: 'switchboard-outbox-publisher',
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
      const [{ locked }] = await manager.query('SELECT pg_try_advisory_xact_lock($1) AS locked', [PUBLISH_LOCK]);
      if (!locked) return 0;
      const rows: Pick<OutboxEventEntity, 'id' | 'eventId' | 'type' | 'payload'>[] = await manager
        .createQueryBuilder(OutboxEventEntity, 'o')
        .select(['o.id', 'o.eventId', 'o.type', 'o.payload'])
        .where('o.published_at IS NULL')
        .orderBy('o.id', 'ASC')
        .limit(this.options.batchSize)
        .getMany();
      if (rows.length === 0) return 0;
      const pipeline = this.redis.multi();
      for (const row of rows) {
        pipeline.xadd(EVENT_STREAM, 'MAXLEN', '~', String(EVENT_STREAM_MAXLEN), '*', 'event', JSON.stringify(eventFromOutbox(row)));
      }
      const results = await pipeline.exec();
      const failed = results?.find(([err]) => err);
      if (!results || failed) throw failed?.[0] ?? new Error('Redis refused the batch');
      await manager
        .createQueryBuilder()
        .update(OutboxEventEntity)
        .set({ publishedAt: () => 'now()' })
        .whereInIds(rows.map((r) => r.id))
        .execute();
      return rows.length;
    });
  }
}
