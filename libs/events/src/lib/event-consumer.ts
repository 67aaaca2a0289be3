import { hostname } from 'node:os';
import { Logger } from '@nestjs/common';
import type IORedis from 'ioredis';
import { describeIssues, domainEvent } from '@switchboard/contracts';
import { createRedis } from '@switchboard/redis';
import { DomainEvent, EVENT_STREAMS, LEGACY_EVENT_STREAM } from './domain-event';

export interface EventConsumerOptions {
  redisUrl: string;
  /** Consumer group: each group sees every event once (e.g. `admin-audit`). */
  group: string;
  handle: (event: DomainEvent) => Promise<void>;
  blockMs?: number;
  /** Entries left unacknowledged this long by a dead consumer are taken over. */
  claimIdleMs?: number;
  /** The streams read, in one XREADGROUP (default: every writing service's, EVENT_STREAMS). */
  streams?: readonly string[];
  /**
   * Streams nothing writes any more, read only if they exist at start and only until this group has
   * neither unread nor pending entries in them (default: the former single stream, LEGACY_EVENT_STREAM).
   */
  drainOnce?: readonly string[];
}

type StreamEntries = [id: string, fields: string[] | null][];

/** Entries that cannot be handled are moved here (with the reason) instead of blocking the group. */
export const DEAD_EVENT_STREAM = 'switchboard:events:dead';
/** Handler failures of one entry before it is dead-lettered. */
export const MAX_HANDLE_ATTEMPTS = 5;

/** The event in a stream entry, or why it is not one. */
export function decodeEntry(fields: string[] | null): DomainEvent | string {
  if (!fields) return 'entry has no fields (trimmed from the stream)';
  const raw = fields[fields.indexOf('event') + 1];
  if (fields.indexOf('event') === -1 || raw === undefined) return 'entry has no event field';
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return 'event is not JSON';
  }
  // The event's message (libs/contracts `domainEvent`), as its writer checked it before writing.
  const r = domainEvent.safeParse(parsed);
  if (!r.success) return `event breaks its contract: ${describeIssues(r.error).slice(0, 5).join('; ')}`;
  return r.data as DomainEvent;
}

/** Per stream: whether the group exists on it, and whether to re-read what this consumer holds. */
interface StreamState {
  groupReady: boolean;
  backlog: boolean;
  /** Read until drained, never created (drainOnce). */
  legacy: boolean;
}

/**
 * Reads the event streams (one per writing service) as one member of a consumer group, all in one
 * XREADGROUP. An event is acknowledged (on its own stream) only after `handle` succeeded, so a crash
 * or a failing handler means it is read again (handlers must be idempotent: they dedupe on the event
 * id). Survives Redis restarts (ioredis reconnects) and streams deleted under it (FLUSHDB).
 */
