import { ConsentSignIn, CONSENT_CALLER_LIMIT_PER_MINUTE, SIGNIN_MESSAGES } from '@switchboard/app-api';
import { tokenDigest } from '@switchboard/ips-connect';
import { ApiClient } from './support/api-client';
import { Browser } from './support/browser';
import { TestClock } from './support/ips';
import { ADMIN_TOKEN, System, http as request, startSystem } from './support/system';


/** Issue 10 §2: the consent sign-in is no account oracle, and its limits come before any hashing. */
describe('consent sign-in: one answer for unknown, wrong and locked; limits before hashing', () => {
  let sys: System;
  let url: string;
  const clock = new TestClock(); // a fixed minute: the per-address counter cannot roll over mid-test
  const hashes = () => sys.apps.gateway.get(ConsentSignIn, { strict: false }).hashPool.started;
  const admin = (path: string, body: unknown) =>
    request(sys.urls.admin + path, { method: 'POST', body: JSON.stringify(body), headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' } });

  beforeAll(async () => {
    sys = await startSystem({}, { clock });
    const w = await admin('/admin/apps', { title: 'Gallery', type: 'web', callback_url: 'http://127.0.0.1:9/callback' });
    const web = new ApiClient(sys.urls.gateway, w.json().api_key, w.json().secret);
    const params = { api_key: web.apiKey, perm_profile: 'read' };
    url = `${sys.urls.gateway}/apps/authorize?${new URLSearchParams({ ...params, api_sig: web.sign('', params) })}`;
    const native = 'abcdefghijklmnopqrstuv';
    for (const [name, salt] of [['Alice', native], ['Carol', native], ['Legacy', 'a1B2c']]) {
      expect((await admin('/admin/members', { name, email: `${name.toLowerCase()}@example.test`, password: 'correct horse', pass_salt: salt })).status).toBe(201);
    }
  }, 180_000);
  afterAll(async () => {
    await sys?.stop();
  }, 180_000);

  it('unknown account, wrong password, wrong legacy password and locked account: same status, same page, one hash each', async () => {
    // Lock Carol (LOGIN_LOCK_THRESHOLD failures), from an address of its own.
    const locker = new Browser('127.0.0.2');
    let html = (await locker.go(url)).html;
    for (let i = 0; i < 5; i++) html = (await locker.go(url, Browser.fields(html, { action: 'login', login: 'Carol', password: `wrong${i}` }))).html;
    locker.close();

    const b = new Browser('127.0.0.3');
    const form = (await b.go(url)).html;
    const attempt = async (login: string, password: string) => {
      const before = hashes();
      const res = await b.go(url, Browser.fields(form, { action: 'login', login, password }));
      return { status: res.status, type: res.headers['content-type'], html: res.html, hashes: hashes() - before };
    };
    const unknown = await attempt('nobody@example.test', 'correct horse');
    const unknownName = await attempt('Nobody', 'correct horse');
    const wrong = await attempt('Alice', 'not it');
    const legacyWrong = await attempt('legacy@example.test', 'not it');
    const locked = await attempt('Carol', 'correct horse'); // the right password, but locked
    const lockedWrong = await attempt('carol@example.test', 'not it');
    expect(unknown.html).toContain(SIGNIN_MESSAGES.wrong);
    for (const other of [unknownName, wrong, legacyWrong, locked, lockedWrong]) expect(other).toEqual(unknown); // byte for byte (same CSRF cookie)
    expect([unknown.status, unknown.hashes]).toEqual([200, 1]);
    // The right password still works for the others, at the same cost.
    const ok = await attempt('Legacy', 'correct horse');
    expect([ok.status, ok.html.includes('Signed in as <strong>Legacy</strong>'), ok.hashes]).toEqual([200, true, 1]);
    b.close();
  }, 120_000);

  it(`the per-address limit (${CONSENT_CALLER_LIMIT_PER_MINUTE} attempts a minute) answers 429 before any lookup or hash; other addresses are unaffected`, async () => {
    const b = new Browser('127.0.0.4');
    const form = (await b.go(url)).html;
    for (let i = 0; i < CONSENT_CALLER_LIMIT_PER_MINUTE; i++) {
      const res = await b.go(url, Browser.fields(form, { action: 'login', login: `ghost${i}`, password: 'x' }));
      expect(res.status).toBe(200);
    }
    const before = hashes();
    const limited = await b.go(url, Browser.fields(form, { action: 'login', login: 'Alice', password: 'correct horse' }));
    expect([limited.status, limited.headers['retry-after'], limited.html.includes(SIGNIN_MESSAGES.callerLimit), hashes() - before]).toEqual([429, '60', true, 0]);
    // The page still carries the form, to try again later.
    expect(limited.html).toContain('<form name="fa" method="post">');
    const other = new Browser('127.0.0.5');
    const signedIn = await other.go(url, Browser.fields((await other.go(url)).html, { action: 'login', login: 'Alice', password: 'correct horse' }));
    expect(signedIn.html).toContain('Signed in as <strong>Alice</strong>');
    // A minute later the address may try again.
    clock.advance(60_000);
    const later = await b.go(url, Browser.fields(form, { action: 'login', login: 'Alice', password: 'correct horse' }));
    expect(later.html).toContain('Signed in as <strong>Alice</strong>');
    b.close();
    other.close();
  }, 180_000);

  it('a successful sign-in stores the session under the digest of its cookie, never the cookie itself', async () => {
    const b = new Browser('127.0.0.6');
    await b.go(url, Browser.fields((await b.go(url)).html, { action: 'login', login: 'alice@example.test', password: 'correct horse' }));
    const sid = b.cookies.get('sb_session')!;
    expect(sid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const keys = await sys.redis.client.keys('switchboard:*');
    expect(keys.filter((k) => k.includes(sid))).toEqual([]);
    expect(keys).toContain(`switchboard:session:${tokenDigest(sid)}`);
    // And the session works: the list of authorized applications opens.
    expect((await b.go(`${sys.urls.gateway}/apps/authorized`)).status).toBe(200);
    b.close();
  }, 60_000);
});
