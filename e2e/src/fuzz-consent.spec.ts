import fc from 'fast-check';
import { AREAS } from '@switchboard/app-api';
import {
  FORM, Fixtures, FuzzRequest, Fuzzer, Pair, SecretSet, WRONG_METHODS, contentTypes, extraHeaders, hostileValue, joinPairs, latin1, manyPairs, multipart, SWEEP_VALUES,
  nameSpellings, oversizeBody, pathVariants, pct, SCALE,
  fuzzSystem,
} from './support/fuzz';
import { System } from './support/system';

/** Issue 10 §5: hostile requests on the consent page (A9) and the member's authorized applications. */
describe('fuzz: consent page and authorized applications', () => {
  let sys: System;
  let fx: Fixtures;
  let fz: Fuzzer;
  const secrets = new SecretSet();
  /** A well-formed double-submit CSRF token (43 base64url characters). */
  const CSRF = 'fuzzCsrfToken0123456789abcdefghijklmnopqrs';

  fuzzSystem(secrets, (s, f, z) => {
    sys = s;
    fx = f;
    fz = z;
  });

  const text = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 16 }),
    fc.constantFrom('\u0000', 'read\u0000', 'x'.repeat(300), '"><img src=x>', 'é'.repeat(500), '\r\n', 'admin', 'READ', ' read'),
  );

  /** The link's parameters: properly signed (with hostile permissions and extras) or raw. */
  const signed = (app: 'web' | 'desktop', params: Record<string, string>): Pair[] => {
    const key = fx.apps[app];
    const all: Record<string, string> = { api_key: key.apiKey, ...params };
    all['api_sig'] = key.client.sign('', all);
    return Object.entries(all).map(([k, v]): Pair => [pct(k), pct(v.replace(/[\ud800-\udfff]/g, '\ufffd'))]);
  };
  const link = (): fc.Arbitrary<Pair[]> =>
    fc.oneof(
      // A valid link, so sign-ins, approvals and denials are reached.
      {
        weight: 4,
        arbitrary: fc
          .tuple(fc.constantFrom<'web' | 'desktop'>('web', 'web', 'desktop'), fc.dictionary(fc.constantFrom(...AREAS.map((a) => `perm_${a}`)), fc.constantFrom('read', 'write', 'delete'), { minKeys: 1, maxKeys: 3 }))
          .map(([app, perms]) => signed(app, app === 'desktop' ? { ...perms, frob: fx.liveFrob } : perms)),
      },
      fc
        .record({
          app: fc.constantFrom<'web' | 'desktop'>('web', 'web', 'desktop'),
          perms: fc.dictionary(fc.oneof(fc.constantFrom(...AREAS.map((a) => `perm_${a}`)), fc.constantFrom('perm_photos', 'perm_', 'PERM_PROFILE', 'perm_profile\u0000')), fc.oneof(fc.constantFrom('read', 'write', 'delete'), text), { maxKeys: 3 }),
          frob: fc.constantFrom('live', 'used', 'none', 'garbage'),
          extra: fc.dictionary(fc.constantFrom('callback', 'returnTo', 'x', 'api_sig2', 'action', 'csrf', 'login'), text, { maxKeys: 2 }),
        })
        .map(({ app, perms, frob, extra }) => {
          const params: Record<string, string> = { ...perms, ...extra };
          if (frob !== 'none') params['frob'] = frob === 'live' ? fx.liveFrob : frob === 'used' ? fx.usedFrob : '1-abc';
          return signed(app, params);
        }),
      fc.array(
        fc.tuple(
          fc.oneof(fc.constantFrom('api_key', 'api_sig', 'perm_profile', 'perm_network', 'frob'), fc.constantFrom('api_key', 'frob').chain((n) => fc.constantFrom(...nameSpellings(n))), hostileValue),
          fc.option(fc.oneof(fc.constantFrom(fx.apps.web.apiKey, fx.apps.desktop.apiKey, 'read', 'write'), hostileValue), { nil: undefined, freq: 10 }),
        ),
        { maxLength: 6 },
      ),
    );

  const cookies = fc.record({
    csrf: fc.constantFrom('match', 'match', 'match', 'mismatch', 'cookie-only', 'form-only', 'none', 'hostile-both'),
    session: fc.constantFrom('real', 'real', 'none', 'garbage'),
    hostile: hostileValue.map((v) => v.replace(/[;\r\n\x00-\x1f\x7f]/g, '')),
  });
  const cookieHeader = (c: { csrf: string; session: string; hostile: string }): [string, string][] => {
    const parts: string[] = [];
    if (c.csrf === 'match' || c.csrf === 'mismatch' || c.csrf === 'cookie-only') parts.push(`sb_csrf=${CSRF}`);
    if (c.csrf === 'hostile-both') parts.push(`sb_csrf=${c.hostile}`);
    if (c.session === 'real') parts.push(`sb_session=${fx.session}`);
    if (c.session === 'garbage') parts.push(`sb_session=${c.hostile || 'x'}`);
    return parts.length ? [['cookie', parts.join('; ')]] : [];
  };
  const csrfField = (c: { csrf: string; hostile: string }): Pair[] =>
    c.csrf === 'match' || c.csrf === 'form-only' ? [['csrf', CSRF]] : c.csrf === 'mismatch' ? [['csrf', 'x'.repeat(43)]] : c.csrf === 'hostile-both' ? [['csrf', pct(c.hostile)]] : [];

  const form = () =>
    fc.record({
    action: fc.oneof({ weight: 4, arbitrary: fc.constantFrom('login', 'approve', 'deny') }, { weight: 1, arbitrary: hostileValue }),
    // Bob signs in without bcrypt (legacy salt); other names cost one bcrypt hash each, so they are rare.
    login: fc.oneof(
      { weight: 7, arbitrary: fc.constantFrom('Fuzz%20Bob', 'bob%40fuzz.test') },
      { weight: 3, arbitrary: fc.constantFrom('Fuzz%00Bob', '%00', 'bob%40fuzz.test%00') },
      { weight: 1, arbitrary: fc.oneof(fc.constantFrom('FUZZ%20BOB', 'Fuzz%20Bob%C0%80', 'x'.repeat(256)), hostileValue) },
    ),
    password: fc.oneof({ weight: 3, arbitrary: fc.constant(pct(fx.members[1].password!)) }, { weight: 2, arbitrary: hostileValue }),
    junk: fc.array(fc.tuple(fc.constantFrom('action', 'csrf', 'login', 'password', 'grant').chain((n) => fc.constantFrom(...nameSpellings(n))), hostileValue.map((v): string | undefined => v)), { maxLength: 2 }),
  });

  const authorize = () =>
    fc
      .record({
        verb: fc.oneof({ weight: 4, arbitrary: fc.constant('GET') }, { weight: 6, arbitrary: fc.constant('POST') }, { weight: 1, arbitrary: fc.constantFrom(...WRONG_METHODS) }),
        path: fc.oneof({ weight: 12, arbitrary: fc.constant('/apps/authorize') }, { weight: 1, arbitrary: fc.constantFrom(...pathVariants('/apps/authorize')) }),
        link: link(),
        linkIn: fc.constantFrom('query', 'query', 'form', 'both'),
        cookies,
        form: form(),
        body: fc.constantFrom('form', 'form', 'form', 'multipart', 'truncated', 'wrong-type', 'chunked'),
        type: contentTypes,
        headers: extraHeaders(),
      })
      .map(({ verb, path, link: l, linkIn, cookies: c, form: f, body, type, headers }): FuzzRequest => {
        const req: FuzzRequest = { route: `${verb} /apps/authorize`, service: 'gateway', method: verb, target: path, headers: [...headers, ...cookieHeader(c)] };
        if (verb === 'GET' || verb === 'HEAD' || linkIn !== 'form') req.target = `${path}?${joinPairs(l)}`;
        if (verb === 'GET' || verb === 'HEAD') return req;
        const fields: Pair[] = [...(linkIn === 'query' ? [] : l), ...csrfField(c), ['action', f.action], ['login', f.login], ['password', f.password], ...f.junk];
        if (body === 'multipart' || body === 'truncated') {
          const mp = multipart(fields, body === 'truncated' ? 'truncated' : 'ok');
          req.body = mp.body;
          req.headers.push(['content-type', mp.type]);
        } else {
          req.body = latin1(joinPairs(fields));
          req.headers.push(['content-type', body === 'wrong-type' ? type : FORM]);
          if (body === 'chunked') req.chunked = 11;
        }
        return req;
      });

  /** A valid link: sign-ins with hostile names and passwords, approvals and denials with and without a session. */
  const signInOrApprove = () =>
    fc
      .record({
        app: fc.constantFrom<'web' | 'desktop'>('web', 'web', 'desktop'),
        form: form(),
        cookies: cookies.map((c) => ({ ...c, csrf: c.csrf === 'hostile-both' ? 'hostile-both' : 'match' })),
        session: fc.constantFrom('real', 'garbage', 'none'),
        body: fc.constantFrom('form', 'form', 'multipart', 'chunked'),
        linkInForm: fc.boolean(),
        junk: fc.integer({ min: 0, max: 4 }),
        headers: extraHeaders([], { cookies: false }),
      })
      .map(({ app, form: f, cookies: c, session, body, linkInForm, junk, headers }): FuzzRequest => {
        const l = signed(app, app === 'desktop' ? { perm_profile: 'read', frob: fx.liveFrob } : { perm_profile: 'write', perm_network: 'read' });
        const fields: Pair[] = [...(linkInForm ? l : []), ...csrfField(c), ['action', f.action], ['login', f.login], ['password', f.password], ...(junk === 0 ? f.junk : [])];
        const req: FuzzRequest = {
          route: `POST /apps/authorize action=${['login', 'approve', 'deny'].includes(f.action) ? f.action : '<other>'}`,
          service: 'gateway',
          method: 'POST',
          target: linkInForm ? '/apps/authorize' : `/apps/authorize?${joinPairs(l)}`,
          headers: [...headers, ...cookieHeader({ ...c, session })],
        };
        if (body === 'multipart') {
          const mp = multipart(fields, 'ok');
          req.body = mp.body;
          req.headers.push(['content-type', mp.type]);
        } else {
          req.body = latin1(joinPairs(fields));
          req.headers.push(['content-type', FORM]);
          if (body === 'chunked') req.chunked = 13;
        }
        return req;
      });

  const authorized = () =>
    fc
      .record({
        verb: fc.oneof({ weight: 6, arbitrary: fc.constantFrom('GET', 'POST') }, { weight: 1, arbitrary: fc.constantFrom(...WRONG_METHODS) }),
        path: fc.oneof({ weight: 8, arbitrary: fc.constantFrom('/apps/authorized', '/apps/authorized/revoke') }, { weight: 1, arbitrary: fc.constantFrom('/apps/authorized', '/apps/authorized/revoke').chain((p) => fc.constantFrom(...pathVariants(p))) }),
        query: fc.array(fc.tuple(fc.constantFrom('grant', 'csrf', 'x'), fc.option(hostileValue, { nil: undefined })), { maxLength: 3 }),
        grant: fc.oneof(fc.constant(String(fx.grantId)), fc.constantFrom('0', '-1', '1e3', '2147483648', '99999999999999999999', 'NaN', ''), hostileValue),
        cookies,
        headers: extraHeaders(),
      })
      .map(({ verb, path, query, grant, cookies: c, headers }): FuzzRequest => {
        const req: FuzzRequest = {
          route: `${verb} ${path.startsWith('/apps/authorized/revoke') ? '/apps/authorized/revoke' : '/apps/authorized'}`,
          service: 'gateway',
          method: verb,
          target: query.length ? `${path}?${joinPairs(query)}` : path,
          headers: [...headers, ...cookieHeader(c)],
          // Without the real session cookie nothing here may succeed.
          authed: c.session === 'real' ? undefined : false,
        };
        if (verb !== 'GET' && verb !== 'HEAD') {
          req.body = latin1(joinPairs([...csrfField(c), ['grant', grant]]));
          req.headers.push(['content-type', FORM]);
        }
        return req;
      });

  it('sweep: every hostile class in the sign-in fields, the link, the grant id and the session cookie', async () => {
    const requests: FuzzRequest[] = [];
    const link = signed('web', { perm_profile: 'write' });
    const cookie: [string, string] = ['cookie', `sb_csrf=${CSRF}; sb_session=${fx.session}`];
    const post = (target: string, fields: Pair[], note: string, headers: [string, string][] = [cookie]): FuzzRequest => ({
      route: `POST ${target.split('?')[0]}`, service: 'gateway', method: 'POST', target, headers: [...headers, ['content-type', FORM]], body: latin1(joinPairs(fields)), note,
    });
    for (const v of SWEEP_VALUES) {
      const note = v.slice(0, 12);
      requests.push(post(`/apps/authorize?${joinPairs(link)}`, [['csrf', CSRF], ['action', 'login'], ['login', v], ['password', 'x']], `login = ${note}`));
      requests.push(post(`/apps/authorize?${joinPairs(link)}`, [['csrf', CSRF], ['action', 'login'], ['login', 'Fuzz%20Bob'], ['password', v]], `password = ${note}`));
      requests.push(post(`/apps/authorize?${joinPairs(link)}`, [['csrf', CSRF], ['action', v]], `action = ${note}`));
      requests.push(post('/apps/authorize', [...link.map(([k]): Pair => [k, v]), ['csrf', CSRF], ['action', 'approve']], `every link parameter = ${note}`));
      requests.push({ route: 'GET /apps/authorize', service: 'gateway', method: 'GET', target: `/apps/authorize?${joinPairs([...link, ['perm_network', v], ['frob', v]])}`, headers: [cookie], note: `perm_network, frob = ${note}` });
      requests.push(post('/apps/authorized/revoke', [['csrf', CSRF], ['grant', v]], `grant = ${note}`));
      requests.push({ route: 'GET /apps/authorized', service: 'gateway', method: 'GET', target: '/apps/authorized', headers: [['cookie', `sb_session=${v.slice(0, 300)}`]], authed: false, note: `session cookie = ${note}` });
    }
    await fz.checkList('consent: sweep', requests);
  }, 180_000);

  it('GET/POST /apps/authorize: signed and raw links, sign-ins (NUL, long, unknown), approvals, CSRF variants, bodies', async () => {
    await fz.check('consent: authorize', authorize(), { numRuns: 160 });
  }, 180_000);

  it('POST /apps/authorize with a valid link and CSRF token: sign-ins (NUL, invalid UTF-8, long, unknown), approvals, denials', async () => {
    await fz.check('consent: sign-in and approval', signInOrApprove(), { numRuns: 80 });
  }, 180_000);

  it('GET /apps/authorized and POST /apps/authorized/revoke with and without a session', async () => {
    await fz.check('consent: authorized', authorized(), { numRuns: 120 });
  }, 180_000);

  it('thousands of link parameters, oversized forms', async () => {
    const key = fx.apps.web.apiKey;
    const arb = fc.oneof(
      fc.tuple(manyPairs, fc.constantFrom('GET', 'POST')).map(([many, verb]): FuzzRequest => {
        const pairs: Pair[] = [['api_key', key], ['perm_profile', 'read'], ...many];
        return verb === 'GET'
          ? { route: 'GET /apps/authorize', service: 'gateway', method: 'GET', target: `/apps/authorize?${joinPairs(pairs)}`, headers: [], note: `${many.length} parameters` }
          : { route: 'POST /apps/authorize', service: 'gateway', method: 'POST', target: '/apps/authorize', headers: [['content-type', FORM], ['cookie', `sb_csrf=${CSRF}`]], body: latin1(joinPairs([...pairs, ['csrf', CSRF]])), note: `${many.length} parameters` };
      }),
      oversizeBody.map((o): FuzzRequest => ({ route: 'POST /apps/authorize', service: 'gateway', method: 'POST', target: `/apps/authorize?api_key=${key}`, headers: [['content-type', o.type]], body: o.body, note: o.note })),
      oversizeBody.map((o): FuzzRequest => ({ route: 'POST /apps/authorized/revoke', service: 'gateway', method: 'POST', target: '/apps/authorized/revoke', headers: [['content-type', o.type], ['cookie', `sb_session=${fx.session}`]], body: o.body, note: o.note })),
    );
    await fz.check('consent: sizes', arb, { numRuns: 30 });
  }, 180_000);

  it('every service is ready afterwards; no secret reached any log line', async () => {
    await fz.finalCheck();
    // Every property ran all its requests (the last check is not vacuous).
    expect(fz.sent).toBeGreaterThanOrEqual(Math.floor(390 * SCALE));
  }, 60_000);
});
