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

type StreamEntries = [id: string, fields: string[] | null][];

/** Entries that cannot be handled are moved here (with the reason) instead of blocking the group. */
export const DEAD_EVENT_STREAM = 'switchboard:events:dead';
/** Handler failures of one entry before it is dead-lettered. */
export const MAX_HANDLE_ATTEMPTS = 5;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The event in a stream entry, or why it is not one. */
export function decodeEntry(fields: string[] | null): DomainEvent | string {
  if (!fields) return 'entry has no fields (trimmed from the stream)';
  const raw = fields[fields.indexOf('event') + 1];
  if (fields.indexOf('event') === -1 || raw === undefined) return 'entry has no event field';
  let event: DomainEvent;
  try {
    event = JSON.parse(raw) as DomainEvent;
  } catch {
    return 'event is not JSON';
  }
  if (!event || typeof event !== 'object') return 'event is not an object';
  if (typeof event.id !== 'string' || !UUID.test(event.id)) return 'event id is not a UUID';
  if (typeof event.type !== 'string' || !event.type) return 'event has no type';
  if (typeof event.occurredAt !== 'string' || Number.isNaN(Date.parse(event.occurredAt))) return 'event has no valid occurredAt';
  return event;
}

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

  /** Stops reading; bounded, because a read waiting for an unreachable Redis never settles. */
  async stop() {
    this.stopped = true;
    this.redis?.disconnect(false);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.loop?.catch(() => undefined),
      new Promise((resolve) => {
        timer = setTimeout(resolve, 2000);
      }),
    ]);
    clearTimeout(timer);
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
    await this.process(redis, reply[1]);
  }

  private readonly failures = new Map<string, number>();

  private async deadLetter(redis: IORedis, id: string, fields: string[] | null, reason: string) {
    this.logger.error(`event stream entry ${id} moved to ${DEAD_EVENT_STREAM}: ${reason}`);
    await redis
      .multi()
      .xadd(DEAD_EVENT_STREAM, 'MAXLEN', '~', '10000', '*', 'entry', id, 'group', this.options.group, 'reason', reason, ...(fields ?? []))
      .xack(EVENT_STREAM, this.options.group, id)
      .exec();
    this.failures.delete(id);
  }

  private async process(redis: IORedis, entries: StreamEntries) {
    for (const [id, fields] of entries) {
      const event = decodeEntry(fields);
      if (typeof event === 'string') {
        await this.deadLetter(redis, id, fields, event);
        continue;
      }
      try {
        await this.options.handle(event);
      } catch (err) {
        // Not acknowledged: read again (from this consumer's backlog) after the pause in run().
        const attempts = (this.failures.get(id) ?? 0) + 1;
        if (attempts < MAX_HANDLE_ATTEMPTS) {
          this.failures.set(id, attempts);
          throw err;
        }
        await this.deadLetter(redis, id, fields, `handler failed ${attempts} times: ${(err as Error).message}`);
        continue;
      }
      this.failures.delete(id);
      await redis.xack(EVENT_STREAM, this.options.group, id);
    }
  }
}
