import { GrantsService, IN_USE_LIMITS } from '@switchboard/app-api';
import { PrivateRedis } from '@switchboard/testing';
import { ApiClient } from './support/api-client';
import { TestClock } from './support/ips';
import { ADMIN_TOKEN, System, http, startSystem } from './support/system';

/**
 * Issue 10 §2: account.setEmail / account.setName answer "already in use" (code 2), which tells
 * whether some account holds a name or an address; those answers are limited per member and per key.
 */
describe('account.setEmail / setName: "already in use" answers are rate limited', () => {
  const redis = new PrivateRedis(); // its own server: the last test stops it
  const clock = new TestClock(); // a fixed hour: the counters cannot roll over mid-test
  let sys: System;
  let app: ApiClient;
  let other: ApiClient;
  const ids: number[] = [];
  const admin = (path: string, body: unknown) =>
    http(sys.urls.admin + path, { method: 'POST', body: JSON.stringify(body), headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' } });
  const tokenFor = async (client: ApiClient, memberId: number) => {
    const frob = (await client.call('auth.getFrob')).json().auth.frob;
    expect(await sys.apps.auth.get(GrantsService, { strict: false }).approveFrob(client.apiKey, frob, memberId, { profile: 'write' }, clock.now())).toBe(true);
    return (await client.call('auth.getToken', { frob })).json().auth.token as string;
  };
  const set = async (client: ApiClient, token: string, what: 'email' | 'name', value: string) => {
    const api = (await client.call(what === 'email' ? 'account.setEmail' : 'account.setName', { auth_token: token, [what]: value }, { post: true })).json().api;
    return api.status === 'ok' ? 'ok' : api.code;
  };

  beforeAll(async () => {
    await redis.start();
    sys = await startSystem({ REDIS_URL: redis.url, API_CLIENT_LIMIT: '100000' }, { clock, withoutPropagator: true });
    const a = await admin('/admin/apps', { title: 'Profile Editor', type: 'desktop' });
    app = new ApiClient(sys.urls.gateway, a.json().api_key, a.json().secret);
    const b = await admin('/admin/apps', { title: 'Another App', type: 'desktop' });
    other = new ApiClient(sys.urls.gateway, b.json().api_key, b.json().secret);
    expect((await admin('/admin/members', { name: 'Taken', email: 'taken@example.test', password: 'x', pass_salt: 'a1B2c' })).status).toBe(201);
    for (let i = 0; i < 12; i++) {
      const m = await admin('/admin/members', { name: `M${i}`, email: `m${i}@example.test`, password: 'x', pass_salt: 'a1B2c' });
      expect(m.status).toBe(201);
      ids.push(m.json().id);
    }
  }, 180_000);
  afterAll(async () => {
    await sys?.stop();
    await redis.dispose();
  }, 180_000);

  it(`per member: after ${IN_USE_LIMITS.perMemberPerHour} "in use" answers this hour, code 3 before anything is tried`, async () => {
    const token = await tokenFor(app, ids[0]);
    for (let i = 0; i < IN_USE_LIMITS.perMemberPerHour; i++) expect(await set(app, token, i % 2 ? 'name' : 'email', i % 2 ? 'Taken' : 'taken@example.test')).toBe('2');
    expect(await set(app, token, 'email', 'taken@example.test')).toBe('3');
    // Over the limit a free value answers the same (no oracle left) and nothing changes.
    expect(await set(app, token, 'email', 'free@example.test')).toBe('3');
    expect(await set(app, token, 'name', 'Free Name')).toBe('3');
    const me = (await app.call('account.get', { auth_token: token })).json();
    expect([me.user.email, me.user.username]).toEqual(['m0@example.test', 'M0']);
    const res = (await app.call('account.setEmail', { auth_token: token, email: 'free@example.test' }, { post: true })).json().api;
    expect(res.message).toBe(IN_USE_LIMITS.message);
    // The same member through another key is limited too; another member is not.
    expect(await set(other, await tokenFor(other, ids[0]), 'email', 'taken@example.test')).toBe('3');
    expect(await set(app, await tokenFor(app, ids[1]), 'email', 'taken@example.test')).toBe('2');
    // Next hour the member may try again.
    clock.advance(3_600_000);
    expect(await set(app, token, 'email', 'free@example.test')).toBe('ok');
  }, 120_000);

  it(`per key: after ${IN_USE_LIMITS.perKeyPerHour} "in use" answers this hour, every member of the key gets code 3; other keys do not`, async () => {
    clock.advance(3_600_000); // a fresh hour for both counters
    const tokens = await Promise.all(ids.slice(1).map((id) => tokenFor(app, id)));
    let answered = 0;
    for (const token of tokens) {
      for (let i = 0; i < IN_USE_LIMITS.perMemberPerHour && answered < IN_USE_LIMITS.perKeyPerHour; i++, answered++) {
        expect(await set(app, token, 'name', 'Taken')).toBe('2');
      }
    }
    expect(answered).toBe(IN_USE_LIMITS.perKeyPerHour);
    const fresh = tokens[tokens.length - 1]; // a member with no "in use" answer of its own yet
    expect(await set(app, fresh, 'name', 'Taken')).toBe('3');
    expect(await set(app, fresh, 'email', 'free2@example.test')).toBe('3');
    expect(await set(other, await tokenFor(other, ids[ids.length - 1]), 'name', 'Taken')).toBe('2');
  }, 180_000);

  it('Redis away: the limit cannot be checked, so the change is refused with 503 (fails closed)', async () => {
    const token = await tokenFor(app, ids[2]);
    await redis.stop();
    try {
      expect(await set(app, token, 'email', 'free3@example.test')).toBe('503');
    } finally {
      await redis.start(); // same port: the services reconnect and close cleanly
    }
  }, 60_000);
});