export class EventConsumer {
  private readonly logger: Logger;
  private readonly consumer = `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  private readonly streams = new Map<string, StreamState>();
  private redis?: IORedis;
  private stopped = false;
  private loop?: Promise<void>;

  constructor(private readonly options: EventConsumerOptions) {
    this.logger = new Logger(`EventConsumer:${options.group}`);
    // backlog: first re-read what this consumer name already holds (none for a fresh name)
    for (const stream of options.streams ?? EVENT_STREAMS) this.streams.set(stream, { groupReady: false, backlog: true, legacy: false });
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

  /** The streams read now (a drained legacy stream is no longer among them). */
  get readStreams(): string[] {
    return [...this.streams.keys()];
  }

  /** Adds the legacy streams that exist; called once, before the first read. */
  private async addLegacyStreams(redis: IORedis) {
    for (const stream of this.options.drainOnce ?? [LEGACY_EVENT_STREAM]) {
      if (this.streams.has(stream) || !(await redis.exists(stream))) continue;
      this.logger.log(`draining the former event stream ${stream}`);
      this.streams.set(stream, { groupReady: false, backlog: true, legacy: true });
    }
  }

  private async ensureGroup(redis: IORedis, stream: string, state: StreamState) {
    try {
      // From the start: a stream whose group is created late (or again) is read whole; handlers dedupe.
      if (state.legacy) await redis.xgroup('CREATE', stream, this.options.group, '0');
      else await redis.xgroup('CREATE', stream, this.options.group, '0', 'MKSTREAM');
    } catch (err) {
      const message = String((err as Error).message);
      if (state.legacy && message.includes('requires the key to exist')) {
        this.dropLegacy(stream, 'it no longer exists');
        return;
      }
      if (!message.includes('BUSYGROUP')) throw err;
    }
    state.groupReady = true;
  }

  private dropLegacy(stream: string, why: string) {
    this.streams.delete(stream);
    this.failures.forEach((_, key) => key.startsWith(`${stream} `) && this.failures.delete(key));
    this.logger.log(`former event stream ${stream} drained (${why}); no longer read`);
  }

  private async run() {
    const redis = this.redis!;
    let legacyChecked = false;
    while (!this.stopped) {
      try {
        if (!legacyChecked) {
          await this.addLegacyStreams(redis);
          legacyChecked = true;
        }
        for (const [stream, state] of [...this.streams]) if (!state.groupReady) await this.ensureGroup(redis, stream, state);
        for (const stream of [...this.streams.keys()]) await this.claimAbandoned(redis, stream);
        const streams = [...this.streams];
        // Entries this consumer holds ('0') where backlog is set, new ones ('>') elsewhere; a history
        // read answers at once, so the BLOCK only waits when no stream has a backlog.
        const reply = (await redis.xreadgroup(
          'GROUP', this.options.group, this.consumer,
          'COUNT', 100,
          'BLOCK', this.options.blockMs ?? 2000,
          'STREAMS', ...streams.map(([stream]) => stream), ...streams.map(([, state]) => (state.backlog ? '0' : '>')),
        )) as [string, StreamEntries][] | null;
        const byStream = new Map(reply ?? []);
        for (const [stream, state] of streams) {
          const entries = byStream.get(stream) ?? [];
          const wasBacklog = state.backlog;
          if (state.backlog && entries.length === 0) state.backlog = false;
          await this.process(redis, stream, entries);
          if (state.legacy && !wasBacklog && entries.length === 0) await this.dropLegacyIfDrained(redis, stream);
        }
      } catch (err) {
        if (this.stopped) return;
        const message = (err as Error).message;
        for (const state of this.streams.values()) {
          // A stream (or its group) was deleted, e.g. FLUSHDB: each stream's group is checked again
          // (created where missing, BUSYGROUP where it survived).
          if (message.includes('NOGROUP')) state.groupReady = false;
          state.backlog = true; // re-read what this consumer holds but has not acknowledged
        }
        this.logger.warn(`event stream read failed, retrying: ${message}`);
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  /** A legacy stream with nothing unread (just seen) and nothing pending for the group is done. */
  private async dropLegacyIfDrained(redis: IORedis, stream: string) {
    const [pending] = (await redis.xpending(stream, this.options.group)) as [number, ...unknown[]];
    if (Number(pending) === 0) this.dropLegacy(stream, 'nothing unread or pending for the group');
  }

  private async claimAbandoned(redis: IORedis, stream: string) {
    const reply = (await redis.xautoclaim(
      stream, this.options.group, this.consumer, this.options.claimIdleMs ?? 60_000, '0', 'COUNT', 100,
    )) as [string, StreamEntries, string[]];
    await this.process(redis, stream, reply[1]);
  }

  /** Handler failures per entry, keyed `<stream> <id>` (ids repeat across streams). */
  private readonly failures = new Map<string, number>();

  private async deadLetter(redis: IORedis, stream: string, id: string, fields: string[] | null, reason: string) {
    this.logger.error(`event stream ${stream} entry ${id} moved to ${DEAD_EVENT_STREAM}: ${reason}`);
    await redis
      .multi()
      .xadd(DEAD_EVENT_STREAM, 'MAXLEN', '~', '10000', '*', 'entry', id, 'stream', stream, 'group', this.options.group, 'reason', reason, ...(fields ?? []))
      .xack(stream, this.options.group, id)
      .exec();
    this.failures.delete(`${stream} ${id}`);
  }

  private async process(redis: IORedis, stream: string, entries: StreamEntries) {
    for (const [id, fields] of entries) {
      const event = decodeEntry(fields);
      if (typeof event === 'string') {
        await this.deadLetter(redis, stream, id, fields, event);
        continue;
      }
      const key = `${stream} ${id}`;
      try {
        await this.options.handle(event);
      } catch (err) {
        // Not acknowledged: read again (from this consumer's backlog) after the pause in run().
        const attempts = (this.failures.get(key) ?? 0) + 1;
        if (attempts < MAX_HANDLE_ATTEMPTS) {
          this.failures.set(key, attempts);
          throw err;
        }
        await this.deadLetter(redis, stream, id, fields, `handler failed ${attempts} times: ${(err as Error).message}`);
        continue;
      }
      this.failures.delete(key);
      await redis.xack(stream, this.options.group, id);
    }
  }
}
