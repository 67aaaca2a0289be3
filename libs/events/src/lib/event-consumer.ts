import { hostname } from 'node:os';
import { Logger } from '@nestjs/common';
import type IORedis from 'ioredis';
import { createRedis } from '@switchboard/redis';
import { DomainEvent, EVENT_STREAM } from './domain-event';

export interface EventConsumerOptions {
  redisUrl: string;
  /** Consumer group: each group sees every event once (e.g. `admin-audit`). */
  group: string;
  handle: (event: DomainEvent) => Promise<void>;
  blockMs?: number;
  /** Entries left unacknowledged this long by a dead consumer are taken over. */
  claimIdleMs?: number;
}

type StreamEntries = [id: string, fields: string[]][];

/**
 * Reads the event stream as one member of a consumer group. An event is acknowledged only after
 * `handle` succeeded, so a crash or a failing handler means it is read again (handlers must be
 * idempotent: they dedupe on the event id). Survives Redis restarts (ioredis reconnects).
 */
export class EventConsumer {
  private readonly logger: Logger;
  private readonly consumer = `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  private redis?: IORedis;
  private stopped = false;
  private loop?: Promise<void>;

  constructor(private readonly options: EventConsumerOptions) {
    this.logger = new Logger(`EventConsumer:${options.group}`);
  }

  start() {
    this.redis = createRedis(this.options.redisUrl, 'consumer', `switchboard-${this.options.group}`);
    this.loop = this.run();
  }

  async stop() {
    this.stopped = true;
    this.redis?.disconnect();
    await this.loop?.catch(() => undefined);
  }

  private async ensureGroup(redis: IORedis) {
    try {
      await redis.xgroup('CREATE', EVENT_STREAM, this.options.group, '0', 'MKSTREAM');
    } catch (err) {
      if (!String((err as Error).message).includes('BUSYGROUP')) throw err;
    }
  }

  private async run() {
    const redis = this.redis!;
    let groupReady = false;
    let backlog = true; // first re-read what this consumer name already holds (none for a fresh name)
    while (!this.stopped) {
      try {
        if (!groupReady) {
          await this.ensureGroup(redis);
          groupReady = true;
        }
        await this.claimAbandoned(redis);
        const reply = (await redis.xreadgroup(
          'GROUP', this.options.group, this.consumer,
          'COUNT', 100,
          'BLOCK', this.options.blockMs ?? 2000,
          'STREAMS', EVENT_STREAM, backlog ? '0' : '>',
        )) as [string, StreamEntries][] | null;
        const entries = reply?.[0]?.[1] ?? [];
        if (backlog && entries.length === 0) backlog = false;
        await this.process(redis, entries);
      } catch (err) {
        if (this.stopped) return;
        const message = (err as Error).message;
        if (message.includes('NOGROUP')) groupReady = false; // stream was deleted (e.g. FLUSHDB)
        backlog = true; // re-read what this consumer holds but has not acknowledged
        this.logger.warn(`event stream read failed, retrying: ${message}`);
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  private async claimAbandoned(redis: IORedis) {
    const reply = (await redis.xautoclaim(
      EVENT_STREAM, this.options.group, this.consumer, this.options.claimIdleMs ?? 60_000, '0', 'COUNT', 100,
    )) as [string, StreamEntries, string[]];
    await this.process(redis, reply[1].filter((e) => e[1] !== null));
  }

  private async process(redis: IORedis, entries: StreamEntries) {
    for (const [id, fields] of entries) {
      const raw = fields[fields.indexOf('event') + 1];
      let event: DomainEvent | undefined;
      try {
        event = raw ? (JSON.parse(raw) as DomainEvent) : undefined;
      } catch {
        event = undefined;
      }
      if (!event?.id || !event.type) {
        this.logger.error(`dropping malformed stream entry ${id}`);
        await redis.xack(EVENT_STREAM, this.options.group, id);
        continue;
      }
      await this.options.handle(event); // throws → not acknowledged → read again
      await redis.xack(EVENT_STREAM, this.options.group, id);
    }
  }
}
