import fc from 'fast-check';
import { ConsentSignIn, MAX_LINK_PARAMS, SIGNIN_MESSAGES } from '@switchboard/app-api';
import { PrivateRedis, waitFor } from '@switchboard/testing';
import { ApiClient } from './support/api-client';
import { ADMIN_TOKEN, System, http, startSystem } from './support/system';

/** A browser without JavaScript: a cookie jar, forms re-posted with their hidden inputs. */
class Browser {
  cookies = new Map<string, string>();
  async go(url: string, body?: string) {
    const res = await fetch(url, {
      method: body === undefined ? 'GET' : 'POST',
      body,
      redirect: 'manual',
      headers: { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '), ...(body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }) },
    });
    for (const c of res.headers.getSetCookie()) {
      const [k, v] = c.split(';')[0].split('=');
      if (v) this.cookies.set(k, v);
      else this.cookies.delete(k);
    }
    return { status: res.status, headers: res.headers, html: await res.text() };
  }
  static fields(html: string, extra: Record<string, string>): string {
    const form = /<form name="fa"[\s\S]*?<\/form>/.exec(html)?.[0] ?? '';
    const params = new URLSearchParams();
    for (const m of form.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) params.set(m[1], m[2].replace(/&amp;/g, '&'));
    for (const [k, v] of Object.entries(extra)) params.set(k, v);
    return params.toString();
  }
}

/** Issue 10 §3 on the consent pages: bad input is a 4xx or the normal page, a store away is a 503 page. */
describe('consent pages under hostile input and a Redis outage', () => {
  const redis = new PrivateRedis();
  let sys: System;
  let web: ApiClient;
  let url: string;
  const signedIn = new Browser();

  beforeAll(async () => {
    await redis.start();
    sys = await startSystem({ REDIS_URL: redis.url }, { withoutPropagator: true });
    const admin = (path: string, body: unknown) =>
      http(sys.urls.admin + path, { method: 'POST', body: JSON.stringify(body), headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' } });
    const w = await admin('/admin/apps', { title: 'Gallery', type: 'web', callback_url: 'http://127.0.0.1:9/callback' });
    web = new ApiClient(sys.urls.gateway, w.json().api_key, w.json().secret);
    url = link({ perm_profile: 'read' });
    expect((await admin('/admin/members', { name: 'Alice', email: 'alice@example.test', password: 'correct horse', pass_salt: 'a1B2c' })).status).toBe(201);
    const page = await signedIn.go(url, Browser.fields((await signedIn.go(url)).html, { action: 'login', login: 'Alice', password: 'correct horse' }));
    expect(page.html).toContain('Signed in as <strong>Alice</strong>');
  }, 180_000);
  afterAll(async () => {
    await sys?.stop();
    await redis.dispose();
  }, 180_000);

  const link = (params: Record<string, string>) => {
    const all = { api_key: web.apiKey, ...params };
    return `${sys.urls.gateway}/apps/authorize?${new URLSearchParams({ ...all, api_sig: web.sign('', all) })}`;
  };

  it('control characters (NUL included) in a sign-in: the normal "wrong" page, no hash, never a 5xx', async () => {
    const b = new Browser();
    const form = (await b.go(url)).html;
    const hashes = () => sys.apps.gateway.get(ConsentSignIn, { strict: false }).hashPool.started;
    const before = hashes();
    const control = fc.integer({ min: 0, max: 0x1f }).chain((c) => fc.constantFrom(c, 0x7f)).map((c) => String.fromCharCode(c));
    const withControl = fc.tuple(fc.string({ maxLength: 10 }), control, fc.string({ maxLength: 10 })).map(([a, c, z]) => a + c + z);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.tuple(withControl, fc.string({ minLength: 1, maxLength: 20 })), fc.tuple(fc.constantFrom('Alice', 'alice@example.test'), withControl)),
        async ([login, password]) => {
          const res = await b.go(url, Browser.fields(form, { action: 'login', login, password }));
          expect(res.status).toBe(200);
          expect(res.html).toContain(SIGNIN_MESSAGES.wrong);
          expect(res.headers.get('x-content-type-options')).toBe('nosniff');
        },
      ),
      { numRuns: 40 },
    );
    for (const [login, password] of [['Ali\u0000ce', 'correct horse'], ['Alice', 'correct horse\u0000'], ['\u0000', '\u0000']]) {
      const res = await b.go(url, Browser.fields(form, { action: 'login', login, password }));
      expect([res.status, res.html.includes(SIGNIN_MESSAGES.wrong)]).toEqual([200, true]);
    }
    expect(hashes()).toBe(before);
  }, 120_000);

  it(`more than ${MAX_LINK_PARAMS} parameters on /apps/authorize: a 400 page saying so, in the query or the form`, async () => {
    // 2000 distinct short names (~10 KB: within Node's 16 KiB request-line limit, which answers 431).
    const many = Array.from({ length: 2000 }, (_, i) => `${i.toString(36)}=`).join('&');
    const get = await http(`${url}&${many}`);
    expect([get.status, get.text.includes('too many parameters'), get.headers.get('x-content-type-options')]).toEqual([400, true, 'nosniff']);
    const b = new Browser();
    const form = (await b.go(url)).html;
    const post = await b.go(url, `${Browser.fields(form, { action: 'login', login: 'Alice', password: 'x' })}&${many}`);
    expect([post.status, post.html.includes('too many parameters')]).toEqual([400, true]);
    // Within the limit the link is only refused for what it is (unsigned extra parameters).
    expect((await http(`${url}&extra=1`)).status).toBe(400);
    expect((await http(url)).status).toBe(200);
  }, 60_000);

  it('every consent HTML page sends nosniff', async () => {
    const pages = [await signedIn.go(url), await new Browser().go(url), await signedIn.go(`${sys.urls.gateway}/apps/authorized`), await new Browser().go(`${sys.urls.gateway}/apps/authorized`), await new Browser().go(link({ perm_photos: 'read' }))];
    expect(pages.map((p) => [p.status, p.headers.get('content-type'), p.headers.get('x-content-type-options')])).toEqual([
      [200, 'text/html; charset=utf-8', 'nosniff'],
      [200, 'text/html; charset=utf-8', 'nosniff'],
      [200, 'text/html; charset=utf-8', 'nosniff'],
      [401, 'text/html; charset=utf-8', 'nosniff'],
      [400, 'text/html; charset=utf-8', 'nosniff'],
    ]);
  }, 60_000);

  it('Redis down: /apps/authorized, its revoke and a sign-in answer a 503 page saying the service is unavailable', async () => {
    const list = await signedIn.go(`${sys.urls.gateway}/apps/authorized`);
    expect(list.status).toBe(200);
    const consent = await signedIn.go(url);
    const revokeForm = Browser.fields(consent.html, { grant: '1' });
    const b = new Browser();
    const loginForm = (await b.go(url)).html;

    await redis.stop();
    const unavailable = (res: { status: number; headers: Headers; html: string }) => [
      res.status,
      res.headers.get('retry-after'),
      res.headers.get('x-content-type-options'),
      res.html.includes('The service is unavailable'),
    ];
    const expected = [503, '5', 'nosniff', true];
    await waitFor(async () => (await signedIn.go(`${sys.urls.gateway}/apps/authorized`)).status === 503, 20_000, 'the gateway to notice Redis is down');
    expect(unavailable(await signedIn.go(`${sys.urls.gateway}/apps/authorized`))).toEqual(expected);
    expect(unavailable(await signedIn.go(`${sys.urls.gateway}/apps/authorized/revoke`, revokeForm))).toEqual(expected);
    expect(unavailable(await b.go(url, Browser.fields(loginForm, { action: 'login', login: 'Alice', password: 'correct horse' })))).toEqual(expected);
    expect(unavailable(await signedIn.go(url))).toEqual(expected);

    await redis.start(); // same port: the services reconnect
    await waitFor(async () => (await signedIn.go(`${sys.urls.gateway}/apps/authorized`)).status !== 503, 30_000, 'the gateway to reconnect to Redis');
  }, 120_000);
});
