import { GrantsService } from '@switchboard/app-api';
import { ApiClient } from './support/api-client';
import { ipsClient } from './support/ips';
import { ADMIN_TOKEN, adminApi, http, MASTER_KEY as MK, startSystem, System } from './support/system';

/**
 * The application API over HTTP (spec application-api.md §1–§5, A1–A8, A10). The consent page is
 * not built yet: where a member's approval is needed, the test approves the frob through the auth
 * service's GrantsService, as the consent page will.
 */
describe('application API', () => {
  let sys: System;
  let desktop: ApiClient;
  let web: ApiClient;
  let memberId: number;
  const admin = adminApi(() => sys);
  const err = (res: { json: () => any }) => res.json().api;
  const approve = async (apiKey: string, frob: string, permissions: Record<string, string>) =>
    sys.apps.auth.get(GrantsService, { strict: false }).approveFrob(apiKey, frob, memberId, permissions, new Date());
  const tokenFor = async (client: ApiClient, permissions: Record<string, string>) => {
    const frob = (await client.call('auth.getFrob')).json().auth.frob;
    expect(await approve(client.apiKey, frob, permissions)).toBe(true);
    return (await client.call('auth.getToken', { frob })).json().auth.token as string;
  };

  beforeAll(async () => {
    sys = await startSystem({ API_CLIENT_LIMIT: '100000' });
    const d = await admin('/admin/apps', 'POST', { title: 'Photo Uploader', description: 'Uploads photos', type: 'desktop' });
    expect(d.status).toBe(201);
    desktop = new ApiClient(sys.urls.gateway, d.json().api_key, d.json().secret);
    const w = await admin('/admin/apps', 'POST', { title: 'Web App', type: 'web', callback_url: 'http://127.0.0.1:9/callback' });
    web = new ApiClient(sys.urls.gateway, w.json().api_key, w.json().secret);
    const m = await admin('/admin/members', 'POST', { name: 'Alice', email: 'alice@example.test', password: 'correct horse', pass_salt: 'a1B2c' });
    memberId = m.json().id;
  }, 180_000);
  afterAll(async () => {
    await sys?.stop();
  }, 180_000);

  it('admin: keys are 32 hex with a secret shown once; a web key needs a callback; bad input is 400', async () => {
    expect(desktop.apiKey).toMatch(/^[0-9a-f]{32}$/);
    expect(desktop.secret.length).toBeGreaterThanOrEqual(16);
    const list = (await admin('/admin/apps')).json().items;
    expect(list.map((a: { title: string }) => a.title)).toEqual(['Photo Uploader', 'Web App']);
    expect(JSON.stringify(list)).not.toContain(desktop.secret);
    expect((await admin('/admin/apps', 'POST', { title: 'x', type: 'web' })).status).toBe(400);
    expect((await admin('/admin/apps', 'POST', { title: 'x', type: 'mobile' })).status).toBe(400);
    expect((await admin(`/admin/apps/${'0'.repeat(32)}`, 'PATCH', { enabled: false })).status).toBe(404);
  }, 60_000);

  it('test.hello and test.echo in JSON and XML, signed or not (§5)', async () => {
    expect((await desktop.call('test.hello', {}, { sign: 'none' })).text).toBe('{"api":{"status":"ok"},"hello":"hello world!"}');
    expect((await desktop.call('test.hello', {}, { sign: 'none', format: 'xml' })).text).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n<api status="ok"><hello>hello world!</hello></api>',
    );
    expect((await desktop.call('test.echo', { echo: 'Grüße & co=1+2' })).json().echo).toBe('Grüße & co=1+2');
    expect((await desktop.call('test.echo', { echo: 'Hallo Echo!' }, { sign: 'A' })).json().echo).toBe('Hallo Echo!');
    expect(err(await desktop.call('test.echo', {}))).toEqual({ status: 'error', code: '1', message: 'Nothing to echo: the echo parameter was empty or not sent.' });
  }, 60_000);

  it('answers every generic error code in the envelope with HTTP 200 (§4.4, A7)', async () => {
    const cases: [Promise<{ status: number; json: () => any }>, string][] = [
      [desktop.call('test.hello', {}, { key: null, sign: 'none' }), '100'],
      [desktop.call('test.hello', {}, { key: 'f'.repeat(32), sign: 'none' }), '101'],
      [desktop.call('test.hello', {}, { format: 'php' }), '102'],
      [desktop.call('no.such.method'), '103'],
      [desktop.call('auth.getFrob', {}, { sign: 'none' }), '104'],
      [desktop.call('test.echo', { echo: 'x', api_sig: '0'.repeat(32) }, { sign: 'none' }), '105'],
      [desktop.call('auth.checkToken'), '106'],
      [desktop.call('auth.checkToken', { auth_token: '1-deadbeef' }), '107'],
      [desktop.call('account.setName', { auth_token: '1-deadbeef', name: 'x' }), '120'],
    ];
    for (const [promise, code] of cases) {
      const res = await promise;
      expect([code, res.status, err(res).status, err(res).code]).toEqual([code, 200, 'error', code]);
      expect(typeof err(res).message).toBe('string');
    }
    const xml = await desktop.call('no.such.method', {}, { format: 'xml' });
    expect(xml.text).toContain('<api status="error" code="103" message="The requested method is invalid or missing."></api>');
  }, 60_000);

  it('precedence: method before key, key before POST, POST before signature, signature before token (A7)', async () => {
    expect(err(await desktop.call('no.such', {}, { key: null })).code).toBe('103');
    expect(err(await desktop.call('account.setName', {}, { key: 'f'.repeat(32), sign: 'none' })).code).toBe('101');
    expect(err(await desktop.call('account.setName', { api_sig: 'bad' }, { sign: 'none' })).code).toBe('120');
    expect(err(await desktop.call('account.setName', { api_sig: 'bad', auth_token: 'x' }, { sign: 'none', post: true })).code).toBe('105');
  }, 60_000);

  it('accepts multipart/form-data POSTs: fields signed, a file part ignored (A1)', async () => {
    const params: Record<string, string> = { api_key: desktop.apiKey, echo: 'from multipart é' };
    params['api_sig'] = desktop.sign('test.echo', params);
    const form = new FormData();
    for (const [k, v] of Object.entries(params)) form.append(k, v);
    form.append('file', new Blob(['binary \u0000 data']), 'photo.jpg');
    const res = await fetch(`${sys.urls.gateway}/api/test.echo`, { method: 'POST', body: form });
    expect(await res.json()).toEqual({ api: { status: 'ok' }, echo: 'from multipart é' });
    const big = new FormData();
    big.append('echo', 'x'.repeat(70 * 1024));
    expect((await fetch(`${sys.urls.gateway}/api/test.echo`, { method: 'POST', body: big })).status).toBe(413);
  }, 60_000);

  it('refuses control characters and invalid UTF-8 with 105, never a 500 (A2)', async () => {
    expect(err(await desktop.call('test.echo', { echo: 'a\u0000b' })).code).toBe('105');
    expect(err(await desktop.call('test.echo', { echo: 'line\nbreak' })).code).toBe('105');
    const raw = await http(`${sys.urls.gateway}/api/test.echo?api_key=${desktop.apiKey}&echo=%FF%FE`);
    expect([raw.status, raw.json().api.code]).toEqual([200, '105']);
  }, 60_000);

  it('desktop flow: getFrob → (approval) → getToken → checkToken → account.get, frob single use (§2.4–§2.7)', async () => {
    const frob = (await desktop.call('auth.getFrob')).json().auth.frob as string;
    expect(frob).toMatch(/^\d+-[0-9a-f]+$/);
    // Before approval: error 2, and the frob is not consumed.
    expect(err(await desktop.call('auth.getToken', { frob })).code).toBe('2');
    expect(err(await desktop.call('auth.getToken', {})).code).toBe('1');
    expect(await approve(desktop.apiKey, frob, { profile: 'write', network: 'read' })).toBe(true);
    const got = (await desktop.call('auth.getToken', { frob })).json();
    expect(got.api.status).toBe('ok');
    expect(got.auth.permissions).toEqual({ doc: 'none', blog: 'none', post: 'none', network: 'read', profile: 'write', user: 'write' });
    expect(got.auth.user).toEqual({ user_id: String(memberId), username: 'Alice', realname: 'Alice', lg: 'en', is_pro: '0' });
    const token = got.auth.token as string;
    expect(token).toMatch(/^\d+-[0-9a-f]{32}$/);
    expect(err(await desktop.call('auth.getToken', { frob })).code).toBe('2'); // used
    expect(err(await web.call('auth.getToken', { frob })).code).toBe('2'); // another key's
    const check = (await desktop.call('auth.checkToken', { auth_token: token })).json();
    expect(check.auth.token).toBe(token);
    const xml = await desktop.call('auth.checkToken', { auth_token: token }, { format: 'xml' });
    expect(xml.text).toContain('<permissions doc="none" blog="none" post="none" network="read" profile="write" user="write"/>');
    expect((await desktop.call('account.get', { auth_token: token })).json().user).toMatchObject({ user_id: String(memberId), email: 'alice@example.test', banned: '0' });
    expect(err(await web.call('auth.checkToken', { auth_token: token })).code).toBe('107'); // bound to its key
    expect(err(await desktop.call('auth.checkToken', { auth_token: token }, { sign: 'none' })).code).toBe('104'); // tokens need signatures
  }, 60_000);

  it('permissions: 110 below the required level; a new consent replaces the grant, the token follows (A5)', async () => {
    const token = await tokenFor(desktop, { network: 'read' });
    expect(err(await desktop.call('account.get', { auth_token: token })).code).toBe('110');
    expect((await desktop.call('network.sites.getList', { auth_token: token })).json().api.status).toBe('ok');
    const again = await tokenFor(desktop, { profile: 'read' });
    expect((await desktop.call('account.get', { auth_token: token })).json().api.status).toBe('ok');
    expect(err(await desktop.call('network.sites.getList', { auth_token: again })).code).toBe('110');
  }, 60_000);

  it('account.setEmail changes the member through the IPS Connect path: uniqueness, outbox, propagation', async () => {
    await http(`${sys.urls.admin}/admin/members`, { method: 'POST', body: JSON.stringify({ name: 'Bob', email: 'bob@example.test', password: 'x', pass_salt: 'a1B2c' }), headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' } });
    const token = await tokenFor(desktop, { profile: 'write' });
    expect(err(await desktop.call('account.setEmail', { auth_token: token, email: 'bob@example.test' }, { post: true })).code).toBe('2');
    expect(err(await desktop.call('account.setEmail', { auth_token: token, email: 'nope' }, { post: true })).code).toBe('1');
    const ok = (await desktop.call('account.setEmail', { auth_token: token, email: 'alice.new@example.test' }, { post: true })).json();
    expect(ok.user.email).toBe('alice.new@example.test');
    const ips = ipsClient(sys.urls.gateway);
    expect((await ips.get({ do: 'checkEmail', key: MK, email: 'alice.new@example.test' })).json().used).toBe(1);
    const { Client } = await import('pg');
    const pg = new Client({ connectionString: sys.db.url });
    await pg.connect();
    const { rows } = await pg.query(`SELECT payload FROM outbox_events WHERE type = 'user_updated' ORDER BY id DESC LIMIT 1`);
    await pg.end();
    expect(rows[0].payload).toMatchObject({ source: 'api', memberId, propagate: { action: 'changeEmail', params: [['id', String(memberId)], ['email', 'alice.new@example.test']] } });
    expect((await desktop.call('account.setName', { auth_token: token, name: 'Alicia' }, { post: true })).json().user.username).toBe('Alicia');
  }, 60_000);

  it('revoked tokens answer 107 and banned members 108 (A5)', async () => {
    const token = await tokenFor(desktop, { profile: 'read' });
    const ips = ipsClient(sys.urls.gateway);
    const { createHash } = await import('node:crypto');
    const key = createHash('md5').update(MK + String(memberId)).digest('hex');
    await ips.get({ do: 'ban', key, id: String(memberId), status: '1' });
    expect(err(await desktop.call('account.get', { auth_token: token })).code).toBe('108');
    await ips.get({ do: 'ban', key, id: String(memberId), status: '0' });
    expect((await desktop.call('auth.revokeToken', { auth_token: token }, { post: true })).json().api.status).toBe('ok');
    expect(err(await desktop.call('account.get', { auth_token: token })).code).toBe('107');
  }, 60_000);

  it('per-key flags: always_signed, order A off, hmac-sha256 with single-use nonces (A2–A4)', async () => {
    await admin(`/admin/apps/${web.apiKey}`, 'PATCH', { always_signed: true, accept_order_a: false });
    await new Promise((r) => setTimeout(r, 2100)); // key cache
    expect(err(await web.call('test.hello', {}, { sign: 'none' })).code).toBe('104');
    expect(err(await web.call('test.echo', { echo: 'x' }, { sign: 'A' })).code).toBe('105');
    expect((await web.call('test.echo', { echo: 'x' }, { sign: 'B' })).json().echo).toBe('x');
    await admin(`/admin/apps/${web.apiKey}`, 'PATCH', { signature_mode: 'hmac-sha256' });
    await new Promise((r) => setTimeout(r, 2100));
    const ts = String(Math.floor(Date.now() / 1000));
    expect(err(await web.call('test.echo', { echo: 'x', ts, nonce: 'nonce-0001' }, { sign: 'B' })).code).toBe('105'); // md5 refused
    expect((await web.call('test.echo', { echo: 'x', ts, nonce: 'nonce-0002' }, { sign: 'hmac' })).json().echo).toBe('x');
    expect(err(await web.call('test.echo', { echo: 'x', ts, nonce: 'nonce-0002' }, { sign: 'hmac' })).code).toBe('105'); // reused
    expect(err(await web.call('test.echo', { echo: 'x', ts: String(Number(ts) - 1000), nonce: 'nonce-0003' }, { sign: 'hmac' })).code).toBe('105'); // stale
  }, 60_000);

  it('allowed client networks (111), daily quota (112) with Retry-After; usage counted per key per day (A4, A10)', async () => {
    const q = await admin('/admin/apps', 'POST', { title: 'Quota', type: 'desktop' });
    const client = new ApiClient(sys.urls.gateway, q.json().api_key, q.json().secret);
    await admin(`/admin/apps/${client.apiKey}`, 'PATCH', { allowed_networks: ['10.0.0.0/8'] });
    await new Promise((r) => setTimeout(r, 2100));
    expect(err(await client.call('test.hello')).code).toBe('111');
    await admin(`/admin/apps/${client.apiKey}`, 'PATCH', { allowed_networks: ['127.0.0.0/8'], daily_quota: 2 });
    await new Promise((r) => setTimeout(r, 2100));
    expect((await client.call('test.hello')).json().api.status).toBe('ok');
    expect((await client.call('test.hello')).json().api.status).toBe('ok');
    const over = await client.call('test.hello');
    expect([err(over).code, over.headers.get('retry-after')]).toEqual(['112', '60']);
    const usage = (await admin(`/admin/apps/${client.apiKey}/usage?days=1`)).json();
    expect(usage.days[0]).toMatchObject({ calls: 4, errors: 2 });
    expect((await admin(`/admin/apps/${client.apiKey}`, 'DELETE')).status).toBe(204);
    expect(err(await client.call('test.hello')).code).toBe('101');
  }, 60_000);

  it('api.methods.getList / api.methods.get describe the table, even without a key', async () => {
    const list = (await desktop.call('api.methods.getList', {}, { key: null, sign: 'none' })).json();
    const names = list.methods.method.map((m: { name: string }) => m.name);
    expect(names).toEqual(expect.arrayContaining(['test.echo', 'auth.getFrob', 'account.setEmail']));
    const one = (await desktop.call('api.methods.get', { method: 'account.setEmail' })).json();
    expect(one.method.authentication).toEqual({ post: '1', sign: '1', token: '1' });
    expect(one.method.permissions).toEqual({ profile: 'write' });
  }, 60_000);
});

describe('application API: per-client-address limit (113)', () => {
  it('answers 113 with Retry-After once one address exceeds API_CLIENT_LIMIT calls a minute', async () => {
    const sys = await startSystem({ API_CLIENT_LIMIT: '3' });
    try {
      const res = await http(sys.urls.admin + '/admin/apps', {
        method: 'POST',
        body: JSON.stringify({ title: 'Limited', type: 'desktop' }),
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      });
      const client = new ApiClient(sys.urls.gateway, res.json().api_key, res.json().secret);
      for (let i = 0; i < 3; i++) expect((await client.call('test.hello')).json().api.status).toBe('ok');
      const limited = await client.call('test.hello');
      expect([limited.json().api.code, limited.headers.get('retry-after')]).toEqual(['113', '60']);
    } finally {
      await sys.stop();
    }
  }, 60_000);
});

describe('application API: idle tokens (A5)', () => {
  it('a token unused for longer than API_TOKEN_IDLE answers 107; use keeps it alive', async () => {
    const { TestClock } = await import('./support/ips');
    const clock = new TestClock();
    clock.sync();
    const sys = await startSystem({ API_TOKEN_IDLE: '1h' }, { clock });
    try {
      const post = (path: string, body: unknown) =>
        http(sys.urls.admin + path, { method: 'POST', body: JSON.stringify(body), headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' } }).then((r) => r.json());
      const app = await post('/admin/apps', { title: 'Idle', type: 'desktop' });
      const member = await post('/admin/members', { name: 'Ida', email: 'ida@example.test', password: 'x', pass_salt: 'a1B2c' });
      const client = new ApiClient(sys.urls.gateway, app.api_key, app.secret);
      const frob = (await client.call('auth.getFrob')).json().auth.frob;
      await sys.apps.auth.get(GrantsService, { strict: false }).approveFrob(app.api_key, frob, member.id, { profile: 'read' }, clock.now());
      const token = (await client.call('auth.getToken', { frob })).json().auth.token;
      clock.advance(50 * 60_000);
      expect((await client.call('account.get', { auth_token: token })).json().api.status).toBe('ok'); // used: alive again
      clock.advance(50 * 60_000);
      expect((await client.call('account.get', { auth_token: token })).json().api.status).toBe('ok');
      clock.advance(61 * 60_000);
      expect((await client.call('account.get', { auth_token: token })).json().api.code).toBe('107');
    } finally {
      await sys.stop();
    }
  }, 60_000);
});
