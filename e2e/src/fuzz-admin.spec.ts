import fc from 'fast-check';
import { ADMIN_ROUTES, Auth, Fixtures, FuzzRequest, FuzzResponse, Fuzzer, RouteContext, SecretSet, controllerRoutes, hostileValue, pct, sweepRoute, tableRequest, SCALE, fuzzSystem,
} from './support/fuzz';
import { ADMIN_TOKEN, System } from './support/system';

/** Issue 10 §5: every admin route (libs/admin-api), with and without the bearer token. */
describe('fuzz: admin API', () => {
  let sys: System;
  let fx: Fixtures;
  let fz: Fuzzer;
  const secrets = new SecretSet();

  fuzzSystem(secrets, (s, f, z) => {
    sys = s;
    fx = f;
    fz = z;
  });

  const valid: Auth[] = [
    { headers: [['authorization', `Bearer ${ADMIN_TOKEN}`]], authed: true },
    { headers: [['authorization', `bearer ${ADMIN_TOKEN}`]], authed: true },
    { headers: [['Authorization', `Bearer\t${ADMIN_TOKEN}`]], authed: true },
  ];
  const invalid: Auth[] = [
    { headers: [], authed: false },
    { headers: [['authorization', 'Bearer wrong-token']], authed: false },
    { headers: [['authorization', `Bearer ${ADMIN_TOKEN}x`]], authed: false },
    { headers: [['authorization', `Bearer ${ADMIN_TOKEN.slice(0, -1)}`]], authed: false },
    { headers: [['authorization', `Bearer ${ADMIN_TOKEN.toUpperCase()}`]], authed: false },
    { headers: [['authorization', `Bearer ${ADMIN_TOKEN} ${ADMIN_TOKEN}`]], authed: false },
    { headers: [['authorization', `Bearer ${pct(ADMIN_TOKEN, /$^/)}`]], authed: false },
    { headers: [['authorization', ADMIN_TOKEN]], authed: false },
    { headers: [['authorization', `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}`]], authed: false },
    { headers: [['authorization', 'Bearer ']], authed: false },
    { headers: [['x-admin-token', ADMIN_TOKEN]], authed: false },
    { headers: [['x-internal-token', 'test-internal-token-0123456789abcdef012']], authed: false },
    // Node keeps the first of repeated Authorization headers: which one wins is not this test's question.
    { headers: [['authorization', 'Bearer wrong-token'], ['authorization', `Bearer ${ADMIN_TOKEN}`]], authed: undefined },
  ];
  const auth = (validWeight: number): fc.Arbitrary<Auth> =>
    fc.oneof(
      { weight: validWeight, arbitrary: fc.constantFrom(...valid) },
      { weight: 4, arbitrary: fc.constantFrom(...invalid) },
      { weight: 1, arbitrary: hostileValue.map((v): Auth => ({ headers: [['authorization', `Bearer ${v}`]], authed: false })) },
    );

  const context = (validWeight: number): RouteContext => ({
    service: 'admin',
    auth: auth(validWeight),
    pathValues: (p) =>
      ({
        id: [...fx.members.map((m) => String(m.id)), ...fx.slaves.map((s) => String(s.id)), ...fx.deliveryIds, '0', '-1', '2147483648', '1e1', '01', '99999999999999999999'],
        key: [fx.apps.web.apiKey, fx.apps.spare.apiKey, fx.apps.desktop.apiKey.toUpperCase(), `${fx.apps.spare.apiKey}%00`, 'x'.repeat(32)],
      })[p] ?? [],
    queryValues: (n) =>
      ({
        type: ['slave_registered', 'authn_key_fail', 'member_registered', 'SLAVE', 'a'.repeat(65)],
        slave_id: fx.slaves.map((s) => String(s.id)),
        member_id: fx.members.map((m) => String(m.id)),
        limit: ['1', '500', '501', '0', '100', '01', '-1'],
        // Cursors: of this list or another, forged, garbage (opaque base64url of `<list>:<position>`).
        cursor: ['bWVtYmVyczox', 'YXVkaXQ6OTk5OTk5OTk5OTk5OTk5OTk5OQ', 'c2xhdmVzOjE', 'dG9rZW5zOjE', 'YXBwczoxLng', 'bm9wZQ', '%2F%2F', 'a'.repeat(201), ''],
        enabled: ['true', 'false', 'TRUE', '1'],
        revoked: ['true', 'false', 'yes'],
        q: ['fuzz', 'ALICE', '%25', '_', '%5C', '%00', 'a%00b', '%C0%80', '%ED%A0%80', '%FF'],
        status: ['waiting', 'ready', 'parked', 'delivered', 'dead', 'superseded', 'DEAD'],
        days: ['1', '7', '31', '32', '0', '1.5'],
      })[n] ?? [],
    bodyValues: (f) =>
      ({
        url: [...fx.slaves.map((s) => s.url), 'http://127.0.0.1:9/x', 'javascript:alert(1)', 'http://user:pw@127.0.0.1:9/', 'ftp://127.0.0.1/', ''],
        id: [1, fx.members[0].id, 2147483647, 2147483648, 0, -1, '5'],
        name: ['Fuzz Alice', 'New Member', 'x'.repeat(255), 'x'.repeat(256), 'a\u0000b', '\u202eevil', 'ops-token', 'bootstrap', 'a'.repeat(65)],
        email: ['alice@fuzz.test', 'new@fuzz.test', 'a@b', 'no-at', `${'x'.repeat(150)}@b`],
        password: ['a password', ''],
        pass_hash: [fx.members[0].passHash, 'd41d8cd98f00b204e9800998ecf8427e', `$2a$13$${'a'.repeat(53)}`],
        pass_salt: [fx.members[0].passSalt, 'abc', 'a'.repeat(23)],
        validating: [true, false, 'true'],
        revalidate_url: ['http://127.0.0.1:9/re', null],
        global_master_key: [true, false, 'false', 0],
        title: ['App', '', 'x'.repeat(300)],
        description: ['desc'],
        type: ['web', 'desktop', 'WEB', 'mobile'],
        callback_url: ['http://127.0.0.1:9/cb', 'javascript:alert(1)', '//evil.test'],
        always_signed: [true, false],
        accept_order_a: [true, false],
        signature_mode: ['md5', 'hmac-sha256', 'none'],
        enabled: [true, false],
        allowed_networks: [['127.0.0.1/32'], ['10.0.0.0/8'], ['::1'], ['999.1.1.1/33'], '127.0.0.1'],
        daily_quota: [0, 1, 1000000, -1, 1.5],
      })[f] ?? [],
  });

  /**
   * Issue 12: every admin error answer is RFC 9457 problem details (type, title, status, detail,
   * instance), save what Node's HTTP parser answers itself before any of our code runs (no body).
   */
  const problemCheck = (req: FuzzRequest, res: FuzzResponse): string[] => {
    if (res.status < 400) return [];
    const type = res.headers.find(([n]) => n.toLowerCase() === 'content-type')?.[1] ?? '';
    if (!type && res.body.length === 0) return [];
    if (!/^application\/problem\+json/.test(type)) return [`admin ${res.status} not application/problem+json (${type || 'no content-type'})`];
    if (req.method === 'HEAD') return [];
    try {
      const p = JSON.parse(res.body.toString('utf8'));
      const complete = p.status === res.status && ['type', 'title', 'detail', 'instance'].every((k) => typeof p[k] === 'string');
      return complete ? [] : [`admin ${res.status}: problem details incomplete`];
    } catch {
      return [`admin ${res.status}: problem body is not JSON`];
    }
  };

  it('fuzzes every admin route of libs/admin-api (the route table matches the controllers)', () => {
    // The web console's pages (/admin/console) are not API routes: console.spec.ts fuzzes them.
    const declared = controllerRoutes(sys.apps.admin).filter((r) => r.includes(' /admin') && !r.includes(' /admin/console'));
    expect(declared.sort()).toEqual(ADMIN_ROUTES.map((r) => `${r.method} ${r.path}`).sort());
  });

  it('sweep: every admin route × every hostile class (NUL, invalid UTF-8, long values, hostile JSON fields, deep JSON, over 64 KiB, 2000 parameters), with and without the token', async () => {
    const pathValue = (p: string) => (p === 'key' ? fx.apps.spare.apiKey : String(fx.members[1].id));
    const unauthenticated = (r: FuzzRequest) => /deep|body of|2000|%00|every body field = "a/.test(r.note ?? '');
    const requests = ADMIN_ROUTES.flatMap((route) => [
      ...sweepRoute(route, 'admin', valid[0], pathValue),
      ...sweepRoute(route, 'admin', invalid[0], pathValue).filter(unauthenticated),
      ...sweepRoute(route, 'admin', invalid[1], pathValue).filter(unauthenticated),
    ]);
    await fz.checkList('admin: sweep', requests, { check: problemCheck });
  }, 180_000);

  it('with the admin token: hostile paths, queries, JSON bodies (invalid, deep, over 64 KiB), methods', async () => {
    await fz.check('admin: with token', tableRequest(ADMIN_ROUTES, context(40)), { numRuns: 320, check: problemCheck });
  }, 180_000);

  it('without a valid token: nothing succeeds (401, or 400/404/405/413/431 before the guard)', async () => {
    await fz.check('admin: without token', tableRequest(ADMIN_ROUTES, context(0)), { numRuns: 200, check: problemCheck });
  }, 180_000);

  it('every service is ready afterwards; no secret reached any log line', async () => {
    await fz.finalCheck();
    // Every property ran all its requests (the last check is not vacuous).
    expect(fz.sent).toBeGreaterThanOrEqual(Math.floor(520 * SCALE));
  }, 60_000);
});
