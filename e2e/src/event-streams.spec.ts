import { randomUUID } from 'node:crypto';
import {
  DEAD_EVENT_STREAM,
  DomainEvent,
  EVENT_STREAMS,
  EVENT_WRITERS,
  EventConsumer,
  LEGACY_EVENT_STREAM,
  MAX_HANDLE_ATTEMPTS,
  StreamEmitter,
  eventStream,
  newEvent,
} from '@switchboard/events';
import { createTestRedis, TestRedis, waitFor } from '@switchboard/testing';

/**
 * One event stream per writing service (auth, propagator, gateway), read by one consumer group in
 * one XREADGROUP, against the machine's Redis in a private logical database.
 */
describe('event streams: one per writing service, one consumer reads them all', () => {
  let redis: TestRedis;
  const consumers: EventConsumer[] = [];
  const GROUP = 'test-audit';

  beforeAll(async () => {
    redis = await createTestRedis();
  }, 180_000);
  afterEach(async () => {
    for (const c of consumers.splice(0)) await c.stop();
    await redis.flush();
  }, 30_000);
  afterAll(async () => {
    await redis?.close();
  }, 180_000);

  const event = (source: string) => newEvent('authn_key_fail', source, { data: { n: randomUUID() } });
  const publish = (stream: string, e: DomainEvent) => redis.client.xadd(stream, '*', 'event', JSON.stringify(e));
  const start = (handle: (e: DomainEvent) => Promise<void>, extra: { claimIdleMs?: number } = {}) => {
    const consumer = new EventConsumer({ redisUrl: redis.url, group: GROUP, handle, blockMs: 200, ...extra });
    consumers.push(consumer);
    consumer.start();
    return consumer;
  };
  const pending = async (stream: string) => Number(((await redis.client.xpending(stream, GROUP)) as [number])[0]);
  const groups = async (stream: string) => ((await redis.client.xinfo('GROUPS', stream)) as string[][]).map((g) => g[g.indexOf('name') + 1]);

  it('names one stream per writer, none of them the dead-letter stream or the former single stream', () => {
    expect(EVENT_WRITERS.map(eventStream)).toEqual(['switchboard:events:auth', 'switchboard:events:propagator', 'switchboard:events:gateway']);
    expect(EVENT_STREAMS).toEqual(EVENT_WRITERS.map(eventStream));
    expect(EVENT_STREAMS).not.toContain(DEAD_EVENT_STREAM);
    expect(EVENT_STREAMS).not.toContain(LEGACY_EVENT_STREAM);
    expect(() => eventStream('dead' as never)).toThrow(/no event stream/);
  });

  it('the emitter writes only its own service’s stream', async () => {
    const emitter = new StreamEmitter(redis.client, 'gateway');
    await emitter.emit(event('gateway'));
    expect(await redis.client.xlen(eventStream('gateway'))).toBe(1);
    for (const writer of ['auth', 'propagator'] as const) expect(await redis.client.exists(eventStream(writer))).toBe(0);
    expect(await redis.client.exists(LEGACY_EVENT_STREAM)).toBe(0);
  }, 30_000);

  it('creates its group on every stream (MKSTREAM), reads all of them and acknowledges each on its own stream', async () => {
    const seen: DomainEvent[] = [];
    const consumer = start(async (e) => void seen.push(e));
    await waitFor(async () => {
      for (const s of EVENT_STREAMS) if (!(await redis.client.exists(s)) || !(await groups(s)).includes(GROUP)) return false;
      return true;
    }, 10_000, 'the group on every stream');
    expect(await redis.client.exists(LEGACY_EVENT_STREAM)).toBe(0); // never created
    expect(consumer.readStreams).toEqual([...EVENT_STREAMS]);

    const sent = [event('auth'), event('propagator'), event('gateway'), event('auth')];
    await publish(eventStream('auth'), sent[0]);
    await publish(eventStream('propagator'), sent[1]);
    await publish(eventStream('gateway'), sent[2]);
    await publish(eventStream('auth'), sent[3]);
    await waitFor(() => seen.length >= 4, 10_000, 'the four events');
    // Exactly what was written: the consumer hands over the event unchanged, whatever its stream.
    expect([...seen].sort((a, b) => a.id.localeCompare(b.id))).toEqual([...sent].sort((a, b) => a.id.localeCompare(b.id)));
    await waitFor(async () => (await Promise.all(EVENT_STREAMS.map(pending))).every((n) => n === 0), 10_000, 'every entry acknowledged');
  }, 60_000);

  it('dead-letters a malformed entry of one stream (naming the stream) and goes on reading the others', async () => {
    const seen: string[] = [];
    start(async (e) => void seen.push(e.id));
    await redis.client.xadd(eventStream('propagator'), '*', 'nothing', 'here');
    const good = event('gateway');
    await publish(eventStream('gateway'), good);
    await waitFor(() => seen.includes(good.id), 10_000, 'the good event');
    const dead = await waitFor(async () => {
      const entries = await redis.client.xrange(DEAD_EVENT_STREAM, '-', '+');
      return entries.length ? entries : null;
    }, 10_000, 'the dead letter');
    expect(dead).toHaveLength(1);
    const fields = dead[0][1];
    expect(fields[fields.indexOf('reason') + 1]).toBe('entry has no event field');
    expect(fields[fields.indexOf('stream') + 1]).toBe(eventStream('propagator'));
    expect(fields[fields.indexOf('group') + 1]).toBe(GROUP);
    expect(await pending(eventStream('propagator'))).toBe(0);
  }, 60_000);

  it('a failing handler retries from this consumer’s backlog on that stream, and dead-letters after the last attempt', async () => {
    const attempts = new Map<string, number>();
    const flaky = event('auth');
    const hopeless = event('propagator');
    const recorded: string[] = [];
    start(async (e) => {
      const n = (attempts.get(e.id) ?? 0) + 1;
      attempts.set(e.id, n);
      if (e.id === hopeless.id || (e.id === flaky.id && n < 2)) throw new Error(`refused ${n}`);
      recorded.push(e.id);
    });
    await publish(eventStream('auth'), flaky);
    await publish(eventStream('propagator'), hopeless);
    await waitFor(() => recorded.includes(flaky.id), 20_000, 'the flaky event recorded on its second attempt');
    await waitFor(async () => (await redis.client.xlen(DEAD_EVENT_STREAM)) === 1, 30_000, 'the hopeless event dead-lettered');
    expect(attempts.get(hopeless.id)).toBe(MAX_HANDLE_ATTEMPTS);
    const [[, fields]] = await redis.client.xrange(DEAD_EVENT_STREAM, '-', '+');
    expect(fields[fields.indexOf('stream') + 1]).toBe(eventStream('propagator'));
    expect(await pending(eventStream('auth'))).toBe(0);
    expect(await pending(eventStream('propagator'))).toBe(0);
  }, 90_000);

  it('claims entries a dead consumer left unacknowledged, on each stream', async () => {
    const left = [event('auth'), event('gateway')];
    for (const s of EVENT_STREAMS) await redis.client.xgroup('CREATE', s, GROUP, '0', 'MKSTREAM');
    await publish(eventStream('auth'), left[0]);
    await publish(eventStream('gateway'), left[1]);
    // A consumer that read them and died.
    await redis.client.xreadgroup('GROUP', GROUP, 'dead-consumer', 'COUNT', 10, 'STREAMS', eventStream('auth'), eventStream('gateway'), '>', '>');
    expect(await pending(eventStream('auth'))).toBe(1);
    const seen: string[] = [];
    start(async (e) => void seen.push(e.id), { claimIdleMs: 100 });
    await waitFor(() => left.every((e) => seen.includes(e.id)), 15_000, 'both abandoned events handled');
    await waitFor(async () => (await pending(eventStream('auth'))) + (await pending(eventStream('gateway'))) === 0, 10_000, 'both acknowledged');
  }, 60_000);

  it('recovers when the streams vanish under it (FLUSHDB: NOGROUP), on every stream', async () => {
    const seen: string[] = [];
    start(async (e) => void seen.push(e.id));
    await waitFor(async () => (await redis.client.exists(...EVENT_STREAMS)) === EVENT_STREAMS.length, 10_000, 'the streams');
    await redis.flush();
    // Give the consumer a blocked read on streams that no longer exist.
    await new Promise((r) => setTimeout(r, 500));
    const after = EVENT_WRITERS.map((w) => event(w));
    // The group is recreated from the start of each stream (MKSTREAM), so events written before
    // it is back are read as well.
    for (const [i, w] of EVENT_WRITERS.entries()) await publish(eventStream(w), after[i]);
    await waitFor(() => after.every((e) => seen.includes(e.id)), 20_000, 'an event from each stream after the flush');
  }, 60_000);

  it('drains what its group had not read of the former single stream, once, then stops reading it', async () => {
    // An upgraded Redis: the old stream with the group part-way through it.
    const old = [event('auth'), event('gateway'), event('auth')];
    for (const e of old) await publish(LEGACY_EVENT_STREAM, e);
    await redis.client.xgroup('CREATE', LEGACY_EVENT_STREAM, GROUP, '0');
    await redis.client.xreadgroup('GROUP', GROUP, 'old-admin', 'COUNT', 1, 'STREAMS', LEGACY_EVENT_STREAM, '>');
    await redis.client.xack(LEGACY_EVENT_STREAM, GROUP, (await redis.client.xrange(LEGACY_EVENT_STREAM, '-', '+'))[0][0]);
    const seen: string[] = [];
    const consumer = start(async (e) => void seen.push(e.id));
    const fresh = event('propagator');
    await publish(eventStream('propagator'), fresh);
    await waitFor(() => [old[1].id, old[2].id, fresh.id].every((id) => seen.includes(id)), 10_000, 'the unread old events and a new one');
    expect(seen).not.toContain(old[0].id); // acknowledged before the upgrade
    await waitFor(() => !consumer.readStreams.includes(LEGACY_EVENT_STREAM), 10_000, 'the former stream dropped once drained');
    expect(await pending(LEGACY_EVENT_STREAM)).toBe(0);
    // Nothing writes it any more; whatever is added now is not read by this consumer.
    const late = event('auth');
    await publish(LEGACY_EVENT_STREAM, late);
    const next = event('gateway');
    await publish(eventStream('gateway'), next);
    await waitFor(() => seen.includes(next.id), 10_000, 'a new event');
    expect(seen).not.toContain(late.id);
  }, 60_000);
});
