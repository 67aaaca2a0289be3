import fc from 'fast-check';
import type IORedis from 'ioredis';
import { CONSOLE_COOKIE, CONSOLE_CSP, CONSOLE_SESSION_PREFIX } from '@switchboard/admin-api';
import { sha256Hex } from '@switchboard/crypto';
import { REDIS } from '@switchboard/redis';
import { waitFor } from '@switchboard/testing';
import { ConsoleClient } from './support/console-client';
import { CONSOLE_ROUTES, DOCUMENTED_STATUSES, FuzzRequest, SWEEP_VALUES, latin1, routeRequest, sendRaw, sweepRoute } from './support/fuzz';
import { FakeSlave } from './support/fake-slave';
import { ipsClient, md5 } from './support/ips';
import { ADMIN_TOKEN, adminApi, http, MASTER_KEY as MK, startSystem, System } from './support/system';

const HOSTILE_NAME = '<script>alert("name")</script>';
const HOSTILE_REASON = '<img src=x onerror=alert(1)>';
const FAIL_LIMIT = 6;
const HASH = '$2a$13$0123456789abcdefghijke83qjoCb8ggnz2a4OYR7vO8WGClpIei.';
const SALT = '0123456789abcdefghijkl';

/** Console pages reached with GET (ids that exist are not needed: without a session nothing is read). */
const PAGES = ['/admin/console', '/admin/console/slaves', '/admin/console/deliveries', '/admin/console/deliveries/1', '/admin/console/lockouts', '/admin/console/audit', '/admin/console/audit?type=admin_action'];
/** Console forms (POST). */
const FORMS = ['/admin/console/slaves/1/disable', '/admin/console/slaves/1/enable', '/admin/console/slaves/1/retry', '/admin/console/deliveries/1/retry', '/admin/console/members/1/unlock'];

/**
 * Issue 12: the web console without a browser (console-browser.spec.ts drives it in Chromium).
 * Sessions, CSRF, CSP, escaping, bad input, and the session cookie on the admin API.
 */
