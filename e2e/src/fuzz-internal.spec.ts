import fc from 'fast-check';
import { API_PATHS } from '@switchboard/app-api';
import { INTERNAL_CONTRACTS } from '@switchboard/contracts';
import { IPS_CONNECT_PATHS, IPS_PARAM_NAMES } from '@switchboard/ips-protocol';
import {
  Auth, Fixtures, FuzzRequest, FuzzResponse, Fuzzer, GATEWAY_ROUTES, INTERNAL_ROUTES, PROPAGATOR_INTERNAL_ROUTES, ADMIN_ROUTES, CONSOLE_ROUTES, RouteContext, SERVICE_ROUTES, SecretSet, ServiceName, controllerRoutes, hostileValue,
  jsonLeaf, sendRaw, sweepRoute, tableRequest, SCALE,
  fuzzSystem,
} from './support/fuzz';
import { ADMIN_TOKEN, MASTER_KEY, System } from './support/system';

/**
 * Issue 10 §5: the auth service's internal routes with and without `x-internal-token`, and the
 * health, metrics and docs routes of every service.
 */
/**
 * GET /internal/keyring and GET /internal/app-keys hand the key material to the gateway: with the
 * internal token, a success carries the master keys and slaves' keys, or the application secrets, by
 * design (and only then: without the token it is 401).
 */
const keyringHandover = (req: FuzzRequest, res: FuzzResponse): string[] =>
  req.authed !== true || res.status !== 200
    ? []
    : req.route === 'GET /internal/keyring'
      ? ['MASTER_KEY', 'per-slave master key', 'slave key A', 'slave key B', 'slave key C']
      : req.route === 'GET /internal/app-keys'
        ? ['web app secret', 'desktop app secret', 'spare app secret']
        : [];

