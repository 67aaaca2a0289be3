import { Client } from 'pg';
import { waitFor } from '@switchboard/testing';
import { ADMIN_TOKEN, MASTER_KEY, System, http, startSystem } from './support/system';

// /metrics on the public ports (gateway, admin) answers only this bearer (docs/hardening.md).
const METRICS_TOKEN = 'test-metrics-token-0123456789abcdef0123';
const scrapeHeaders = { authorization: `Bearer ${METRICS_TOKEN}` };

/** Spec §2.1 / §8.1 end to end: gateway → auth (slaves, outbox) → Redis stream → admin audit. */
describe('verifySettings slice (gateway → auth → events → admin)', () => {
  let sys: System;
  const SA = 'http://127.0.0.1:8081/applications/core/interface/ipsconnect/ipsconnect.php';
  const SB = 'http://127.0.0.1:8082/ipsconnect.php';
  const SKA = 'fedcba9876543210fedcba9876543210';
  const SKB = '00112233445566778899aabbccddeeff';
  const admin = (path: string, token = ADMIN_TOKEN) => http(sys.urls.admin + path, { headers: { authorization: `Bearer ${token}` } });
  const ips = (query: string) => http(`${sys.urls.gateway}/ipsconnect?${query}`);

  beforeAll(async () => {
    sys = await startSystem({ METRICS_TOKEN });
  }, 180_000);
  afterAll(async () => {
    await sys?.stop();
  }, 180_000);

  it('registers slave A with the §8.1 request and answers exactly {"status":"SUCCESS"}', async () => {
    const res = await ips(`do=verifySettings&key=${MASTER_KEY}&url=${SA}&ourKey=${SKA}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.text).toBe('{"status":"SUCCESS"}');
  }, 60_000);

  it('answers BAD_KEY for a wrong key (recorded as authn_key_fail) and FAILURE without ourKey, registering nothing', async () => {
    expect((await ips(`do=verifySettings&key=wrong&url=http://127.0.0.1:9/x&ourKey=${SKA}`)).text).toBe('{"status":"BAD_KEY"}');
    expect((await ips(`do=verifySettings&url=http://127.0.0.1:9/x&ourKey=${SKA}`)).text).toBe('{"status":"BAD_KEY"}');
    expect((await ips(`do=verifySettings&key=${MASTER_KEY}&url=http://127.0.0.1:9/x`)).text).toBe('{"status":"FAILURE"}');
    expect((await ips(`do=verifySettings&key=${MASTER_KEY}&ourKey=${SKA}`)).text).toBe('{"status":"FAILURE"}');
    expect((await ips(`do=verifySettings&key=${MASTER_KEY}&url[]=http://127.0.0.1:9/x&ourKey=${SKA}`)).text).toBe('{"status":"FAILURE"}');
    expect((await ips(`do=verifySettings&key=${MASTER_KEY}&url=javascript:alert(1)&ourKey=${SKA}`)).text).toBe('{"status":"FAILURE"}');
    const slaves = (await admin('/admin/slaves')).json().items;
    expect(slaves.map((s: { url: string }) => s.url)).not.toContain('http://127.0.0.1:9/x');
    const fails = await waitFor(async () => {
      const page = (await admin('/admin/audit?type=authn_key_fail')).json();
      return page.items.length === 2 ? page : undefined;
    }, 10_000, 'two authn_key_fail events');
    expect(fails.items[0].details).toMatchObject({ action: 'verifySettings' });
    expect(JSON.stringify(fails)).not.toContain(MASTER_KEY);
  }, 60_000);

  it('accepts the same request as a POST form body with no query string', async () => {
    const res = await http(`${sys.urls.gateway}/applications/core/interface/ipsconnect/ipsconnect.php`, {
      method: 'POST',
      body: `do=verifySettings&key=${MASTER_KEY}&url=${encodeURIComponent(SB)}&ourKey=${SKB}`,
    });
    expect(res.text).toBe('{"status":"SUCCESS"}');
  }, 60_000);

  it('lists both slaves in the admin API, without their keys', async () => {
    const res = await admin('/admin/slaves');
    expect(res.status).toBe(200);
    const slaves = res.json().items;
    expect(slaves.map((s: { url: string; enabled: boolean }) => [s.url, s.enabled])).toEqual([
      [SA, true],
      [SB, true],
    ]);
    expect(res.text).not.toContain(SKA);
    expect(res.text).not.toContain(SKB);
  }, 60_000);

  it('stores the slave key sealed, never in the clear', async () => {
    const pg = new Client({ connectionString: sys.db.url });
    await pg.connect();
    try {
      const { rows } = await pg.query('SELECT slave_key_sealed FROM slaves');
      expect(rows).toHaveLength(2);
      for (const row of rows) {
        expect(row.slave_key_sealed).not.toContain(SKA);
        expect(row.slave_key_sealed).not.toContain(SKB);
      }
    } finally {
      await pg.end();
    }
  }, 60_000);

  it('re-registration with a new ourKey keeps the slave id (no REPLACE) and records the rotation', async () => {
    const before = (await admin('/admin/slaves')).json().items.find((s: { url: string }) => s.url === SA);
    expect((await ips(`do=verifySettings&key=${MASTER_KEY}&url=${SA}&ourKey=rotated-key-0000`)).text).toBe('{"status":"SUCCESS"}');
    const after = (await admin('/admin/slaves')).json().items.find((s: { url: string }) => s.url === SA);
    expect(after.id).toBe(before.id);
    const audit = await waitFor(async () => {
      const page = (await admin(`/admin/audit?type=slave_registered&slave_id=${before.id}`)).json();
      return page.items.length === 2 ? page : undefined;
    }, 10_000, 'two slave_registered events for slave A');
    expect(audit.items[0].details).toMatchObject({ url: SA, created: false, key_changed: true });
    expect(audit.items[1].details).toMatchObject({ url: SA, created: true, key_changed: false });
  }, 60_000);

  it('records one slave_registered audit event per accepted verifySettings, none for refused ones', async () => {
    const page = await waitFor(async () => {
      const p = (await admin('/admin/audit?type=slave_registered')).json();
      return p.items.length >= 3 ? p : undefined;
    }, 10_000, 'audit events');
    expect(page.items).toHaveLength(3);
    expect(page.items.every((e: { source: string }) => e.source === 'auth')).toBe(true);
    expect(JSON.stringify(page)).not.toContain(SKA);
  }, 60_000);

  it('pages the audit log and rejects bad query values with 400', async () => {
    const first = (await admin('/admin/audit?type=slave_registered&limit=2')).json();
    expect(first.items).toHaveLength(2);
    expect(first.next_cursor).toEqual(expect.any(String));
    const second = (await admin(`/admin/audit?type=slave_registered&limit=2&cursor=${first.next_cursor}`)).json();
    expect(second.items).toHaveLength(1);
    expect(second.next_cursor).toBeNull();
    expect((await admin('/admin/audit?limit=0')).status).toBe(400);
    expect((await admin('/admin/audit?limit=abc')).status).toBe(400);
    expect((await admin('/admin/audit?type=DROP%20TABLE')).status).toBe(400);
  }, 60_000);

  it('refuses the admin API without the bearer token, or with a wrong one (401)', async () => {
    for (const path of ['/admin/slaves', '/admin/audit']) {
      const none = await http(sys.urls.admin + path);
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect((await admin(path, 'wrong-token')).status).toBe(401);
      expect((await http(sys.urls.admin + path, { headers: { authorization: ADMIN_TOKEN } })).status).toBe(401);
    }
  }, 60_000);

  it('follows IPS dispatch order: slaveCall=1 → DISABLED, unknown do → INVALID_ACTION', async () => {
    expect((await ips(`do=verifySettings&slaveCall=1&key=${MASTER_KEY}&url=${SA}&ourKey=${SKA}`)).text).toBe('{"status":"DISABLED"}');
    expect((await ips('do=nosuchthing&key=x')).text).toBe('{"status":"INVALID_ACTION"}');
    expect((await ips('do=_dispatch')).text).toBe('{"status":"INVALID_ACTION"}');
    expect((await ips(`act=login&key=${MASTER_KEY}`)).text).toBe('{"status":"INVALID_ACTION"}');
    expect((await ips('')).text).toBe('{"status":"INVALID_ACTION"}');
  }, 60_000);

  it('answers a body over 64 KiB with 413 and a wrong method with 405, never a 500', async () => {
    const big = await http(`${sys.urls.gateway}/ipsconnect`, { method: 'POST', body: 'do=verifySettings&x=' + 'a'.repeat(70 * 1024) });
    expect(big.status).toBe(413);
    const put = await http(`${sys.urls.gateway}/ipsconnect?do=verifySettings`, { method: 'PUT' });
    expect(put.status).toBe(405);
    const json = await http(`${sys.urls.gateway}/ipsconnect`, { method: 'POST', body: '{', headers: { 'content-type': 'application/json' } });
    expect(json.status).toBeLessThan(500);
  }, 60_000);

  it('serves liveness, readiness and Prometheus metrics on every service', async () => {
    for (const [name, url] of Object.entries(sys.urls)) {
      const live = await http(url + '/health/live');
      expect([name, live.status]).toEqual([name, 200]);
      const ready = await http(url + '/health/ready');
      expect([name, ready.status]).toEqual([name, 200]);
      expect(ready.json().status).toBe('ok');
      const metrics = await http(url + '/metrics', { headers: scrapeHeaders });
      expect(metrics.status).toBe(200);
      expect(metrics.text).toContain('process_cpu_user_seconds_total');
    }
    const ready = (await http(sys.urls.propagator + '/health/ready')).json();
    expect(Object.keys(ready.details).sort()).toEqual(['database', 'redis', 'worker']);
    const gw = await http(sys.urls.gateway + '/metrics', { headers: scrapeHeaders });
    expect(gw.text).toMatch(/http_requests_total\{[^}]*route="\/ipsconnect"[^}]*\}/);
  }, 60_000);

  it('echoes a sane x-request-id and makes one otherwise', async () => {
    const given = await http(`${sys.urls.gateway}/health/live`, { headers: { 'x-request-id': 'abc-123' } });
    expect(given.headers.get('x-request-id')).toBe('abc-123');
    const made = await http(`${sys.urls.gateway}/health/live`, { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  }, 60_000);
});
