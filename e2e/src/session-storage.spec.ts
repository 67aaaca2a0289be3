import { createTestRedis, TestRedis } from '@switchboard/testing';
import { BrowserChainService, ChainState, tokenDigest } from '@switchboard/ips-connect';

/** Sessions and chain states in the real Redis: stored under a digest of their token (issue 10 §2). */
describe('BrowserChainService storage', () => {
  let redis: TestRedis;
  let chains: BrowserChainService;

  beforeAll(async () => {
    redis = await createTestRedis();
    chains = new BrowserChainService(redis.client, { publicUrl: 'http://127.0.0.1:3000', stateSecret: 's'.repeat(40) });
  }, 180_000);
  afterAll(async () => {
    await redis?.close();
  }, 180_000);

  const allKeysAndValues = async () => {
    const keys = (await redis.client.keys('switchboard:*')).filter((k) => k !== 'switchboard:test-owner');
    const values = await Promise.all(keys.map((k) => redis.client.get(k)));
    return { keys, dump: keys.join('\n') + '\n' + values.join('\n') };
  };

  it('a session is found by its cookie value, but Redis holds only the SHA-256 of it', async () => {
    const sid = await chains.createSession(7, 2, { name: 'Alice' });
    expect(sid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const { keys, dump } = await allKeysAndValues();
    expect(keys).toEqual([`switchboard:session:${tokenDigest(sid)}`]);
    expect(dump).not.toContain(sid);
    expect(await chains.session(sid)).toMatchObject({ memberId: 7, epoch: 2, name: 'Alice' });
    // The digest itself is not a session token.
    expect(await chains.session(tokenDigest(sid).slice(0, 43))).toBeNull();
    await chains.destroySession(sid);
    expect(await chains.session(sid)).toBeNull();
    expect((await allKeysAndValues()).keys).toEqual([]);
  }, 30_000);

  it('a chain state is advanced by its token, stored under its digest, and gone after the last hop', async () => {
    const state: ChainState = {
      action: 'crossLogin',
      returnTo: 'http://127.0.0.1:8081/back',
      hops: [
        { url: 'http://127.0.0.1:8082/a.php', params: [['do', 'login']] },
        { url: 'http://127.0.0.1:8083/b.php', params: [['do', 'login']] },
      ],
      next: 0,
    };
    const token = await chains.start(state);
    let stored = await allKeysAndValues();
    expect(stored.keys).toEqual([`switchboard:chain:${tokenDigest(token)}`]);
    expect(stored.dump).not.toContain(token);
    expect(chains.hopUrl(state, token)).toContain(encodeURIComponent(token));
    expect((await chains.advance(token))?.next).toBe(1);
    stored = await allKeysAndValues();
    expect(stored.dump).not.toContain(token);
    expect((await chains.advance(token))?.next).toBe(2);
    expect((await allKeysAndValues()).keys).toEqual([]);
    expect(await chains.advance(token)).toBeNull();
  }, 30_000);

  it('a session stored under its token before the upgrade is moved to its digest on first use, keeping its lifetime', async () => {
    const sid = 'L'.repeat(43);
    await redis.client.set(`switchboard:session:${sid}`, JSON.stringify({ memberId: 9, epoch: 0, createdAt: new Date().toISOString() }), 'EX', 1000);
    expect(await chains.session(sid)).toMatchObject({ memberId: 9 });
    const { keys, dump } = await allKeysAndValues();
    expect(keys).toEqual([`switchboard:session:${tokenDigest(sid)}`]);
    expect(dump).not.toContain(sid);
    const ttl = await redis.client.ttl(keys[0]);
    expect(ttl).toBeGreaterThan(900);
    expect(ttl).toBeLessThanOrEqual(1000);
    expect(await chains.session(sid)).toMatchObject({ memberId: 9 });
    await chains.destroySession(sid);
  }, 30_000);
});
