import { readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { QUEUE_DASHBOARD_PATH, queueDashboardRoutes } from '@switchboard/admin-api';
import { DELIVERY_QUEUE_NAME } from '@switchboard/contracts';
import { PrivateRedis, waitFor } from '@switchboard/testing';
import { ADMIN_TOKEN, System, http, startSystem } from './support/system';

/** Every file Bull Board's UI serves under /admin/queues/static/. */
function staticAssets(): string[] {
  const root = join(dirname(require.resolve('@bull-board/ui/package.json')), 'dist', 'static');
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else files.push(relative(root, join(dir, e.name)).split('\\').join('/'));
    }
  };
  walk(root);
  return files;
}

/** A concrete URL for a route pattern (`:queueName` → the delivery queue, other parameters → a value, `*` → a file). */
const concrete = (url: string) =>
  url
    .replace(':queueName', DELIVERY_QUEUE_NAME)
    .replace(/:queueStatus/g, 'failed')
    .replace(/:[A-Za-z]+/g, '1')
    .replace(/\*$/, 'js/main.js');

/** Issue 12: Bull Board at /admin/queues, behind the admin authentication, read-only. */
describe('queue dashboard (Bull Board) at /admin/queues', () => {
  let sys: System;
  const get = (path: string, headers: Record<string, string> = {}, method = 'GET', body?: string) =>
    http(sys.urls.admin + path, { method, headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body });
  const bearer = { authorization: `Bearer ${ADMIN_TOKEN}` };

  beforeAll(async () => {
    // Many refused requests from one address: a failure limit that does not turn 401s into 429s here.
    sys = await startSystem({}, { adminAuthFailLimit: 100_000 });
  }, 180_000);
  afterAll(async () => {
    await sys?.stop();
  }, 60_000);

  it('refuses every route and every asset without a valid admin token (any method, any spelling), and says nothing of the queue', async () => {
    const routes = queueDashboardRoutes(sys.apps.admin);
    // Bull Board's page, its API and its static files were all mounted, and all in the guarded scope.
    expect(routes.length).toBeGreaterThan(20);
    expect(routes.every((r) => r.url.startsWith(QUEUE_DASHBOARD_PATH))).toBe(true);
    expect(routes.some((r) => r.url.includes('/api/queues'))).toBe(true);
    expect(routes.some((r) => r.url.includes('/static/'))).toBe(true);
    expect(routes.some((r) => r.method === 'PUT')).toBe(true);

    const requests: { method: string; path: string }[] = [
      ...routes.map((r) => ({ method: r.method, path: concrete(r.url) })),
      ...staticAssets().map((f) => ({ method: 'GET', path: `${QUEUE_DASHBOARD_PATH}/static/${f}` })),
      // Other spellings of the same routes.
      { method: 'GET', path: '/admin/%71ueues/api/queues' },
      { method: 'GET', path: '/admin/queues/api/queues?activeQueue=deliveries' },
      { method: 'GET', path: '/admin/queues/' },
      { method: 'GET', path: '/admin/queues/queue/deliveries' },
      { method: 'PUT', path: '/admin/%71ueues/api/queues/deliveries/pause' },
    ];
    const wrong: Record<string, string>[] = [{}, { authorization: 'Bearer not-the-token' }, { authorization: `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}` }, { authorization: 'Bearer sbat_unknownunknownunknownunknownunknownunknown0' }];
    const leaks: string[] = [];
    for (const [i, { method, path }] of requests.entries()) {
      const headers = wrong[i % wrong.length];
      const r = await get(path, headers, method, ['PUT', 'POST', 'PATCH'].includes(method) ? '{}' : undefined);
      if (r.status !== 401) leaks.push(`${method} ${path}: ${r.status}`);
      else {
        expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
        if (method !== 'HEAD') expect(r.text).not.toMatch(/deliveries|bull/i);
      }
    }
    expect(leaks).toEqual([]);
    expect(requests.length).toBeGreaterThan(100);
    // The failures are in the audit like every failed admin authentication.
    const audit = (await get('/admin/audit?type=admin_authn_fail&limit=5', bearer)).json();
    expect(audit.items.length).toBeGreaterThan(0);
  }, 300_000);

  it('shows the page, the queue and its assets with the admin token (bootstrap or named)', async () => {
    const page = await get(QUEUE_DASHBOARD_PATH, bearer);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(page.text).toContain('Switchboard queues');

    const named = (await get('/admin/tokens', bearer, 'POST', JSON.stringify({ name: 'queues-viewer' }))).json();
    const queues = await get(`${QUEUE_DASHBOARD_PATH}/api/queues`, { authorization: `Bearer ${named.token}` });
    expect(queues.status).toBe(200);
    const listed = queues.json().queues as { name: string; readOnlyMode: boolean }[];
    expect(listed.map((q) => q.name)).toEqual([DELIVERY_QUEUE_NAME]);
    expect(listed[0].readOnlyMode).toBe(true);

    const asset = staticAssets().find((f) => f.endsWith('.js'))!;
    const file = await get(`${QUEUE_DASHBOARD_PATH}/static/${asset}`, bearer);
    expect(file.status).toBe(200);

    // A revoked token opens nothing any more.
    expect((await get(`/admin/tokens/${named.id}`, bearer, 'DELETE')).status).toBe(200);
    expect((await get(`${QUEUE_DASHBOARD_PATH}/api/queues`, { authorization: `Bearer ${named.token}` })).status).toBe(401);
  }, 120_000);

  it('is read-only: every action is refused (405), even with the token, and the queue is unchanged', async () => {
    const connection = new IORedis(sys.redis.url, { maxRetriesPerRequest: 1 });
    const queue = new Queue(DELIVERY_QUEUE_NAME, { connection, skipMetasUpdate: true });
    try {
      const before = await queue.getJobCounts();
      const actions: [string, string, string?][] = [
        ['PUT', '/api/queues/pause'],
        ['PUT', `/api/queues/${DELIVERY_QUEUE_NAME}/pause`],
        ['PUT', `/api/queues/${DELIVERY_QUEUE_NAME}/clean/completed`],
        ['PUT', `/api/queues/${DELIVERY_QUEUE_NAME}/retry/failed`],
        ['POST', `/api/queues/${DELIVERY_QUEUE_NAME}/add`, JSON.stringify({ name: 'deliver', data: { deliveryId: '1', attemptOffset: 0 } })],
        ['PUT', `/api/queues/${DELIVERY_QUEUE_NAME}/empty`],
        ['PUT', `/api/queues/${DELIVERY_QUEUE_NAME}/obliterate`],
        ['PUT', `/api/queues/${DELIVERY_QUEUE_NAME}/1/retry`],
      ];
      for (const [method, path, body] of actions) {
        const r = await get(QUEUE_DASHBOARD_PATH + path, bearer, method, body ?? '{}');
        expect([`${method} ${path}`, r.status]).toEqual([`${method} ${path}`, 405]);
        expect(r.headers.get('allow')).toBe('GET, HEAD');
        expect(r.json().type).toBe('urn:switchboard:problem:method-not-allowed');
      }
      expect(await queue.isPaused()).toBe(false);
      expect(await queue.getJobCounts()).toEqual(before);
    } finally {
      await queue.close();
      connection.disconnect();
    }
  }, 120_000);
});

/** A dashboard read while Redis is away: 503 problem details, not Bull Board's 500 with the error's text. */
describe('queue dashboard when Redis is away', () => {
  let redis: PrivateRedis;
  let sys: System;
  beforeAll(async () => {
    redis = await new PrivateRedis().start();
    sys = await startSystem({ REDIS_URL: redis.url }, { withoutPropagator: true });
  }, 180_000);
  afterAll(async () => {
    await sys?.stop().catch(() => undefined);
    await redis?.stop();
  }, 60_000);

  it('answers 503 with Retry-After while Redis is down, and 200 again once it is back', async () => {
    const read = () => http(`${sys.urls.admin}${QUEUE_DASHBOARD_PATH}/api/queues`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect((await read()).status).toBe(200);
    await redis.stop();
    const down = await read();
    expect(down.status).toBe(503);
    expect(down.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(down.headers.get('retry-after')).toBe('5');
    expect(down.json()).toMatchObject({ status: 503, type: 'urn:switchboard:problem:unavailable' });
    expect(down.text).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|stack/i);
    await redis.start();
    await waitFor(async () => (await read()).status === 200, 30_000, 'the dashboard reads the queue again');
  }, 120_000);
});
