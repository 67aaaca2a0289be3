import { PrivateRedis, waitFor } from '@switchboard/testing';
import { ApiClient } from './support/api-client';
import { adminApi, http, startSystem, System } from './support/system';

/**
 * Issue 10 §3: where a check cannot be made, the call is refused. The hmac-sha256 mode of the
 * application API (A3) keeps its single-use nonces in Redis; this test stops and restarts a private
 * redis-server (no persistence: the restart loses every key) under a running system.
 */
describe('hmac-sha256 nonces fail closed when Redis is away', () => {
  let redis: PrivateRedis;
  let sys: System;
  let client: ApiClient;
  let md5Client: ApiClient;
  const admin = adminApi(() => sys);
  const now = () => Math.floor(Date.now() / 1000);
  /** The same signed request each time it is sent (a replay sends exactly these bytes again). */
  const signed = (nonce: string, ts: number) => {
    const params: Record<string, string> = { api_key: client.apiKey, echo: `echo-${nonce}`, ts: String(ts), nonce };
    params['api_sig'] = client.signHmac('test.echo', params);
    const url = `${sys.urls.gateway}/api/test.echo?${new URLSearchParams(params)}`;
    return async () => {
      const res = await http(url);
      expect(res.status).toBe(200); // A7: API errors are answered in the envelope
      return { json: res.json(), retryAfter: res.headers.get('retry-after') };
    };
  };
  const ready = async () => (await http(`${sys.urls.gateway}/health/ready`)).status === 200;

  beforeAll(async () => {
    redis = await new PrivateRedis().start();
    sys = await startSystem({ REDIS_URL: redis.url, API_CLIENT_LIMIT: '100000' }, { withoutPropagator: true });
    const app = await admin('/admin/apps', 'POST', { title: 'Nonce probe', type: 'desktop' });
    expect(app.status).toBe(201);
    client = new ApiClient(sys.urls.gateway, app.json().api_key, app.json().secret);
    expect((await admin(`/admin/apps/${client.apiKey}`, 'PATCH', { signature_mode: 'hmac-sha256' })).status).toBe(200);
    const other = await admin('/admin/apps', 'POST', { title: 'md5 probe', type: 'desktop' });
    md5Client = new ApiClient(sys.urls.gateway, other.json().api_key, other.json().secret);
  }, 180_000);
  let redisDown = false;
  afterAll(async () => {
    if (redisDown) await redis.start(); // a failed test must not leave the services closing against a dead Redis
    await sys?.stop();
    await redis?.dispose();
  }, 180_000);

  it('refuses with 503 during the outage, and no nonce is accepted twice across it', async () => {
    const tsBefore = now();
    const before = signed('before-outage-1', tsBefore);
    expect((await before()).json.echo).toBe('echo-before-outage-1');
    expect((await before()).json.api.code).toBe('105'); // single use while Redis holds it

    await redis.stop();
    redisDown = true;
    const tsDuring = now();
    const during = signed('during-outage-1', tsDuring);
    const refused = await during();
    // Refused, never accepted: "service unavailable" (HTTP 200 and the envelope, A7) with Retry-After.
    expect(refused.json.api).toEqual({ status: 'error', code: '503', message: 'Service unavailable.' });
    expect(refused.retryAfter).toBe('5');
    expect((await during()).json.api.code).toBe('503');
    // Calls that need no nonce still work (their per-address limit fails open, docs/hardening.md).
    expect((await md5Client.call('test.echo', { echo: 'md5' })).json().echo).toBe('md5');

    // Both requests stay within the ±300 s window; the restart happens in a later second than both.
    await waitFor(() => now() > Math.max(tsBefore, tsDuring), 5_000, 'the next second');
    await redis.start(); // same port, empty: every nonce recorded before is gone
    redisDown = false;
    await waitFor(ready, 60_000, 'the gateway (and auth behind it) ready again');

    // Neither the request used before the outage nor the one sent during it is accepted afterwards.
    expect((await before()).json.api.code).toBe('105');
    expect((await during()).json.api.code).toBe('105');
    // A request signed now is accepted once.
    const after = signed('after-outage-1', now() + 1);
    expect((await after()).json.echo).toBe('echo-after-outage-1');
    expect((await after()).json.api.code).toBe('105');
    expect(sys.logs.text).toContain('the nonce store cannot be written');
  }, 120_000);
});