describe('web console', () => {
  let sys: System;
  let slave: FakeSlave;
  let slaveId: number;
  let hostileMember: number;
  let named: { id: number; token: string };
  const clients: ConsoleClient[] = [];
  let nextAddress = 10;
  /** A client from a loopback address of its own (its own failed-authentication counter). */
  const client = () => {
    const c = new ConsoleClient(sys.urls.admin, `127.0.0.${nextAddress++}`);
    clients.push(c);
    return c;
  };
  const admin = adminApi(() => sys);
  const audit = async (type: string) => (await admin(`/admin/audit?type=${type}&limit=500`)).json().items as { details: Record<string, unknown>; slave_id: number | null; member_id: number | null }[];
  const slaveState = async () => ((await admin('/admin/slaves')).json().items as { id: number; enabled: boolean }[]).find((s) => s.id === slaveId)!;
  const signedIn = async (token = named.token) => {
    const c = client();
    const r = await c.signIn(token);
    expect(r.status).toBe(303);
    expect(r.headers.location).toBe('/admin/console');
    return c;
  };
  const expectPage = (r: { status: number; headers: Record<string, unknown>; text: string }, status: number) => {
    expect([r.status, r.headers['content-type']]).toEqual([status, 'text/html; charset=utf-8']);
    expect(r.headers['content-security-policy']).toBe(CONSOLE_CSP);
    expect(r.text).not.toMatch(/Internal server error/);
  };

  beforeAll(async () => {
    sys = await startSystem({}, { adminAuthFailLimit: FAIL_LIMIT });
    const ips = ipsClient(sys.urls.gateway);
    slave = await new FakeSlave('console-spec-slave-0123456789').start();
    expect((await ips.get({ do: 'verifySettings', key: MK, url: slave.url, ourKey: slave.key })).json().status).toBe('SUCCESS');
    slaveId = ((await admin('/admin/slaves')).json().items as { id: number; url: string }[]).find((s) => s.url === slave.url)!.id;
    named = (await admin('/admin/tokens', 'POST', { name: 'console-ops' })).json();
    // A member with a hostile name, locked by five wrong IPS logins.
    const m = await admin('/admin/members', 'POST', { name: HOSTILE_NAME, email: 'hostile@example.test', password: 'correct horse' });
    expect(m.status).toBe(201);
    hostileMember = m.json().id;
    for (let i = 0; i < 5; i++) await ips.get({ do: 'login', key: md5(MK, HOSTILE_NAME), id: HOSTILE_NAME, idType: '1', password: md5(`wrong ${i}`) });
    await waitFor(async () => (await admin('/admin/members/locked')).json().items.some((x: { id: number }) => x.id === hostileMember), 20_000, 'the member locked');
  }, 180_000);

  afterAll(async () => {
    for (const c of clients) c.close();
    await slave?.stop();
    await sys?.stop();
  }, 180_000);

  it('without a session: every page redirects to the sign-in page, every form is refused (401), nothing is read', async () => {
    for (const cookie of [undefined, `${CONSOLE_COOKIE}=garbage`, `${CONSOLE_COOKIE}=${'a'.repeat(43)}`]) {
      const c = client();
      const headers = cookie ? { cookie } : {};
      for (const path of PAGES) {
        const r = await c.get(path, headers);
        expect([path, r.status, r.headers.location]).toEqual([path, 303, '/admin/console/sign-in']);
      }
      for (const path of FORMS) {
        const r = await c.post(path, { _csrf: 'x' }, headers);
        expectPage(r, 401);
        expect(r.text).toContain('href="/admin/console/sign-in"');
      }
      const signOut = await c.post('/admin/console/sign-out', { _csrf: 'x' }, headers);
      expect([signOut.status, signOut.headers.location]).toEqual([303, '/admin/console/sign-in']);
    }
    expect((await slaveState()).enabled).toBe(true);
    // The sign-in page and the stylesheet are public.
    const c = client();
    const page = await c.get('/admin/console/sign-in');
    expectPage(page, 200);
    expect(page.text).toContain('name="token"');
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.headers['cache-control']).toBe('no-store');
    const css = await c.get('/admin/console/console.css');
    expect([css.status, css.headers['content-type']]).toEqual([200, 'text/css; charset=utf-8']);
  }, 60_000);

  it('a wrong token is refused and audited; the failure limit applies to the sign-in form too', async () => {
    const c = client();
    const wrong = await c.signIn('sbat_not-a-real-token-0123456789abcdef0123456789');
    expectPage(wrong, 401);
    expect(wrong.text).toContain('not a valid admin token');
    expect(wrong.text).not.toContain('sbat_not-a-real-token');
    expect(wrong.headers['set-cookie']).toBeUndefined();
    await waitFor(async () => (await audit('admin_authn_fail')).some((e) => e.details['address'] === c.localAddress && e.details['reason'] === 'unknown'), 10_000, 'the failure audited');
    for (let i = 1; i < FAIL_LIMIT; i++) expect((await c.signIn(`wrong-${i}`)).status).toBe(401);
    // Over the limit: refused whatever it sends, the right token included, and the pages too.
    const limited = await c.signIn(ADMIN_TOKEN);
    expectPage(limited, 429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.headers['set-cookie']).toBeUndefined();
    expect((await audit('admin_authn_rate_limited')).some((e) => e.details['address'] === c.localAddress)).toBe(true);
    // Another address is not affected.
    expect((await client().signIn(ADMIN_TOKEN)).status).toBe(303);
  }, 60_000);

  it('signs in with a named token: an HttpOnly, SameSite=Strict session cookie on /admin, a session in Redis without the token; the admin API accepts it', async () => {
    const c = client();
    const r = await c.signIn(`  ${named.token}\n`);
    expect(r.status).toBe(303);
    const cookie = (r.headers['set-cookie'] ?? [])[0];
    expect(cookie).toMatch(new RegExp(`^${CONSOLE_COOKIE}=[A-Za-z0-9_-]{43}; Path=/admin; Max-Age=43200; HttpOnly; SameSite=Strict$`));
    const id = c.cookies.get(CONSOLE_COOKIE)!;
    const redis = sys.apps.admin.get<IORedis>(REDIS, { strict: false });
    const stored = await redis.hgetall(CONSOLE_SESSION_PREFIX + sha256Hex(id));
    expect(stored).toMatchObject({ n: 'console-ops', t: String(named.id) });
    expect(JSON.stringify(stored)).not.toContain(named.token);
    expect(JSON.stringify(stored)).not.toContain(id);
    expect(await redis.ttl(CONSOLE_SESSION_PREFIX + sha256Hex(id))).toBeGreaterThan(7 * 3600);
    const overview = await c.get('/admin/console');
    expectPage(overview, 200);
    expect(overview.text).toContain('Signed in as <strong id="who">console-ops</strong>');
    // The same cookie authenticates the admin API (and so the queue dashboard): reads…
    const api = await c.get('/admin/slaves');
    expect(api.status).toBe(200);
    expect(JSON.parse(api.text).items.some((s: { id: number }) => s.id === slaveId)).toBe(true);
    // …and, from this origin, changes (the dashboard's own calls carry no CSRF token), audited under the token's name.
    const validate = await c.request('POST', `/admin/members/${hostileMember}/validate`);
    expect(validate.status).toBe(200);
    await waitFor(
      async () => (await audit('admin_action')).find((e) => e.details['route'] === '/admin/members/:id/validate' && e.details['token_name'] === 'console-ops'),
      10_000,
      'the API action audited with the token name',
    );
    // The sign-in itself is an admin action of that token.
    expect((await audit('admin_action')).some((e) => e.details['route'] === '/admin/console/sign-in' && e.details['token_name'] === 'console-ops' && e.details['status'] === 303)).toBe(true);
  }, 60_000);

  it('CSRF: a form without the session\'s token, or from another origin, is refused (403), audited, and changes nothing', async () => {
    const c = await signedIn();
    const csrf = await c.csrf();
    const path = `/admin/console/slaves/${slaveId}/disable`;
    const refused = [
      await c.post(path, { _csrf: '' }),
      await c.request('POST', path, { form: { reason: 'no token' } }),
      await c.post(path, { _csrf: `${csrf}x` }),
      await c.post(path, { _csrf: csrf }, { origin: 'http://evil.example' }),
      await c.post(path, { _csrf: csrf }, { origin: 'null' }),
      await c.post(path, { _csrf: csrf }, { origin: undefined }),
      await c.post(path, { _csrf: csrf }, { origin: undefined, 'sec-fetch-site': 'cross-site' }),
      await c.post(path, { _csrf: csrf }, { 'sec-fetch-site': 'same-site' }),
      await c.request('POST', path, { form: `_csrf=${csrf}&_csrf=${csrf}` }),
    ];
    for (const r of refused) {
      expectPage(r, 403);
      expect(r.text).toMatch(/refused/i);
    }
    expect((await slaveState()).enabled).toBe(true);
    const entries = await audit('admin_csrf_refused');
    expect(entries.filter((e) => e.details['token_name'] === 'console-ops' && e.details['route'] === '/admin/console/slaves/:id/disable').map((e) => e.details['reason']).sort()).toEqual(
      expect.arrayContaining(['origin', 'origin', 'origin', 'origin', 'origin', 'token', 'token', 'token', 'token']),
    );
    // The admin API with the cookie: another origin refused too (problem details), a bearer call never.
    const api = await c.request('POST', `/admin/slaves/${slaveId}/disable`, { json: {}, headers: { origin: 'http://evil.example' } });
    expect(api.status).toBe(403);
    expect(JSON.parse(api.text)).toMatchObject({ status: 403, code: 'csrf' });
    expect((await slaveState()).enabled).toBe(true);
    // The sign-in form from another site is refused as well.
    const foreign = await client().request('POST', '/admin/console/sign-in', { form: { token: ADMIN_TOKEN }, headers: { origin: 'http://evil.example' } });
    expectPage(foreign, 403);
    expect(foreign.headers['set-cookie']).toBeUndefined();
    // With the token, from this origin: done, and audited with the token's name.
    const ok = await c.post(path, { _csrf: csrf, reason: HOSTILE_REASON });
    expect([ok.status, ok.headers.location]).toEqual([303, `/admin/console/slaves?ok=disabled&n=${slaveId}`]);
    expect(await slaveState()).toMatchObject({ enabled: false });
    const done = await c.get(ok.headers.location!);
    expect(done.text).toContain(`Slave ${slaveId} is disabled`);
    await waitFor(
      async () => (await audit('admin_action')).find((e) => e.details['route'] === '/admin/console/slaves/:id/disable' && e.details['token_name'] === 'console-ops' && e.slave_id === slaveId),
      10_000,
      'the console action audited',
    );
    const on = await c.post(`/admin/console/slaves/${slaveId}/enable`);
    expect(on.status).toBe(303);
    expect((await slaveState()).enabled).toBe(true);
  }, 60_000);

  it('hostile strings from members, slaves and the audit render inert', async () => {
    const c = await signedIn();
    // The disable reason of the test above is in the audit; a fresh one shows on the slave page.
    const csrf = await c.csrf();
    expect((await c.post(`/admin/console/slaves/${slaveId}/disable`, { _csrf: csrf, reason: HOSTILE_REASON })).status).toBe(303);
    const slaves = await c.get('/admin/console/slaves');
    expectPage(slaves, 200);
    expect(slaves.text).toContain('admin: &lt;img src=x onerror=alert(1)&gt;');
    expect(slaves.text).not.toContain(HOSTILE_REASON);
    expect((await c.post(`/admin/console/slaves/${slaveId}/enable`, { _csrf: csrf })).status).toBe(303);
    const lockouts = await c.get('/admin/console/lockouts');
    expectPage(lockouts, 200);
    expect(lockouts.text).toContain('&lt;script&gt;alert(&quot;name&quot;)&lt;/script&gt;');
    expect(lockouts.text).not.toContain(HOSTILE_NAME);
    const log = await c.get('/admin/console/audit');
    expect(log.text).not.toMatch(/<script>alert|<img src=x/);
    // A hostile filter value is refused by its rule, not echoed.
    const bad = await c.get(`/admin/console/audit?type=${encodeURIComponent('"><script>x</script>')}`);
    expectPage(bad, 400);
    expect(bad.text).not.toContain('<script>x');
    expect(bad.text).toContain('type: must be an event type');
  }, 60_000);

  it('a slave registered by an admin but not verified yet shows as awaiting verifySettings, with no Enable button', async () => {
    const issued = (await admin('/admin/slaves', 'POST', { url: 'http://127.0.0.1:9/console-unverified.php' })).json();
    const c = await signedIn();
    const page = await c.get('/admin/console/slaves');
    expectPage(page, 200);
    const row = page.text.slice(page.text.indexOf(`<tr data-slave="${issued.id}">`));
    const own = row.slice(0, row.indexOf('</tr>'));
    expect(own).toContain('awaiting verifySettings');
    expect(own).not.toContain('data-test="enable"');
    expect((await admin(`/admin/slaves/${issued.id}`, 'DELETE')).status).toBe(204);
  }, 60_000);

  it('unlock from the console: the member is no longer locked; the action is audited', async () => {
    const c = await signedIn();
    const lockouts = await c.get('/admin/console/lockouts');
    expect(lockouts.text).toContain(`data-member="${hostileMember}"`);
    const r = await c.post(`/admin/console/members/${hostileMember}/unlock`);
    expect([r.status, r.headers.location]).toEqual([303, `/admin/console/lockouts?ok=unlocked&n=${hostileMember}`]);
    expect((await admin('/admin/members/locked')).json().items.some((x: { id: number }) => x.id === hostileMember)).toBe(false);
    const after = await c.get(r.headers.location!);
    expect(after.text).toContain(`Member ${hostileMember} is unlocked.`);
    expect(after.text).not.toContain(`data-member="${hostileMember}"`);
    await waitFor(async () => (await audit('admin_action')).some((e) => e.details['route'] === '/admin/console/members/:id/unlock' && e.member_id === hostileMember), 10_000, 'unlock audited');
  }, 60_000);

  it('bad ids and bad filters answer 400/404 pages, never 500', async () => {
    const c = await signedIn();
    const csrf = await c.csrf();
    const pages: [string, number][] = [
      ['/admin/console/deliveries/abc', 404],
      ['/admin/console/deliveries/0', 404],
      ['/admin/console/deliveries/99999999999', 404],
      [`/admin/console/deliveries/${'9'.repeat(40)}`, 404],
      ['/admin/console/deliveries/1%00', 404],
      ['/admin/console/deliveries?status=nope', 400],
      ['/admin/console/deliveries?slave_id=-1', 400],
      ['/admin/console/deliveries?member_id=2147483648', 400],
      ['/admin/console/deliveries?cursor=bm9wZQ', 400],
      ['/admin/console/audit?since=yesterday', 400],
      ['/admin/console/audit?until=2025-02-30T10:00', 400],
      ['/admin/console/audit?type=a&type=b', 400],
      ['/admin/console/audit?limit=0', 400],
      ['/admin/console/audit?slave_id=%00', 400],
      ['/admin/console/audit?bogus=1', 400],
      ['/admin/console/slaves?enabled=yes', 400],
      ['/admin/console/lockouts?cursor=%FF', 400],
    ];
    for (const [path, status] of pages) {
      const r = await c.get(path);
      expect([path, r.status]).toEqual([path, status]);
      expectPage(r, status);
    }
    const forms: [string, number][] = [
      ['/admin/console/slaves/abc/disable', 404],
      ['/admin/console/slaves/2147483648/enable', 404],
      ['/admin/console/slaves/999999/enable', 404],
      ['/admin/console/slaves/999999/retry', 404],
      ['/admin/console/deliveries/x/retry', 404],
      ['/admin/console/deliveries/99999999/retry', 404],
      ['/admin/console/members/0/unlock', 404],
      ['/admin/console/members/999999/unlock', 404],
    ];
    for (const [path, status] of forms) {
      const r = await c.post(path, { _csrf: csrf });
      expect([path, r.status]).toEqual([path, status]);
      expectPage(r, status);
    }
    // A reason breaking its rule: 400 naming the field; nothing changes.
    const reason = await c.post(`/admin/console/slaves/${slaveId}/disable`, { _csrf: csrf, reason: 'a\nb' });
    expectPage(reason, 400);
    expect(reason.text).toContain('reason:');
    const long = await c.post(`/admin/console/slaves/${slaveId}/disable`, { _csrf: csrf, reason: 'x'.repeat(201) });
    expectPage(long, 400);
    expect((await slaveState()).enabled).toBe(true);
    // A JSON or multipart body is no form: no CSRF token, refused.
    expectPage(await c.request('POST', `/admin/console/slaves/${slaveId}/disable`, { json: { _csrf: csrf } }), 403);
  }, 60_000);

  it('a session ends on sign-out, on its token\'s revocation, when ADMIN_TOKEN changes, and past its absolute limit', async () => {
    const redis = sys.apps.admin.get<IORedis>(REDIS, { strict: false });
    const keyOf = (c: ConsoleClient) => CONSOLE_SESSION_PREFIX + sha256Hex(c.cookies.get(CONSOLE_COOKIE)!);
    const ended = async (c: ConsoleClient, cookie: string) => {
      const page = await c.get('/admin/console', { cookie });
      expect([page.status, page.headers.location]).toEqual([303, '/admin/console/sign-in']);
      const api = await c.get('/admin/slaves', { cookie });
      expect(api.status).toBe(401);
      // The answer clears the cookie; an ended session is no failed authentication.
      expect(api.headers['set-cookie']?.[0]).toMatch(new RegExp(`^${CONSOLE_COOKIE}=; Path=/admin; Max-Age=0`));
    };
    // Sign-out.
    const a = await signedIn();
    const cookieA = a.cookieHeader;
    const keyA = keyOf(a);
    const out = await a.post('/admin/console/sign-out');
    expect([out.status, out.headers.location]).toEqual([303, '/admin/console/sign-in?ok=signed-out']);
    expect(out.headers['set-cookie']?.[0]).toMatch(new RegExp(`^${CONSOLE_COOKIE}=; Path=/admin; Max-Age=0`));
    expect(await redis.exists(keyA)).toBe(0);
    expect((await a.get(out.headers.location!)).text).toContain('You have signed out.');
    await ended(a, cookieA);
    // Revocation of its named token.
    const token = (await admin('/admin/tokens', 'POST', { name: 'soon-revoked' })).json();
    const b = await signedIn(token.token);
    expect((await b.get('/admin/console')).status).toBe(200);
    const [keyB, cookieB] = [keyOf(b), b.cookieHeader];
    expect((await admin(`/admin/tokens/${token.id}`, 'DELETE')).status).toBe(200);
    await ended(b, cookieB);
    expect(await redis.exists(keyB)).toBe(0);
    // A page left open on an ended session (the queue dashboard polls every 5 s) neither fills the
    // audit nor brings the address to its failure limit (20 a minute).
    const failuresBefore = (await audit('admin_authn_fail')).length;
    for (let i = 0; i < 25; i++) expect((await b.get('/admin/queues/api/queues', { cookie: cookieB })).status).toBe(401);
    expect((await audit('admin_authn_fail')).length).toBe(failuresBefore);
    expect((await b.get('/admin/slaves')).status).toBe(401);
    const again = await signedIn(ADMIN_TOKEN);
    expect((await again.get('/admin/console')).status).toBe(200);
    // A cookie of the same name planted first (by a sibling host, for a longer path) hides no live session.
    expect((await again.get('/admin/console', { cookie: `${CONSOLE_COOKIE}=${'A'.repeat(43)}; ${again.cookieHeader}` })).status).toBe(200);
    // A bootstrap session opened with another ADMIN_TOKEN (its fingerprint differs).
    const c = await signedIn(ADMIN_TOKEN);
    expect((await c.get('/admin/console')).text).toContain('<strong id="who">bootstrap</strong>');
    await redis.hset(keyOf(c), 'b', sha256Hex('an earlier ADMIN_TOKEN'));
    await ended(c, c.cookieHeader);
    // Twelve hours after sign-in, used or not.
    const d = await signedIn();
    const keyD = keyOf(d);
    await redis.hset(keyD, 'ca', String(Date.now() - 12 * 3600 * 1000 - 1000));
    await ended(d, d.cookieHeader);
    expect(await redis.exists(keyD)).toBe(0);
  }, 60_000);

  it('overview: counts, a failing slave, every service\'s readiness', async () => {
    slave.mode = 'http500';
    const ips = ipsClient(sys.urls.gateway);
    const reg = await ips.get({ do: 'register', key: MK, name: 'Failing Line', email: 'failing@example.test', pass_hash: HASH, pass_salt: SALT });
    expect(reg.json().status).toBe('SUCCESS');
    await waitFor(async () => (await admin(`/admin/deliveries?slave_id=${slaveId}&status=dead`)).json().items.length > 0, 30_000, 'a dead delivery');
    const c = await signedIn();
    const page = await c.get('/admin/console');
    expectPage(page, 200);
    expect(page.text).toMatch(/<tr data-slave="\d+">/);
    expect(page.text).toContain(`<tr data-slave="${slaveId}">`);
    for (const service of ['gateway', 'auth', 'admin', 'propagator']) expect(page.text).toMatch(new RegExp(`<tr data-service="${service}"><td>${service}</td><td><span class="badge ok">(ready|connected)</span>`));
    expect(page.text).toMatch(/<div class="card bad" data-card="dead deliveries"><div class="n"><a href="[^"]+">[1-9]/);
    slave.mode = 'ok';
  }, 90_000);

  it('Redis unreachable: sign-in and console pages answer 503 (fail closed); the API with a bearer token goes on', async () => {
    const c = await signedIn();
    const redis = sys.apps.admin.get<IORedis>(REDIS, { strict: false });
    redis.disconnect();
    try {
      const page = await c.get('/admin/console/slaves');
      expectPage(page, 503);
      expect(page.text).toContain('Redis');
      expect(Number(page.headers['retry-after'])).toBeGreaterThan(0);
      const fresh = await client().signIn(ADMIN_TOKEN);
      expectPage(fresh, 503);
      expect(fresh.headers['set-cookie']).toBeUndefined();
      expect((await c.get('/admin/slaves')).status).toBe(503);
      expect((await admin('/admin/members')).status).toBe(200);
    } finally {
      await redis.connect();
    }
    await waitFor(async () => (await c.get('/admin/console')).status === 200, 15_000, 'the session usable again');
  }, 60_000);

  it('hostile requests on every console route (a sweep and 300 generated ones, with and without a session): never a 5xx', async () => {
    const c = await signedIn();
    const csrf = await c.csrf();
    const port = Number(new URL(sys.urls.admin).port);
    const origin = new URL(sys.urls.admin).origin;
    const session: [string, string][] = [['cookie', c.cookieHeader], ['origin', origin]];
    const auths = [
      { headers: session, authed: true },
      { headers: [['origin', origin]] as [string, string][], authed: false },
      { headers: [['cookie', `${CONSOLE_COOKIE}=${'A'.repeat(43)}`], ['origin', origin]] as [string, string][], authed: false },
      { headers: [['cookie', c.cookieHeader], ['origin', 'http://evil.example']] as [string, string][], authed: true },
    ];
    const requests: FuzzRequest[] = CONSOLE_ROUTES.flatMap((route) => sweepRoute(route, 'admin', auths[0], () => '999999'));
    // Forms with the session's CSRF token and hostile fields or ids.
    for (const route of CONSOLE_ROUTES.filter((r) => r.method === 'POST' && r.path.includes(':id'))) {
      for (const v of [...SWEEP_VALUES, '1', '0', '2147483648', '%3Cscript%3E']) {
        requests.push({ route: `${route.method} ${route.path}`, service: 'admin', method: 'POST', target: route.path.replace(':id', v), headers: [...session, ['content-type', 'application/x-www-form-urlencoded']], body: latin1(`_csrf=${csrf}&reason=${v}&back=${v}`), authed: true });
      }
    }
    const generated = fc.sample(
      fc.oneof(
        ...CONSOLE_ROUTES.filter((r) => r.path !== '/admin/console/sign-out').map((route) =>
          routeRequest(route, {
            service: 'admin',
            auth: fc.constantFrom(...auths),
            pathValues: () => ['1', '2', '999999', '0', 'abc'],
            queryValues: (n) => ({ status: ['dead', 'all', 'nope'], type: ['admin_action', 'A'], since: ['2025-01-01T00:00', '2025-02-30T00:00'], until: ['2030-01-01T00:00:00'], enabled: ['true', 'no'], limit: ['1', '0', '501'], cursor: ['YXVkaXQ6MQ', 'x'] })[n] ?? ['1'],
            bodyValues: (f) => ({ _csrf: [csrf, ''], reason: ['maintenance', 'a\nb', '<b>'], back: ['detail', 'list'], token: ['wrong', ''] })[f] ?? [],
          }),
        ),
      ),
      { numRuns: 300, seed: 1212 },
    );
    const failures: string[] = [];
    for (const req of [...requests, ...generated]) {
      // Wrong tokens on the sign-in form count against their address: they come from one of their own.
      const out = await sendRaw(port, req, 30_000, req.route.startsWith('POST /admin/console/sign-in') ? '127.0.0.251' : '127.0.0.250');
      if (out.kind !== 'response') {
        failures.push(`${req.route} ${req.note ?? ''}: ${out.kind === 'error' ? out.message : 'aborted'}`);
        continue;
      }
      const { status } = out.res;
      if (!DOCUMENTED_STATUSES.has(status) && status !== 503) failures.push(`${req.method} ${req.target.slice(0, 80)} ${req.note ?? ''}: HTTP ${status}`);
    }
    expect(failures).toEqual([]);
    expect(requests.length + generated.length).toBeGreaterThan(400);
  }, 300_000);
});
