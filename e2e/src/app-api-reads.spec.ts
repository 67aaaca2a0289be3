import type { IncomingMessage, Server } from 'node:http';
import { GrantsService } from '@switchboard/app-api';
import { ApiClient } from './support/api-client';
import { adminApi, http, startSystem, System } from './support/system';

/**
 * Issue 11: at most one of our processes does the work of a signed application API read. The
 * gateway checks every call itself (key copy per keyring version, limits, signature, nonce, token
 * in one statement) and answers the read methods without any request to the auth service; only the
 * methods that change what auth owns go there. Counted on auth's own HTTP server.
 */
describe('application API reads: answered by the gateway alone', () => {
  let sys: System;
  let md5: ApiClient;
  let hmac: ApiClient;
  let md5Token: string;
  let hmacToken: string;
  let memberId: number;
  const internal: string[] = [];
  let nonce = 0;
  const admin = adminApi(() => sys);
  const authServer = () => sys.apps.auth.getHttpAdapter().getInstance().server as Server;
  /** An hmac-sha256 call with a fresh ts and nonce (A3). */
  const hmacCall = (method: string, params: Record<string, string> = {}, opts: { post?: boolean } = {}) =>
    hmac.call(method, { ...params, ts: String(Math.floor(Date.now() / 1000)), nonce: `reads-nonce-${++nonce}` }, { sign: 'hmac', ...opts });
  const tokenFor = async (client: ApiClient, sign: (m: string, p?: Record<string, string>) => ReturnType<ApiClient['call']>) => {
    const frob = (await sign('auth.getFrob')).json().auth.frob as string;
    expect(await sys.apps.auth.get(GrantsService, { strict: false }).approveFrob(client.apiKey, frob, memberId, { profile: 'read', network: 'read' }, new Date())).toBe(true);
    return (await sign('auth.getToken', { frob })).json().auth.token as string;
  };
  /** Every read method, signed md5 and hmac-sha256, with and without a token: the answers expected. */
  const reads = async () => {
    const out: unknown[] = [];
    for (const [client, call, token] of [
      [md5, (m: string, p?: Record<string, string>) => md5.call(m, p), md5Token],
      [hmac, hmacCall, hmacToken],
    ] as const) {
      expect((await call('test.echo', { echo: 'hi' })).json()).toEqual({ api: { status: 'ok' }, echo: 'hi' });
      expect((await call('test.hello')).json().hello).toBe('hello world!');
      expect((await call('account.get', { auth_token: token })).json().user).toEqual(
        expect.objectContaining({ user_id: String(memberId), username: 'Reader', email: 'reader@example.test', banned: '0' }),
      );
      expect((await call('auth.checkToken', { auth_token: token })).json().auth.permissions).toEqual(
        expect.objectContaining({ profile: 'read', network: 'read', user: 'read', doc: 'none' }),
      );
      expect((await call('user.get', { user_id: String(memberId) })).json().user.username).toBe('Reader');
      expect((await call('user.get', { user_id: '999999' })).json().api.code).toBe('1');
      expect((await call('network.sites.getList', { auth_token: token })).json().sites).toBeDefined();
      expect((await call('api.methods.get', { method: 'account.get' })).json().method.name).toBe('account.get');
      out.push(client.apiKey);
    }
    expect((await md5.call('api.methods.getList', {}, { key: null, sign: 'none' })).json().methods.method.length).toBeGreaterThan(5);
    return out;
  };

  beforeAll(async () => {
    sys = await startSystem({ API_CLIENT_LIMIT: '100000' }, { withoutPropagator: true });
    authServer().on('request', (req: IncomingMessage) => {
      if (req.url?.startsWith('/internal/')) internal.push(`${req.method} ${req.url.split('?')[0]}`);
    });
    const m = await admin('/admin/members', 'POST', { name: 'Reader', email: 'reader@example.test', password: 'x', pass_salt: 'a1B2c' });
    expect(m.status).toBe(201);
    memberId = m.json().id;
    const a = (await admin('/admin/apps', 'POST', { title: 'md5 reader', type: 'desktop' })).json();
    md5 = new ApiClient(sys.urls.gateway, a.api_key, a.secret);
    const b = (await admin('/admin/apps', 'POST', { title: 'hmac reader', type: 'desktop' })).json();
    hmac = new ApiClient(sys.urls.gateway, b.api_key, b.secret);
    expect((await admin(`/admin/apps/${hmac.apiKey}`, 'PATCH', { signature_mode: 'hmac-sha256' })).status).toBe(200);
    md5Token = await tokenFor(md5, (m, p) => md5.call(m, p));
    hmacToken = await tokenFor(hmac, hmacCall);
    // Warm-up: the gateway fetches the application keys once for the current keyring version.
    await reads();
  }, 180_000);

  afterAll(async () => {
    await sys?.stop();
  }, 180_000);

  it('signed reads (md5 and hmac-sha256, with a token or without) make no HTTP request to auth', async () => {
    internal.length = 0;
    await reads();
    expect(internal).toEqual([]);
  }, 60_000);

  it('a refused signature or an unknown key answers exactly as before, cheaply (no request to auth, however many)', async () => {
    internal.length = 0;
    const bad = await md5.call('test.echo', { echo: 'hi', api_sig: 'f'.repeat(32) }, { sign: 'none' });
    expect(bad.status).toBe(200);
    expect(bad.text).toBe('{"api":{"status":"error","code":"105","message":"The query signature is invalid."}}');
    expect(bad.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const badXml = await md5.call('account.get', { auth_token: md5Token, api_sig: '0'.repeat(32) }, { sign: 'none', format: 'xml' });
    expect(badXml.text).toBe('<?xml version="1.0" encoding="UTF-8"?>\n<api status="error" code="105" message="The query signature is invalid."></api>');
    const hmacBad = await hmac.call('test.echo', { echo: 'hi', ts: String(Math.floor(Date.now() / 1000)), nonce: 'reads-bad-sig-1' }, { sign: 'B' });
    expect(hmacBad.text).toBe('{"api":{"status":"error","code":"105","message":"The query signature is invalid."}}');
    for (let i = 0; i < 20; i++) {
      const unknown = new ApiClient(sys.urls.gateway, i.toString(16).padStart(32, '0'), 'whatever');
      const res = await unknown.call('test.echo', { echo: 'hi' });
      expect(res.status).toBe(200);
      expect(res.text).toBe('{"api":{"status":"error","code":"101","message":"This API key is invalid or disabled."}}');
    }
    const malformed = await new ApiClient(sys.urls.gateway, 'not-a-key', 'x').call('test.hello', {}, { format: 'xml' });
    expect(malformed.text).toBe('<?xml version="1.0" encoding="UTF-8"?>\n<api status="error" code="101" message="This API key is invalid or disabled."></api>');
    const badToken = await md5.call('account.get', { auth_token: '1-0123456789abcdef0123456789abcdef' });
    expect(badToken.text).toBe('{"api":{"status":"error","code":"107","message":"The authentication token is invalid."}}');
    expect(internal).toEqual([]);
  }, 60_000);

  it('changes are executed by auth once checked by the gateway (one request each)', async () => {
    internal.length = 0;
    expect((await md5.call('auth.getFrob')).json().auth.frob).toMatch(/^\d+-[0-9a-f]{32}$/);
    expect((await hmacCall('auth.getFrob')).json().auth.frob).toMatch(/^\d+-[0-9a-f]{32}$/);
    expect(internal).toEqual(['POST /internal/api/execute', 'POST /internal/api/execute']);
  }, 60_000);

  it('with auth unreachable, reads still answer and changes answer 503 with Retry-After', async () => {
    const server = authServer();
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    try {
      await reads();
      for (const res of [await md5.call('auth.getFrob'), await hmacCall('auth.getFrob')]) {
        expect(res.status).toBe(200);
        expect(res.text).toBe('{"api":{"status":"error","code":"503","message":"Service unavailable."}}');
        expect(res.headers.get('retry-after')).toBe('5');
      }
    } finally {
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
    }
    expect((await md5.call('auth.getFrob')).json().auth.frob).toBeDefined();
  }, 60_000);
});
