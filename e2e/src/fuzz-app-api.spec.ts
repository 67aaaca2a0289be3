import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { METHODS } from '@switchboard/app-api';
import {
  AppKey, FORM, Fixtures, FuzzRequest, FuzzResponse, Fuzzer, Pair, SecretSet, WRONG_METHODS, contentTypes, deepJsonBody, extraHeaders, hostileValue, joinPairs,
  latin1, manyPairs, multipart, SWEEP_VALUES, nameSpellings, oversizeBody, paramName, pct, separator, SCALE,
  fuzzSystem,
} from './support/fuzz';
import { ADMIN_TOKEN, System, http } from './support/system';

/** Issue 10 §5: hostile calls of every application API method (`/api/<method>[/json|/xml]`, A1). */
describe('fuzz: application API', () => {
  let sys: System;
  let fx: Fixtures;
  let fz: Fuzzer;
  const secrets = new SecretSet();
  const NAMES = METHODS.map((m) => m.name);

  fuzzSystem(
    secrets,
    (s, f, z) => {
      sys = s;
      fx = f;
      fz = z;
    },
    async (s, f) => {
      // The spare key signs with HMAC-SHA256 (A3): nonces go through Redis.
      const patched = await http(`${s.urls.admin}/admin/apps/${f.apps.spare.apiKey}`, {
        method: 'PATCH',
        body: JSON.stringify({ signature_mode: 'hmac-sha256' }),
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      });
      expect(patched.status).toBe(200);
    },
  );

  const PARAM_NAMES = ['api_key', 'api_sig', 'auth_token', 'frob', 'echo', 'ts', 'nonce', 'method', 'user_id', 'name', 'email', 'perm_profile', 'perm_network', 'format'];
  const methodName = () =>
    fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom(...NAMES) },
      { weight: 2, arbitrary: fc.oneof(hostileValue, fc.constantFrom('test.echo%00', 'TEST.ECHO', '..', '%2e%2e', 'x'.repeat(300), 'test.echo%2Fxml', '__proto__', 'constructor', 'test.echo;x', '%20test.echo')) },
    );
  const formatPart = fc.oneof({ weight: 5, arbitrary: fc.constant('') }, { weight: 2, arbitrary: fc.constantFrom('/json', '/xml') }, { weight: 1, arbitrary: fc.constantFrom('/php', '/JSON', '/xml/', '/json/x', '/%00') }, { weight: 1, arbitrary: hostileValue.map((v) => `/${v}`) });

  const value = (name: string): fc.Arbitrary<string> => {
    const apps = [fx.apps.web, fx.apps.desktop, fx.apps.spare];
    const meaningful: Record<string, string[]> = {
      api_key: [...apps.map((a) => a.apiKey), fx.apps.web.apiKey.toUpperCase(), ''],
      api_sig: ['d41d8cd98f00b204e9800998ecf8427e', 'D41D8CD98F00B204E9800998ECF8427E', '0'.repeat(64), ''],
      auth_token: [fx.token, fx.token, `${fx.token}%00`, fx.usedFrob, '1-00000000000000000000000000000000'],
      frob: [fx.liveFrob, fx.usedFrob, `${fx.liveFrob}%20`, '1-00000000000000000000000000000000'],
      method: NAMES,
      user_id: fx.members.map((m) => String(m.id)),
      perm_profile: ['read', 'write', 'delete', 'admin'],
      perm_network: ['read'],
      ts: [String(Math.floor(Date.now() / 1000)), '0', '-1', '99999999999'],
      nonce: ['n0nce-1', 'x'.repeat(64), 'x'.repeat(65)],
      format: ['json', 'xml', 'php'],
    };
    const pool = meaningful[name];
    return pool?.length ? fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...pool) }, { weight: 2, arbitrary: hostileValue }) : hostileValue;
  };
  const rawPairs = (): fc.Arbitrary<Pair[]> =>
    fc.array(
      fc
        .constantFrom(...PARAM_NAMES)
        .chain((name) => fc.tuple(fc.oneof({ weight: 5, arbitrary: fc.constant(name) }, { weight: 1, arbitrary: fc.constantFrom(...nameSpellings(name)) }, { weight: 1, arbitrary: paramName(PARAM_NAMES) }), fc.constant(name)))
        // Secrets travel only under their own (exact) name: the API decodes names as they are.
        .chain(([spelling, name]) => fc.tuple(fc.constant(spelling), fc.option(spelling === name ? value(name) : hostileValue, { nil: undefined, freq: 12 }))),
      { maxLength: 8 },
    );

  /** Decoded hostile strings (NUL, controls, RTL marks, astral, long) for signed calls. */
  const text = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 20 }).map((s) => s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')),
    fc.constantFrom('\u0000', 'a\u0000b', '\t', '\r\n', '\u202e', '\ufeff', 'x'.repeat(300), 'é'.repeat(2000), '<api status="ok">', '"}', 'Fuzz Alice', 'alice@fuzz.test', 'new@fuzz.test'),
  );

  /** A properly signed call (md5 order B or A, or HMAC for the spare key) with hostile values: it goes past the signature check. */
  const signedCall = () =>
    fc
      .record({
        method: fc.constantFrom(...NAMES.filter((n) => n !== 'auth.revokeToken')),
        format: formatPart,
        app: fc.constantFrom<'web' | 'desktop' | 'spare'>('web', 'web', 'desktop', 'spare'),
        order: fc.constantFrom<'A' | 'B'>('A', 'B'),
        withToken: fc.boolean(),
        values: fc.dictionary(fc.constantFrom('echo', 'name', 'email', 'user_id', 'method', 'frob', 'perm_profile', 'extra', 'x\u0000y', 'échø'), text, { maxKeys: 4 }),
        post: fc.boolean(),
        multipart: fc.boolean(),
        headers: extraHeaders(),
      })
      .map(({ method, format, app, order, withToken, values, post, multipart: asMultipart, headers }): FuzzRequest => {
        const key: AppKey = fx.apps[app];
        const params: Record<string, string> = { api_key: key.apiKey, ...values };
        if (withToken) params['auth_token'] = fx.token;
        if (values['frob'] !== undefined && app === 'desktop') params['frob'] = fx.liveFrob;
        if (app === 'spare') {
          params['ts'] = String(Math.floor(Date.now() / 1000));
          params['nonce'] = randomBytes(12).toString('base64url');
          params['api_sig'] = key.client.signHmac(method, params);
        } else params['api_sig'] = key.client.sign(method, params, order);
        const pairs: Pair[] = Object.entries(params).map(([k, v]) => [pct(k), pct(v)]);
        const path = `/api/${method}${format}`;
        if (!post) return { route: `GET /api/${method}`, service: 'gateway', method: 'GET', target: `${path}?${joinPairs(pairs)}`, headers, note: 'signed' };
        const body = asMultipart ? multipart(pairs, 'ok') : { type: FORM, body: latin1(joinPairs(pairs)) };
        return { route: `POST /api/${method}`, service: 'gateway', method: 'POST', target: path, headers: [...headers, ['content-type', body.type]], body: body.body, note: 'signed' };
      });

  const rawCall = () =>
    fc
      .record({
        method: methodName(),
        format: formatPart,
        verb: fc.oneof({ weight: 5, arbitrary: fc.constant('GET') }, { weight: 4, arbitrary: fc.constant('POST') }, { weight: 1, arbitrary: fc.constantFrom(...WRONG_METHODS) }),
        query: rawPairs(),
        form: rawPairs(),
        sep: separator,
        body: fc.constantFrom('form', 'form', 'multipart', 'truncated', 'file', 'many-parts', 'wrong-type', 'chunked', 'abort'),
        type: contentTypes,
        headers: extraHeaders(),
      })
      .map(({ method, format, verb, query, form, sep, body, type, headers }): FuzzRequest => {
        const path = `/api/${method}${format}`;
        const route = `${verb} /api/${NAMES.includes(method) ? method : '<other>'}`;
        const req: FuzzRequest = { route, service: 'gateway', method: verb, target: `${path}?${joinPairs(query, sep)}`, headers: [...headers] };
        if (verb === 'GET' || verb === 'HEAD') return req;
        if (body === 'form' || body === 'chunked' || body === 'abort' || body === 'wrong-type') {
          req.body = latin1(joinPairs(form, sep));
          req.headers.push(['content-type', body === 'wrong-type' ? type : FORM]);
          if (body === 'chunked') req.chunked = 5;
          if (body === 'abort') req.abortAfter = Math.floor(req.body.length / 2);
        } else {
          const mp = multipart(form, body as Parameters<typeof multipart>[1]);
          req.body = mp.body;
          req.headers.push(['content-type', mp.type]);
        }
        return req;
      });

  /** Every answer of `/api/<method>[/<format>]` with HTTP 200 is the ipernity envelope (A7). */
  const envelope = (req: FuzzRequest, res: FuzzResponse): string | undefined => {
    if (res.status !== 200 || req.method === 'HEAD' || !/^\/api\/[^/?]+(\/[^/?]*)?(\?|$)/.test(req.target)) return undefined;
    const text = res.body.toString('utf8');
    if (/^<\?xml version="1\.0" encoding="UTF-8"\?>\n<api status="(ok|error)"/.test(text)) return undefined;
    try {
      const api = JSON.parse(text)?.api;
      if (api?.status === 'ok' || (api?.status === 'error' && /^\d+$/.test(api.code))) return undefined;
    } catch {
      /* fall through */
    }
    return 'HTTP 200 that is not an API envelope';
  };

  it('sweep: every method × every hostile class in each of its parameters and names, in the query, a form and multipart', async () => {
    const requests: FuzzRequest[] = [];
    for (const m of METHODS) {
      const names = [...new Set([...m.parameters.map((p) => p.name).filter((n) => n !== 'api_key'), 'api_sig', 'echo'])];
      for (const v of [...SWEEP_VALUES, '[]', '[', '%00name']) {
        const pairs: Pair[] = [['api_key', fx.apps.web.apiKey], ...names.map((n): Pair => (v.startsWith('[') ? [`${n}${v}`, 'x'] : v === '%00name' ? [`${n}%00`, 'x'] : [n, v]))];
        const i = requests.length;
        if (i % 3 === 0) requests.push({ route: `GET /api/${m.name}`, service: 'gateway', method: 'GET', target: `/api/${m.name}${i % 2 ? '/xml' : ''}?${joinPairs(pairs)}`, headers: [], note: v.slice(0, 12) });
        else {
          const b = i % 3 === 1 ? { type: FORM, body: latin1(joinPairs(pairs)) } : multipart(pairs, 'ok');
          requests.push({ route: `POST /api/${m.name}`, service: 'gateway', method: 'POST', target: `/api/${m.name}${i % 2 ? '/json' : ''}`, headers: [['content-type', b.type]], body: b.body, note: v.slice(0, 12) });
        }
      }
    }
    await fz.checkList('api: sweep', requests, { check: envelope });
  }, 180_000);

  it('unsigned and wrongly signed calls with hostile names, values, methods, formats and bodies', async () => {
    await fz.check('api: raw calls', rawCall(), { numRuns: 220, check: envelope });
  }, 180_000);

  it('correctly signed calls (md5 A/B, HMAC with nonces, with the live token) carrying hostile values', async () => {
    await fz.check('api: signed calls', signedCall(), { numRuns: 150, check: envelope });
  }, 180_000);

  it('thousands of parameters, deep JSON and bodies around the 64 KiB limit', async () => {
    const key = fx.apps.web.apiKey;
    const arb = fc.oneof(
      fc.tuple(manyPairs, fc.constantFrom('query', 'body', 'multipart'), fc.constantFrom(...NAMES)).map(([many, place, m]): FuzzRequest => {
        const all: Pair[] = [['api_key', key], ...many, ['echo', 'x']];
        if (place === 'query') return { route: `GET /api/${m}`, service: 'gateway', method: 'GET', target: `/api/${m}?${joinPairs(all)}`, headers: [], note: `${many.length} parameters` };
        const b = place === 'multipart' ? multipart(all, 'ok') : { type: FORM, body: latin1(joinPairs(all)) };
        return { route: `POST /api/${m}`, service: 'gateway', method: 'POST', target: `/api/${m}`, headers: [['content-type', b.type]], body: b.body, note: `${many.length} parameters` };
      }),
      deepJsonBody.map((d): FuzzRequest => ({ route: 'POST /api/test.echo', service: 'gateway', method: 'POST', target: `/api/test.echo?api_key=${key}&echo=x`, headers: [['content-type', 'application/json']], body: latin1(d.json), note: d.note })),
      oversizeBody.map((o): FuzzRequest => ({ route: 'POST /api/test.echo', service: 'gateway', method: 'POST', target: `/api/test.echo?api_key=${key}`, headers: [['content-type', o.type]], body: o.body, note: o.note })),
      fc.constantFrom(8000, 16_300, 40_000).map((n): FuzzRequest => ({ route: 'GET /api/test.echo', service: 'gateway', method: 'GET', target: `/api/test.echo?api_key=${key}&echo=${'e'.repeat(n)}`, headers: [], note: `URL of ${n}+ bytes` })),
    );
    await fz.check('api: sizes', arb, { numRuns: 40, check: envelope });
  }, 180_000);

  it('every service is ready afterwards; no secret reached any log line', async () => {
    await fz.finalCheck();
    // Every property ran all its requests (the last check is not vacuous).
    expect(fz.sent).toBeGreaterThanOrEqual(Math.floor(410 * SCALE));
  }, 60_000);
});