describe('fuzz: internal routes and service routes', () => {
  let sys: System;
  let fx: Fixtures;
  let fz: Fuzzer;
  const secrets = new SecretSet();

  fuzzSystem(secrets, (s, f, z) => {
    sys = s;
    fx = f;
    fz = z;
  });

  const token = () => fx.env['INTERNAL_TOKEN'];
  const auth = (validWeight: number): fc.Arbitrary<Auth> =>
    fc.oneof(
      {
        weight: validWeight,
        // Node trims header values and matches names case-insensitively: these are the token.
        arbitrary: fc.constantFrom<Auth>({ headers: [['x-internal-token', token()]], authed: true }, { headers: [['X-Internal-Token', ` ${token()} `]], authed: true }),
      },
      {
        weight: 4,
        arbitrary: fc.constantFrom<Auth>(
          { headers: [], authed: false },
          { headers: [['x-internal-token', 'guess']], authed: false },
          { headers: [['x-internal-token', `${token()}x`]], authed: false },
          { headers: [['x-internal-token', token().slice(0, -1)]], authed: false },
          { headers: [['x-internal-token', token().toUpperCase()]], authed: false },
          { headers: [['authorization', `Bearer ${token()}`]], authed: false },
          { headers: [['x-internal-token', '']], authed: false },
          // Repeated: Node joins them with ", ", which is not the token.
          { headers: [['x-internal-token', token()], ['x-internal-token', token()]], authed: false },
        ),
      },
      { weight: 1, arbitrary: hostileValue.map((v): Auth => ({ headers: [['x-internal-token', v]], authed: false })) },
    );

  const ipsParams = fc.dictionary(
    fc.oneof(fc.constantFrom(...IPS_PARAM_NAMES), fc.string({ maxLength: 8 })),
    fc.oneof(fc.constantFrom<unknown>(MASTER_KEY, '1', '2', 'alice@fuzz.test', 'http://127.0.0.1:9/x', null), jsonLeaf),
    { maxKeys: 6 },
  );
  const pairsParam = fc.array(fc.oneof(fc.tuple(fc.constantFrom('api_key', 'api_sig', 'perm_profile', 'echo', 'frob'), fc.string({ unit: 'binary', maxLength: 12 })), jsonLeaf), { maxLength: 6 });

  const context = (service: ServiceName, validWeight: number): RouteContext => ({
    service,
    auth: auth(validWeight),
    pathValues: (p) =>
      ({
        id: [...fx.members.map((m) => String(m.id)), '0', '-1', '2147483648', '1e1', 'NaN'],
        member: [...fx.members.map((m) => String(m.id)), '0', '-1', '1.5', '1e1', 'NaN', 'Infinity', '2147483648', '99999999999999999999'],
        grant: [String(fx.grantId), '0', '-1', 'NaN', '1e1', '99999999999999999999'],
        key: [fx.apps.web.apiKey, fx.apps.spare.apiKey, `${fx.apps.desktop.apiKey}%00`, 'x'.repeat(32)],
        file: ['index.html', 'swagger-ui.css', 'swagger-ui-init.js', '..%2F..%2Fpackage.json', '%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd', '....//....//etc/passwd', '%00', 'x'.repeat(300)],
      })[p] ?? [],
    queryValues: (n) => ({ days: ['1', '7', '31', '32', '0', '1.5', 'NaN'], 'name[]': ['http_requests_total', 'process_cpu_seconds_total'] })[n] ?? [],
    bodyValues: (f) =>
      ({
        url: [...fx.slaves.map((s) => s.url), 'http://127.0.0.1:9/x', 'javascript:alert(1)', ''],
        id: [1, 2147483648, -1],
        name: ['Fuzz Alice', 'a\u0000b'],
        email: ['alice@fuzz.test', 'x@y'],
        password: ['pw'],
        pass_hash: [fx.members[0].passHash],
        pass_salt: [fx.members[0].passSalt, 'abc'],
        global_master_key: [true, false, 'no'],
        action: ['verifySettings', 'fetchSalt', 'login', 'register', 'checkEmail', 'changeName', 'crossLogin', 'logout', 'nosuch', '__proto__'],
        params: [{ key: MASTER_KEY, id: String(fx.members[0].id) }, { key: MASTER_KEY, email: 'a\u0000b' }, [['api_key', fx.apps.web.apiKey]], [], {}],
        remoteAddress: ['127.0.0.1', null, '::1', 'not an ip', 'x'.repeat(1000)],
        requestId: ['r1', null],
        method: ['test.echo', 'auth.checkToken', 'account.setName', 'nosuch', ''],
        httpMethod: ['GET', 'POST', 'DELETE', 'x'.repeat(11)],
        undecodable: [true, false, 'yes'],
        // Bob's sign-in is cheap (legacy md5 salt); other names cost one bcrypt hash each.
        login: ['Fuzz Bob', 'bob@fuzz.test', 'Fuzz\u0000Bob', ''],
        memberId: [fx.members[1].id, 0, -1, 1.5, '2'],
        // /internal/api/execute: the grant is never the fixtures' real one (the token stays usable).
        apiKey: [fx.apps.spare.apiKey, fx.apps.desktop.apiKey, 'x'.repeat(32), `${fx.apps.spare.apiKey}\u0000`],
        grantId: [null, 0, -1, 1.5, 2147483648, '1'],
        title: ['App'],
        type: ['web', 'desktop', 'x'],
        callback_url: ['http://127.0.0.1:9/cb'],
        signature_mode: ['md5', 'hmac-sha256', 'x'],
        allowed_networks: [['127.0.0.1/32'], ['nope']],
        daily_quota: [0, 10, -5],
      })[f] ?? [],
  });

  it('fuzzes every route of every service (the route tables match the controllers)', () => {
    const table = (routes: { method: string; path: string }[]) => routes.map((r) => `${r.method} ${r.path}`);
    const service = table(SERVICE_ROUTES.filter((r) => !r.path.startsWith('/docs')));
    expect(controllerRoutes(sys.apps.auth).sort()).toEqual([...table(INTERNAL_ROUTES), ...service].sort());
    expect(controllerRoutes(sys.apps.admin).sort()).toEqual([...table(ADMIN_ROUTES), ...table(CONSOLE_ROUTES), ...service].sort());
    // IPS Connect's paths are registered straight on Fastify (the slaves' hot path), not as a controller.
    const fastify = sys.apps.gateway.getHttpAdapter().getInstance();
    const rawIps = IPS_CONNECT_PATHS.filter((p) => ['GET', 'POST', 'HEAD', 'PUT', 'DELETE'].every((method) => fastify.hasRoute({ method, url: `/${p}` }))).map((p) => `ALL /${p}`);
    expect(rawIps).toHaveLength(IPS_CONNECT_PATHS.length);
    // So are the application API's.
    const rawApi = API_PATHS.filter((url) => ['GET', 'POST', 'PUT'].every((method) => fastify.hasRoute({ method, url }))).map((url) => `ALL ${url}`);
    expect(rawApi).toHaveLength(API_PATHS.length);
    expect([...controllerRoutes(sys.apps.gateway), ...rawIps, ...rawApi].sort()).toEqual([...GATEWAY_ROUTES, ...service].sort());
    expect(controllerRoutes(sys.apps.propagator).sort()).toEqual([...table(PROPAGATOR_INTERNAL_ROUTES), ...service].sort());
    // Every internal route is one contract of libs/contracts (its messages checked on both sides), and
    // every contract is a route.
    const contracts = (service: string) => table(INTERNAL_CONTRACTS.filter((c) => c.service === service)).sort();
    expect(contracts('auth')).toEqual(table(INTERNAL_ROUTES).sort());
    expect(contracts('propagator')).toEqual(table(PROPAGATOR_INTERNAL_ROUTES).sort());
    expect(new Set(INTERNAL_CONTRACTS.map((c) => c.name)).size).toBe(INTERNAL_CONTRACTS.length);
  });

  it('regressions found by this fuzzer: ids and keys that name nothing answer 404, not 500 (int4 overflow, NaN, NUL reaching SQL)', async () => {
    const status = async (service: ServiceName, method: string, target: string, headers: [string, string][], body?: string) => {
      const out = await sendRaw(fz.port(service), { route: 'regression', service, method, target, headers, body: body === undefined ? undefined : Buffer.from(body) });
      return out.kind === 'response' ? out.res.status : out.kind;
    };
    const internal: [string, string][] = [['x-internal-token', token()]];
    const bob = fx.members[1].id;
    expect(await status('auth', 'GET', `/internal/api/grants/${bob}`, internal)).toBe(200);
    expect(await status('auth', 'GET', '/internal/api/grants/2147483648', internal)).toBe(404);
    expect(await status('auth', 'POST', '/internal/api/grants/abc/1/revoke', internal)).toBe(404);
    expect(await status('auth', 'POST', `/internal/api/grants/${bob}/abc/revoke`, internal)).toBe(404);
    expect(await status('auth', 'POST', `/internal/api/grants/${bob}/2147483648/revoke`, internal)).toBe(404);
    expect(await status('auth', 'POST', `/internal/admin/apps/${fx.apps.spare.apiKey}%00/rotate-secret`, internal)).toBe(404);
    expect(await status('auth', 'GET', `/internal/admin/apps/${fx.apps.spare.apiKey}%00/usage`, internal)).toBe(404);
    const admin: [string, string][] = [['authorization', `Bearer ${ADMIN_TOKEN}`]];
    expect(await status('admin', 'DELETE', `/admin/apps/${fx.apps.spare.apiKey}%00`, admin)).toBe(404);
    expect(await status('admin', 'PATCH', `/admin/apps/${fx.apps.spare.apiKey}%00`, [...admin, ['content-type', 'application/json']], '{"enabled":true}')).toBe(404);
    expect(await status('admin', 'GET', `/admin/apps/${fx.apps.spare.apiKey}/usage`, admin)).toBe(200);
  }, 60_000);

  it('sweep: every internal route × every hostile class, with and without the token', async () => {
    const pathValue = (p: string) => ({ key: fx.apps.spare.apiKey, grant: String(fx.grantId) })[p] ?? String(fx.members[1].id);
    const withToken: Auth = { headers: [['x-internal-token', token()]], authed: true };
    const unauthenticated = (r: FuzzRequest) => /deep|body of|2000|%00|every body field = "a/.test(r.note ?? '');
    const requests = INTERNAL_ROUTES.flatMap((route) => [
      ...sweepRoute(route, 'auth', withToken, pathValue),
      ...sweepRoute(route, 'auth', { headers: [], authed: false }, pathValue).filter(unauthenticated),
      ...sweepRoute(route, 'auth', { headers: [['x-internal-token', `${token()}x`]], authed: false }, pathValue).filter(unauthenticated),
    ]);
    await fz.checkList('internal: sweep', requests, { mayCarry: keyringHandover });
  }, 180_000);

  it('auth internal routes with the internal token: hostile paths, queries and JSON bodies', async () => {
    const arb = tableRequest(INTERNAL_ROUTES, context('auth', 40));
    const withParams = arb.chain((req) =>
      req.route.startsWith('POST /internal/ipsconnect') || req.route.startsWith('POST /internal/api/')
        ? fc.oneof(
            { weight: 3, arbitrary: fc.constant(req) },
            {
              weight: 2,
              arbitrary: fc.tuple(ipsParams, pairsParam, fc.constantFrom('verifySettings', 'fetchSalt', 'register', 'crossLogin', 'logout', 'changeEmail')).map(([ips, pairs, action]): FuzzRequest => {
                const body = req.route.startsWith('POST /internal/ipsconnect') ? { action, params: ips } : { method: 'auth.getToken', apiKey: fx.apps.spare.apiKey, grantId: null, memberId: null, params: pairs };
                return { ...req, method: 'POST', headers: [...req.headers.filter(([n]) => n !== 'content-type'), ['content-type', 'application/json']], body: Buffer.from(JSON.stringify(body)), chunked: undefined };
              }),
            },
          )
        : fc.constant(req),
    );
    await fz.check('internal: with token', withParams, { numRuns: 280, mayCarry: keyringHandover });
  }, 180_000);

  it('auth internal routes without the internal token: nothing succeeds', async () => {
    await fz.check('internal: without token', tableRequest(INTERNAL_ROUTES, context('auth', 0)), { numRuns: 200 });
  }, 180_000);

  it('health, metrics and docs of every service with hostile paths, queries, methods and bodies', async () => {
    const arb = fc.oneof(
      tableRequest(SERVICE_ROUTES, { ...context('gateway', 1), auth: fc.constant({ headers: [], authed: undefined }) }),
      tableRequest(SERVICE_ROUTES, { ...context('auth', 1), auth: fc.constant({ headers: [], authed: undefined }) }),
      tableRequest(SERVICE_ROUTES, { ...context('admin', 1), auth: fc.constant({ headers: [], authed: undefined }) }),
      tableRequest(SERVICE_ROUTES, { ...context('propagator', 1), auth: fc.constant({ headers: [], authed: undefined }) }),
    ).map((req) => ({ ...req, route: `${req.service}: ${req.route}` }));
    await fz.check('service routes', arb, { numRuns: 200 });
  }, 180_000);

  it('every service is ready afterwards; no secret reached any log line', async () => {
    await fz.finalCheck();
    // Every property ran all its requests (the last check is not vacuous).
    expect(fz.sent).toBeGreaterThanOrEqual(Math.floor(680 * SCALE));
  }, 60_000);
});
