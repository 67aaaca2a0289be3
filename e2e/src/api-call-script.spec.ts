import IORedis from 'ioredis';
import { PrivateRedis } from '@switchboard/testing';
import { CALL_SCRIPT, NONCE_EPOCH, ScriptBatch } from '@switchboard/app-api';

/**
 * The application API's one Redis round trip per call (CALL_SCRIPT, ScriptBatch): usage, the
 * per-address limit (113) before the daily quota (112), the hmac nonce claimed only within the
 * limits, the token's last use; and the batching of the calls of one event-loop turn into one
 * pipeline, NOSCRIPT (a Redis that lost its scripts) included. On a private redis-server: the test
 * flushes its scripts.
 */
describe('application API round trip (CALL_SCRIPT)', () => {
  let server: PrivateRedis;
  let redis: IORedis;
  let batch: ScriptBatch;

  beforeAll(async () => {
    server = await new PrivateRedis().start();
    redis = new IORedis(server.url, { maxRetriesPerRequest: 1 });
    batch = new ScriptBatch(redis, CALL_SCRIPT);
  }, 30_000);
  afterAll(async () => {
    redis?.disconnect();
    await server?.dispose();
  }, 30_000);
  beforeEach(() => redis.flushdb());

  const USAGE = 'switchboard:api:usage:k:2026-12-06';
  const CLIENT = 'switchboard:api:client:127.0.0.1:1';
  const QUOTA = 'switchboard:api:quota:k:2026-12-06';
  const NONCE = 'switchboard:api:nonce:k:abcdefgh';
  const USED = 'switchboard:api:token-used:d';
  /** KEYS/ARGV as ApiGatewayService builds them. */
  const trip = (o: { client?: number; quota?: number; nonce?: { ts: number; now: number }; failing?: boolean; lastUse?: boolean }) => {
    const keys = [USAGE];
    if (o.client !== undefined) keys.push(CLIENT);
    if (o.quota !== undefined) keys.push(QUOTA);
    if (o.nonce) keys.push(NONCE_EPOCH, NONCE);
    if (o.lastUse) keys.push(USED);
    const args = [o.client?.toString() ?? '', o.quota?.toString() ?? '', o.nonce ? '1' : '0', String(o.nonce?.now ?? 1000), String(o.nonce?.ts ?? ''), '600', o.failing ? '1' : '0', o.lastUse ? '1' : '0'];
    // The third element (false in Lua) comes back as null when not asked or not recorded.
    return (batch.run(keys, args) as Promise<[number, number, string | null]>).then((r) => (r[2] === null ? [r[0], r[1]] : r));
  };
  const usage = async () => redis.hgetall(USAGE);

  it('counts calls, and errors known before or found by the limits; 113 before 112, both counted', async () => {
    expect(await trip({ client: 2, quota: 1 })).toEqual([0, -1]);
    expect(await trip({ client: 2, quota: 1 })).toEqual([112, -1]);
    expect(await trip({ client: 2, quota: 1 })).toEqual([113, -1]);
    expect(await trip({ failing: true })).toEqual([0, -1]);
    expect(await usage()).toEqual({ calls: '4', errors: '3' });
    expect([await redis.get(CLIENT), await redis.get(QUOTA)]).toEqual(['3', '3']);
    expect(await redis.ttl(CLIENT)).toBeGreaterThan(100);
    expect(await redis.ttl(QUOTA)).toBeGreaterThan(86_400);
    expect(await redis.ttl(USAGE)).toBeGreaterThan(30 * 86_400);
  }, 30_000);

  it('claims a nonce once; refuses one signed before the store began; claims none past a limit', async () => {
    expect(await trip({ nonce: { ts: 1000, now: 1000 } })).toEqual([0, 0]);
    expect(await redis.get(NONCE_EPOCH)).toBe('1000');
    expect(await trip({ nonce: { ts: 1000, now: 1001 } })).toEqual([0, 1]); // used
    await redis.del(NONCE);
    expect(await trip({ nonce: { ts: 999, now: 1001 } })).toEqual([0, 2]); // stale
    expect(await trip({ client: 0, nonce: { ts: 1000, now: 1001 } })).toEqual([113, -1]);
    expect(await redis.exists(NONCE)).toBe(0); // not claimed by a call refused with 113
    expect(await usage()).toEqual({ calls: '4', errors: '3' });
    expect(await redis.ttl(NONCE)).toBe(-2);
  }, 30_000);

  it('reads the token last use when asked', async () => {
    expect(await trip({ lastUse: true })).toEqual([0, -1]);
    await redis.set(USED, '12345');
    expect(await trip({ lastUse: true })).toEqual([0, -1, '12345']);
  }, 30_000);

  it('answers each call of one batch on its own, also when Redis lost the script', async () => {
    await redis.script('FLUSH');
    const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => trip({ client: 10, nonce: { ts: 1000 + i, now: 1000 + i } })));
    // One nonce key for all: the first claims it, the others find it used; 11th call on: 113.
    expect(replies.filter(([limit]) => limit === 113)).toHaveLength(10);
    expect(replies.filter(([limit, nonce]) => limit === 0 && nonce === 0)).toHaveLength(1);
    expect(await usage()).toEqual({ calls: '20', errors: '19' });
  }, 30_000);

  it('rejects every call of a batch when Redis cannot answer', async () => {
    const down = new IORedis('redis://127.0.0.1:1/0', { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    down.on('error', () => undefined);
    const b = new ScriptBatch(down, CALL_SCRIPT);
    const results = await Promise.allSettled([b.run([USAGE], ['', '', '0', '1', '', '600', '0', '0']), b.run([USAGE], ['', '', '0', '1', '', '600', '0', '0'])]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    down.disconnect();
  }, 30_000);
});
