import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type IORedis from 'ioredis';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { OutboxEventEntity } from '@switchboard/db';
import { REDIS } from '@switchboard/redis';
import { EVENT_STREAM, EVENT_STREAM_MAXLEN, OUTBOX_CHANNEL } from './domain-event';
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
  private listener?: Client;
  private timer?: NodeJS.Timeout;
  private running = false;
  private again = false;
  private stopped = false;
  private idle: Promise<void> = Promise.resolve();

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(REDIS) private readonly redis: IORedis,
    @Inject(OUTBOX_PUBLISHER_OPTIONS) private readonly options: OutboxPublisherOptions,
  ) {}

  async onApplicationBootstrap() {
    this.timer = setInterval(() => this.kick(), this.options.pollMs);
    this.timer.unref();
    void this.listen();
    this.kick();
  }

  async onApplicationShutdown() {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.listener?.end().catch(() => undefined);
    await this.idle;
  }

  private async listen() {
    if (this.stopped) return;
    const client = new Client({ connectionString: this.options.databaseUrl, application_name: 'switchboard-outbox-listener' });
    client.on('notification', () => this.kick());
    client.on('error', () => undefined);
    client.on('end', () => {
      if (!this.stopped) setTimeout(() => void this.listen(), 1000).unref();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${OUTBOX_CHANNEL}`);
      this.listener = client;
      this.kick();
    } catch (err) {
      this.logger.warn(`outbox LISTEN failed, polling meanwhile: ${(err as Error).message}`);
      await client.end().catch(() => undefined);
    }
  }

  /** Publish now (coalesces overlapping calls). */
  kick() {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.idle = (async () => {
      try {
        do {
          this.again = false;
          while (!this.stopped && (await this.publishBatch()) === this.options.batchSize) {
            /* keep draining */
          }
        } while (this.again && !this.stopped);
      } catch (err) {
        this.logger.warn(`outbox publish failed, will retry: ${(err as Error).message}`);
      } finally {
        this.running = false;
      }
    })();
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
