import { freePort, waitFor } from '@switchboard/testing';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, spawnAppFromSource } from './support/run-source';
import { ADMIN_TOKEN, MASTER_KEY, System, http, startSystem } from './support/system';

const INTERNAL = 'test-internal-token-0123456789abcdef012';
const METRICS_TOKEN = 'test-metrics-token-0123456789abcdef0123';

/**
 * Issue 10 §3: bad input gets a documented 4xx (never a 500), no error answer quotes the request,
 * every answer says `nosniff`, and /metrics and /docs are not public on the gateway and admin ports.
 */
describe('error answers', () => {
  let sys: System;
  const adminHeaders = { authorization: `Bearer ${ADMIN_TOKEN}` };
  const json = { ...adminHeaders, 'content-type': 'application/json' };
  const internal = { 'x-internal-token': INTERNAL, 'content-type': 'application/json' };
  const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
  const ready = async () => {
    for (const url of Object.values(sys.urls)) expect((await http(`${url}/health/ready`)).status).toBe(200);
  };

  beforeAll(async () => {
    sys = await startSystem({ METRICS_TOKEN });
  }, 180_000);
  afterAll(async () => {
    await sys?.stop();
  }, 180_000);

  it('deeply nested JSON bodies answer 400 on admin and internal routes, and every service stays ready', async () => {
    const body = (inner: string) => `{"name":${inner},"email":"deep@example.test","password":"pw"}`;
    const cases: [string, string, string, Record<string, string>][] = [
      ['POST', `${sys.urls.admin}/admin/members`, deep(20_000), json],
      ['POST', `${sys.urls.admin}/admin/members`, body(deep(5_000)), json],
      ['POST', `${sys.urls.admin}/admin/slaves`, `{"url":${deep(3_000)}}`, json],
      ['POST', `${sys.urls.admin}/admin/apps`, `{"title":${deep(3_000)},"type":"desktop"}`, json],
      ['PATCH', `${sys.urls.admin}/admin/apps/${'0'.repeat(32)}`, `{"allowed_networks":${deep(3_000)}}`, json],
      ['PATCH', `${sys.urls.admin}/admin/settings`, `{"global_master_key":${deep(3_000)}}`, json],
      ['POST', `${sys.urls.auth}/internal/admin/members`, deep(20_000), internal],
      ['POST', `${sys.urls.auth}/internal/api/execute`, `{"method":"auth.getToken","params":${deep(3_000)}}`, internal],
      ['POST', `${sys.urls.auth}/internal/ipsconnect`, `{"action":"login","params":${deep(3_000)}}`, internal],
    ];
    for (const [method, url, payload, headers] of cases) {
      const res = await http(url, { method, body: payload, headers });
      expect([method, url, res.status]).toEqual([method, url, 400]);
      // The admin answers problem details (issue 12), the internal routes the runtime's JSON.
      const body = res.json();
      expect(url.startsWith(sys.urls.admin) ? body.detail : body.message).toBe('JSON body is nested too deeply');
    }
    // Moderate nesting is still parsed and validated as before (400 naming the field).
    const shallow = await http(`${sys.urls.admin}/admin/apps`, { method: 'POST', body: `{"title":${deep(20)},"type":"desktop"}`, headers: json });
    expect(shallow.status).toBe(400);
    expect(shallow.json().errors.map((e: { field: string }) => e.field)).toContain('title');
    await ready();
  }, 60_000);

  it('NUL, lone surrogates and malformed ids answer 400 or 404 before reaching PostgreSQL', async () => {
    const cases: [string, string, Record<string, string>, string | undefined, number][] = [
      ['GET', `${sys.urls.admin}/admin/members?q=%00`, adminHeaders, undefined, 400],
      ['GET', `${sys.urls.admin}/admin/members?q=al%00ice`, adminHeaders, undefined, 400],
      ['GET', `${sys.urls.admin}/admin/members?q=a&q=b`, adminHeaders, undefined, 400],
      ['POST', `${sys.urls.admin}/admin/members`, json, JSON.stringify({ name: 'Nul', email: 'n\u0000@example.test', password: 'pw' }), 400],
      ['POST', `${sys.urls.admin}/admin/members`, json, JSON.stringify({ name: 'Hash', email: 'h@example.test', pass_hash: 'a\u0000b', pass_salt: 'abc' }), 400],
      ['POST', `${sys.urls.admin}/admin/members`, json, '{"name":"a\\ud800b","email":"s@example.test","password":"pw"}', 400],
      ['POST', `${sys.urls.admin}/admin/apps`, json, JSON.stringify({ title: 't\u0000', type: 'desktop' }), 400],
      ['POST', `${sys.urls.admin}/admin/apps`, json, JSON.stringify({ title: 't', description: 'd\u0000', type: 'desktop' }), 400],
      ['POST', `${sys.urls.admin}/admin/apps`, json, JSON.stringify({ title: 't', type: 'web', callback_url: 'http://app.example/\u0000' }), 400],
      ['PATCH', `${sys.urls.admin}/admin/apps/abc%00`, json, JSON.stringify({ title: 't' }), 404],
      ['POST', `${sys.urls.admin}/admin/apps/abc%00/rotate-secret`, adminHeaders, undefined, 404],
      ['DELETE', `${sys.urls.admin}/admin/apps/abc%00`, adminHeaders, undefined, 404],
      ['POST', `${sys.urls.auth}/internal/ipsconnect`, internal, JSON.stringify({ action: 'login', params: { key: MASTER_KEY, idType: '1', id: 'a\u0000', password: 'x' } }), 400],
      ['POST', `${sys.urls.auth}/internal/ipsconnect`, internal, JSON.stringify({ action: 'checkEmail', params: { key: MASTER_KEY, email: 'x\u0000@example.test' } }), 400],
      ['POST', `${sys.urls.auth}/internal/api/grants/x/y/revoke`, { 'x-internal-token': INTERNAL }, undefined, 404],
      ['POST', `${sys.urls.auth}/internal/api/grants/1/99999999999/revoke`, { 'x-internal-token': INTERNAL }, undefined, 404],
    ];
    for (const [method, url, headers, body, status] of cases) {
      const res = await http(url, { method, headers, body });
      expect([method, url, body, res.status]).toEqual([method, url, body, status]);
    }
    // The same routes still serve well-formed input.
    const created = await http(`${sys.urls.admin}/admin/members`, { method: 'POST', headers: json, body: JSON.stringify({ name: 'Zoë', email: 'zoe@example.test', password: 'pw' }) });
    expect(created.status).toBe(201);
    expect((await http(`${sys.urls.admin}/admin/members?q=zo`, { headers: adminHeaders })).json().items.map((m: { name: string }) => m.name)).toEqual(['Zoë']);
    // Nothing was answered with a 5xx, and no value reached PostgreSQL to be refused there (the
    // safety net would have answered 400 too, but logs the database's refusal).
    expect(sys.logs.lines.filter((l) => /"statusCode":5\d\d/.test(l))).toEqual([]);
    expect(sys.logs.lines.filter((l) => l.includes('QueryFailedError'))).toEqual([]);
    await ready();
  }, 60_000);

  it('no error answer quotes the request URL or its query (404s carried the master key)', async () => {
    const secret = `key=${MASTER_KEY}&pass_hash=h-${MASTER_KEY.slice(0, 8)}`;
    const probes: [string, Record<string, string>?][] = [
      [`${sys.urls.gateway}/no/such/path?${secret}`],
      [`${sys.urls.gateway}/applications/core/interface/ipsconnect/ipsconnect.phpx?${secret}`],
      [`${sys.urls.gateway}/ips%zzconnect?${secret}`], // not a valid URL component: Fastify quoted it
      [`${sys.urls.gateway}/api/%E0%A4%A?${secret}`],
      [`${sys.urls.admin}/admin/nothing?${secret}`, adminHeaders],
      [`${sys.urls.admin}/admin/members/${'1'.repeat(300)}?${secret}`, adminHeaders],
      [`${sys.urls.auth}/internal/nothing?${secret}`, { 'x-internal-token': INTERNAL }],
      [`${sys.urls.propagator}/nothing?${secret}`],
    ];
    for (const [url, headers] of probes) {
      const res = await http(url, { headers });
      expect([url, res.status >= 400 && res.status < 500]).toEqual([url, true]);
      const path = new URL(url).pathname;
      for (const fragment of [MASTER_KEY, 'pass_hash', path, 'nothing', 'no/such']) {
        expect([url, fragment, res.text.includes(fragment)]).toEqual([url, fragment, false]);
      }
      if (url.startsWith(sys.urls.admin)) {
        // Admin errors are RFC 9457 problem details; the instance is the request id, never the URL.
        expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(res.json()).toEqual({ type: 'urn:switchboard:problem:not-found', title: 'Not Found', status: res.status, detail: expect.any(String), instance: expect.stringMatching(/^urn:switchboard:request:/) });
      } else {
        expect(res.json()).toEqual({ statusCode: res.status, error: expect.any(String), message: expect.any(String) });
      }
    }
    const wrongMethod = await http(`${sys.urls.admin}/admin/members?${secret}`, { method: 'PUT', headers: adminHeaders });
    expect(wrongMethod.status).toBe(404);
    expect(wrongMethod.text).not.toContain(MASTER_KEY);
  }, 60_000);

  it('every answer carries x-content-type-options: nosniff (HTML pages, JSON, errors, health)', async () => {
    const answers = [
      await http(`${sys.urls.gateway}/ipsconnect?do=checkEmail&key=${MASTER_KEY}&email=a@example.test`),
      await http(`${sys.urls.gateway}/apps/authorize?api_key=nosuch`), // an HTML error page
      await http(`${sys.urls.gateway}/api/test.hello`),
      await http(`${sys.urls.gateway}/nowhere`),
      await http(`${sys.urls.gateway}/health/live`),
      await http(`${sys.urls.admin}/admin/slaves`),
      await http(`${sys.urls.admin}/admin/slaves`, { headers: adminHeaders }),
      await http(`${sys.urls.admin}/admin/members`, { method: 'POST', headers: json, body: '{' }),
      await http(`${sys.urls.auth}/internal/admin/settings`),
      await http(`${sys.urls.propagator}/health/ready`),
    ];
    expect(answers[1].headers.get('content-type')).toMatch(/^text\/html/);
    expect(answers.map((a) => [a.status, a.headers.get('x-content-type-options')])).toEqual(answers.map((a) => [a.status, 'nosniff']));
  }, 60_000);

  it('/metrics on the public ports needs a bearer token; the internal ports serve it as before', async () => {
    const scrape = (url: string, token?: string) => http(`${url}/metrics`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
    for (const url of [sys.urls.gateway, sys.urls.admin]) {
      const anonymous = await scrape(url);
      expect([url, anonymous.status, anonymous.headers.get('www-authenticate')]).toEqual([url, 401, 'Bearer realm="switchboard-metrics"']);
      expect(anonymous.text).not.toContain('process_cpu');
      expect([url, (await scrape(url, 'not-the-token-but-long-enough-0123456789')).status]).toEqual([url, 401]);
      const ok = await scrape(url, METRICS_TOKEN);
      expect([url, ok.status]).toEqual([url, 200]);
      expect(ok.text).toContain('process_cpu_user_seconds_total');
    }
    expect((await scrape(sys.urls.admin, ADMIN_TOKEN)).status).toBe(200);
    expect((await scrape(sys.urls.gateway, ADMIN_TOKEN)).status).toBe(401); // the gateway never holds the admin token
    for (const url of [sys.urls.auth, sys.urls.propagator]) expect([url, (await scrape(url)).status]).toEqual([url, 200]);
  }, 60_000);

  it('as started by main.ts: no /docs on the gateway, admin /docs and /metrics only with a token, health open', async () => {
    const ports = { gateway: await freePort(), admin: await freePort() };
    const env = { ...sys.env, LOG_LEVEL: 'warn', GATEWAY_PORT: String(ports.gateway), ADMIN_PORT: String(ports.admin), AUTH_URL: sys.urls.auth };
    delete (env as Record<string, string | undefined>)['METRICS_TOKEN'];
    const gateway = spawnAppFromSource('gateway', env);
    const admin = spawnAppFromSource('admin', env);
    try {
      const gw = `http://127.0.0.1:${ports.gateway}`;
      const ad = `http://127.0.0.1:${ports.admin}`;
      for (const url of [gw, ad]) {
        await waitFor(async () => (await http(`${url}/health/ready`).catch(() => ({ status: 0 }))).status === 200, 45_000, `${url} ready`);
      }
      for (const path of ['/docs', '/docs/', '/docs-json', '/docs/swagger-ui.css']) {
        expect([path, (await http(gw + path)).status]).toEqual([path, 404]);
        const anonymous = await http(ad + path);
        expect([path, anonymous.status]).toEqual([path, 401]);
        expect(anonymous.text).not.toContain('openapi');
      }
      // Other spellings of the same paths reach no document either.
      for (const path of ['/%64ocs-json', '/docs%2Djson', '/%64ocs', '/docs/%73wagger-ui-init.js']) {
        for (const base of [gw, ad]) {
          const res = await http(base + path);
          expect([base + path, res.status === 401 || res.status === 404, res.text.includes('openapi')]).toEqual([base + path, true, false]);
        }
      }
      expect((await http(`${ad}/docs-json`)).headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const doc = await http(`${ad}/docs-json`, { headers: adminHeaders });
      expect(doc.status).toBe(200);
      // The document served is the committed one (generated from the schemas that validate).
      expect(doc.json()).toEqual(JSON.parse(readFileSync(join(ROOT, 'docs/openapi.json'), 'utf8')));
      // A named admin token opens it too (the same authentication as every admin route).
      const named = (await http(`${sys.urls.admin}/admin/tokens`, { method: 'POST', headers: json, body: JSON.stringify({ name: 'docs-reader' }) })).json();
      expect((await http(`${ad}/docs-json`, { headers: { authorization: `Bearer ${named.token}` } })).status).toBe(200);
      expect((await http(`${ad}/docs`, { headers: adminHeaders })).status).toBe(200);
      // Without METRICS_TOKEN the gateway serves no scrape at all; the admin takes its own token.
      expect((await http(`${gw}/metrics`)).status).toBe(401);
      expect((await http(`${ad}/metrics`)).status).toBe(401);
      expect((await http(`${ad}/metrics`, { headers: adminHeaders })).status).toBe(200);
      expect((await http(`${gw}/health/live`)).headers.get('x-content-type-options')).toBe('nosniff');
    } finally {
      for (const p of [gateway, admin]) {
        p.child.kill('SIGTERM');
        if (p.child.exitCode === null) await new Promise((r) => p.child.once('exit', r));
      }
    }
  }, 120_000);
});
