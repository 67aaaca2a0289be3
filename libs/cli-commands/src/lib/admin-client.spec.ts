import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { adminTokenPage, slaveState } from '@switchboard/contracts';
import { AdminClient } from './admin-client';
import { CliError, EXIT } from './cli-error';

const PROBLEM = 'application/problem+json';
const problem = (status: number, extra: Record<string, unknown> = {}) => ({
  type: 'urn:switchboard:problem:x',
  title: { 400: 'Bad Request', 403: 'Forbidden', 409: 'Conflict', 429: 'Too Many Requests' }[status] ?? 'Error',
  status,
  detail: 'the detail',
  instance: 'urn:switchboard:request:1',
  ...extra,
});

/** The admin client against a stand-in admin API on 127.0.0.1 that answers as each test says. */
describe('AdminClient', () => {
  let server: Server;
  let base: string;
  let handle: (req: IncomingMessage, res: ServerResponse) => void;
  const seen: { method?: string; url?: string; authorization?: string; body: string }[] = [];
  const client = (timeoutMs = 2000, token: string | null = 'tok-123') => new AdminClient({ adminUrl: base, token: token ?? undefined, tokenSource: 'SWITCHBOARD_ADMIN_TOKEN', timeoutMs });
  const failure = async (p: Promise<unknown>): Promise<CliError> => {
    const e = await p.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(CliError);
    return e as CliError;
  };
  const answer = (status: number, body: unknown, type = 'application/json') => {
    handle = (req, res) => {
      let text = '';
      req.on('data', (d) => (text += d));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, authorization: req.headers.authorization, body: text });
        res.writeHead(status, { 'content-type': type }).end(typeof body === 'string' ? body : JSON.stringify(body));
      });
    };
  };

  beforeAll(async () => {
    server = createServer((req, res) => handle(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }, 30_000);
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }, 30_000);

  const STATE = { id: 1, url: 'https://forum.example/ipsconnect.php', enabled: true, disabled_reason: null, verified: true };

  it('sends the bearer token and the JSON body, and checks the answer against its schema', async () => {
    answer(200, STATE);
    expect(await client().request('POST', '/admin/slaves/1/disable', slaveState, { reason: 'r' })).toEqual(STATE);
    expect(seen.at(-1)).toEqual({ method: 'POST', url: '/admin/slaves/1/disable', authorization: 'Bearer tok-123', body: '{"reason":"r"}' });
    answer(200, { ...STATE, enabled: 'yes' });
    const e = await failure(client().request('GET', '/x', slaveState));
    expect([e.exitCode, e.message]).toEqual([EXIT.FAILED, `unexpected answer from ${base}: an answer of another shape (enabled: Invalid input: expected boolean, received string)`]);
    answer(200, '<html>', 'text/html');
    expect((await failure(client().request('GET', '/x', slaveState))).message).toMatch(/an answer that is not JSON$/);
    answer(302, '');
    expect((await failure(client().request('GET', '/x', slaveState))).message).toMatch(/HTTP 302$/);
    answer(204, '');
    expect(await client().request('DELETE', '/x', null)).toBeUndefined();
  }, 30_000);

  it('follows next_cursor through every page', async () => {
    const token = (id: number) => ({ id, name: `t${id}`, created_at: '2025-01-01T00:00:00.000Z', created_by: 'bootstrap', last_used_at: null, revoked_at: null, revoked_by: null });
    handle = (req, res) => {
      const cursor = new URL(req.url!, base).searchParams.get('cursor');
      const page = cursor === null ? { items: [token(1), token(2)], next_cursor: 'abc' } : { items: [token(3)], next_cursor: null };
      seen.push({ url: req.url, body: '' });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(page));
    };
    expect((await client().list('/admin/tokens', adminTokenPage, { revoked: 'false', other: undefined })).map((t) => t.id)).toEqual([1, 2, 3]);
    expect(seen.slice(-2).map((s) => s.url)).toEqual(['/admin/tokens?limit=500&revoked=false', '/admin/tokens?limit=500&revoked=false&cursor=abc']);
  }, 30_000);

  it('says a problem+json answer in plain words: title, detail, code, fields; 401 and 403 as a refused token', async () => {
    answer(409, problem(409, { code: 'slave_exists' }), PROBLEM);
    expect(await failure(client().request('POST', '/x', z.unknown(), {}))).toMatchObject({ exitCode: EXIT.FAILED, status: 409, message: 'Conflict: the detail (slave_exists)', details: [] });
    answer(400, problem(400, { errors: [{ field: 'url', message: 'must be printable ASCII' }, { field: null, message: 'give one' }], code: 'slave_url_refused', rule: 'address' }), PROBLEM);
    expect(await failure(client().request('POST', '/x', z.unknown(), {}))).toMatchObject({
      message: 'Bad Request: the detail (slave_url_refused)',
      details: ['url: must be printable ASCII', 'request: give one', 'rule: address'],
    });
    answer(403, problem(403), PROBLEM);
    const refused = await failure(client().request('GET', '/x', z.unknown()));
    expect(refused.message).toBe('the admin token was refused (403 Forbidden: the detail)');
    expect(refused.details.join()).toContain('SWITCHBOARD_ADMIN_TOKEN');
    expect(refused.details.join()).not.toContain('tok-123');
    answer(429, problem(429, { retry_after: 42 }), PROBLEM);
    expect((await failure(client().request('GET', '/x', z.unknown()))).details).toEqual(['retry in 42 s']);
    // Control characters from the answer are shown escaped, not sent to the terminal.
    answer(409, { ...problem(409), detail: 'bad\u001b[2Jthing' }, PROBLEM);
    expect((await failure(client().request('GET', '/x', z.unknown()))).message).toBe('Conflict: bad\\x1b[2Jthing');
    answer(502, 'Bad Gateway', 'text/plain');
    expect((await failure(client().request('GET', '/x', z.unknown()))).message).toBe('the admin API answered 502 Bad Gateway');
  }, 30_000);

  it('cannot reach: no answer within the timeout, or a closed port (exit 3); no token: usage (exit 2, nothing sent)', async () => {
    handle = () => undefined; // never answers
    const started = Date.now();
    const slow = await failure(client(300).request('GET', '/x', z.unknown()));
    expect([slow.exitCode, slow.message]).toEqual([EXIT.UNREACHABLE, `no answer from the admin API at ${base} within 300 ms`]);
    expect(Date.now() - started).toBeLessThan(5000);
    // A port where nothing listens any more.
    const gone = createServer();
    await new Promise<void>((r) => gone.listen(0, '127.0.0.1', r));
    const port = (gone.address() as AddressInfo).port;
    await new Promise((r) => gone.close(r));
    const closed = new AdminClient({ adminUrl: `http://127.0.0.1:${port}`, token: 't', tokenSource: 'x', timeoutMs: 2000 });
    expect(await failure(closed.request('GET', '/x', z.unknown()))).toMatchObject({ exitCode: EXIT.UNREACHABLE, message: `cannot reach the admin API at http://127.0.0.1:${port}: connection refused` });
    const before = seen.length;
    expect((await failure(client(2000, null).request('GET', '/x', z.unknown()))).exitCode).toBe(EXIT.USAGE);
    expect(seen.length).toBe(before);
  }, 30_000);
});
