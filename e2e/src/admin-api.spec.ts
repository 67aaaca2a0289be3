import { Client } from 'pg';
import { waitFor } from '@switchboard/testing';
import { ADMIN_TOKEN, MASTER_KEY, System, http, startSystem } from './support/system';

const LIMIT = 8;
const PROBLEM = /^application\/problem\+json/;

/**
 * Issue 12 (admin API): RFC 9457 problem details on every admin error, cursor pagination on every
 * list, named admin tokens (create, list, revoke; refused at once), the audit log naming the token
 * behind every action and every failed authentication, and the per-address failure limit.
 */
describe('admin API: problems, lists, tokens, audit, limits', () => {
  let sys: System;
  const as = (token: string, path: string, method = 'GET', body?: unknown, headers: Record<string, string> = {}) =>
    http(`${sys.urls.admin}${path}`, {
      method,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    });
  const admin = (path: string, method = 'GET', body?: unknown) => as(ADMIN_TOKEN, path, method, body);
  const expectProblem = (res: Awaited<ReturnType<typeof http>>, status: number, slug?: string) => {
    expect([res.status, res.headers.get('content-type')]).toEqual([status, expect.stringMatching(PROBLEM)]);
    const p = res.json();
    expect(p).toEqual(
      expect.objectContaining({ type: expect.stringMatching(/^urn:switchboard:problem:/), title: expect.any(String), status, detail: expect.any(String), instance: expect.stringMatching(/^urn:switchboard:request:/) }),
    );
    if (slug) expect(p.type).toBe(`urn:switchboard:problem:${slug}`);
    return p;
  };
  const audit = async (type: string) => (await admin(`/admin/audit?type=${type}&limit=500`)).json().items as { details: Record<string, unknown>; member_id: number | null }[];

  const sql = async (text: string, values: unknown[] = []) => {
    const pg = new Client({ connectionString: sys.db.url });
    await pg.connect();
    try {
      return (await pg.query(text, values)).rows;
    } finally {
      await pg.end();
    }
  };
  const clearFailures = async () => {
    const keys = await sys.redis.client.keys('switchboard:admin:auth-fails:*');
    if (keys.length) await sys.redis.client.del(...keys);
    return keys;
  };

  beforeAll(async () => {
    sys = await startSystem({}, { adminAuthFailLimit: LIMIT });
  }, 180_000);
  afterAll(async () => {
    await sys?.stop();
  }, 180_000);

  it('answers every admin error as application/problem+json, never echoing the request', async () => {
    const secret = `key=${MASTER_KEY}`;
    // Validation: every field named, values not echoed; unknown fields and parameters not named either.
    const bad = await admin('/admin/members', 'POST', { name: 'x'.repeat(300), email: MASTER_KEY, password: 'pw', [MASTER_KEY]: 1 });
    const p = expectProblem(bad, 400, 'validation');
    expect(p.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'name' }), expect.objectContaining({ field: 'email' }), { field: null, message: expect.stringMatching(/^unknown parameter/) }]));
    expect(bad.text).not.toContain(MASTER_KEY);
    const query = await admin(`/admin/audit?limit=0&${MASTER_KEY}=1`);
    expect(expectProblem(query, 400, 'validation').errors).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'limit' })]));
    expect(query.text).not.toContain(MASTER_KEY);
    expectProblem(await admin('/admin/members', 'POST', '{'), 400, 'bad-request');
    // 401 (with WWW-Authenticate), 404 (unknown route, unknown resource), 409 relayed from auth.
    const anonymous = await http(`${sys.urls.admin}/admin/slaves?${secret}`);
    expectProblem(anonymous, 401, 'unauthorized');
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer realm="switchboard-admin"');
    const route = await admin(`/admin/nothing?${secret}`);
    expect(expectProblem(route, 404, 'not-found').detail).toBe('No such route');
    expect(route.text).not.toMatch(/nothing|key=/);
    expectProblem(await admin('/admin/members/99999'), 404, 'not-found');
    expect((await admin('/admin/members', 'POST', { name: 'Dup', email: 'dup@example.test', password: 'pw' })).status).toBe(201);
    const dup = await admin('/admin/members', 'POST', { name: 'Dup2', email: 'dup@example.test', password: 'pw' });
    expect(expectProblem(dup, 409, 'conflict').code).toBe('email_in_use');
    // The request id is the instance.
    const withId = await as(ADMIN_TOKEN, '/admin/members/abc', 'GET', undefined, { 'x-request-id': 'probe-4711' });
    expect(expectProblem(withId, 404).instance).toBe('urn:switchboard:request:probe-4711');
    // Other services keep their own shapes.
    const auth = await http(`${sys.urls.auth}/internal/nothing`, { headers: { 'x-internal-token': sys.env['INTERNAL_TOKEN'] } });
    expect(auth.headers.get('content-type')).toMatch(/^application\/json/);
    expect(sys.logs.lines.filter((l) => /"statusCode":5\d\d/.test(l))).toEqual([]);
  }, 60_000);

  it('pages every list with ?limit=&cursor= → {items, next_cursor}, filters and all', async () => {
    for (let i = 0; i < 5; i++) expect((await admin('/admin/members', 'POST', { name: `Pager ${i}`, email: `pager${i}@example.test`, password: 'pw' })).status).toBe(201);
    for (let i = 0; i < 3; i++) expect((await admin('/admin/apps', 'POST', { title: `App ${i}`, type: 'desktop' })).status).toBe(201);
    for (let i = 0; i < 3; i++) expect((await admin('/admin/slaves', 'POST', { url: `http://127.0.0.1:9/s${i}.php` })).status).toBe(201);
    for (let i = 0; i < 3; i++) expect((await admin('/admin/tokens', 'POST', { name: `pager-${i}` })).status).toBe(201);
    const walk = async (path: string, limit: number) => {
      const seen: unknown[] = [];
      let cursor: string | null = null;
      for (let pages = 0; pages < 50; pages++) {
        const sep = path.includes('?') ? '&' : '?';
        const res = await admin(`${path}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
        expect([path, res.status]).toEqual([path, 200]);
        const body = res.json();
        expect(Object.keys(body).sort()).toEqual(['items', 'next_cursor']);
        expect(body.items.length).toBeLessThanOrEqual(limit);
        seen.push(...body.items.map((i: { id?: unknown; api_key?: unknown }) => i.id ?? i.api_key));
        cursor = body.next_cursor;
        if (!cursor) return seen;
      }
      throw new Error(`${path}: no last page`);
    };
    for (const path of ['/admin/members', '/admin/members?q=pager', '/admin/apps', '/admin/apps?type=desktop&enabled=true', '/admin/slaves', '/admin/slaves?enabled=false', '/admin/tokens', '/admin/tokens?revoked=false', '/admin/audit', '/admin/audit?type=user_created', '/admin/deliveries', '/admin/members/locked']) {
      const all = (await admin(`${path}${path.includes('?') ? '&' : '?'}limit=500`)).json().items.map((i: { id?: unknown; api_key?: unknown }) => i.id ?? i.api_key);
      const paged = await walk(path, 2);
      expect([path, paged]).toEqual([path, all]);
      expect([path, new Set(paged).size]).toEqual([path, paged.length]);
    }
    expect((await admin('/admin/members?q=pager')).json().items).toHaveLength(5);
    expect((await admin('/admin/slaves?enabled=true')).json().items).toEqual([]);
    // A cursor of another list, or garbage, is a 400 naming `cursor`; so is an unknown filter.
    const members = (await admin('/admin/members?limit=1')).json();
    for (const path of [`/admin/slaves?cursor=${members.next_cursor}`, '/admin/audit?cursor=bm9wZQ', '/admin/tokens?cursor=%2F%2F', '/admin/slaves?status=dead', '/admin/apps?enabled=yes']) {
      expect([path, expectProblem(await admin(path), 400, 'validation').errors.length]).toEqual([path, 1]);
    }
  }, 120_000);

  it('named admin tokens: created (shown once), listed without it, usable, revoked and refused on the next call; the audit names them', async () => {
    const created = await admin('/admin/tokens', 'POST', { name: 'ops-laptop' });
    expect(created.status).toBe(201);
    const { id, token, ...rest } = created.json();
    expect(token).toMatch(/^sbat_[A-Za-z0-9_-]{43}$/);
    expect(rest).toEqual({ name: 'ops-laptop', created_at: expect.any(String), created_by: 'bootstrap', last_used_at: null, revoked_at: null, revoked_by: null });
    const listing = await admin('/admin/tokens?limit=500');
    expect(listing.text).not.toContain(token);
    expect(listing.json().items.find((t: { id: number }) => t.id === id).name).toBe('ops-laptop');
    expect((await sql('SELECT digest FROM admin_tokens WHERE id = $1', [id]))[0].digest).not.toContain(token.slice(5));
    expectProblem(await admin('/admin/tokens', 'POST', { name: 'ops-laptop' }), 409);
    expectProblem(await admin('/admin/tokens', 'POST', { name: 'bootstrap' }), 400, 'validation');

    // The named token works like ADMIN_TOKEN; what it does is audited under its name.
    expect((await as(token, '/admin/members')).status).toBe(200);
    const member = (await as(token, '/admin/members', 'POST', { name: 'ByToken', email: 'bytoken@example.test', password: 'pw' })).json();
    expect((await as(token, `/admin/members/${member.id}/unlock`, 'POST')).status).toBe(200);
    const second = (await as(token, '/admin/tokens', 'POST', { name: 'ci' })).json();
    expect(second.created_by).toBe('ops-laptop');
    expect((await admin('/admin/tokens?limit=500')).json().items.find((t: { id: number }) => t.id === id).last_used_at).not.toBeNull();

    // Revoked: refused on its very next request, with a 401 problem; the failure audited with its name.
    const revoked = await as(second.token, `/admin/tokens/${id}`, 'DELETE');
    expect(revoked.status).toBe(200);
    expect(revoked.json()).toEqual(expect.objectContaining({ id, revoked_by: 'ci', revoked_at: expect.any(String) }));
    expectProblem(await as(token, '/admin/members'), 401, 'unauthorized');
    expectProblem(await admin(`/admin/tokens/${id}`, 'DELETE'), 404);
    expect((await as(second.token, '/admin/members')).status).toBe(200);
    // A new token may take a revoked token's name.
    expect((await admin('/admin/tokens', 'POST', { name: 'ops-laptop' })).status).toBe(201);

    await waitFor(async () => (await audit('admin_action')).length >= 5, 10_000, 'admin actions audited');
    const actions = (await audit('admin_action')).map((e) => [e.details['token_name'], e.details['method'], e.details['route'], e.details['status']]);
    expect(actions).toEqual(
      expect.arrayContaining([
        ['ops-laptop', 'POST', '/admin/members', 201],
        ['ops-laptop', 'POST', '/admin/members/:id/unlock', 200],
        ['ops-laptop', 'POST', '/admin/tokens', 201],
        ['ci', 'DELETE', '/admin/tokens/:id', 200],
        ['bootstrap', 'POST', '/admin/tokens', 201],
      ]),
    );
    expect(actions.filter(([, method]) => method === 'GET')).toEqual([]);
    expect((await audit('admin_action')).find((e) => e.details['route'] === '/admin/members/:id/unlock')?.member_id).toBe(member.id);
    expect((await http(`${sys.urls.admin}/admin/tokens`)).status).toBe(401);
    const fails = await waitFor(async () => {
      const items = await audit('admin_authn_fail');
      return items.some((e) => e.details['reason'] === 'missing') ? items : undefined;
    }, 10_000, 'failed authentications audited');
    expect(fails.map((e) => [e.details['reason'], e.details['token_name']])).toEqual(expect.arrayContaining([['revoked', 'ops-laptop'], ['missing', null]]));
    expect(JSON.stringify(fails)).not.toContain(token);
    expect((await audit('admin_token_created')).map((e) => [e.details['name'], e.details['by']])).toEqual(expect.arrayContaining([['ops-laptop', 'bootstrap'], ['ci', 'ops-laptop']]));
    expect((await audit('admin_token_revoked')).map((e) => [e.details['name'], e.details['by']])).toEqual([['ops-laptop', 'ci']]);
  }, 60_000);

  it('limits failed authentications per address (429 problem with Retry-After, the right token included), audited', async () => {
    await clearFailures();
    let status = 0;
    for (let i = 0; i < LIMIT; i++) {
      status = (await as(`wrong-${i}-0123456789abcdef0123456789`, '/admin/slaves')).status;
      expect(status).toBe(401);
    }
    const limited = await as('wrong-again-0123456789abcdef0123456789', '/admin/slaves');
    const p = expectProblem(limited, 429, 'rate-limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(p.retry_after).toBeGreaterThan(0);
    expectProblem(await admin('/admin/slaves'), 429);
    await waitFor(async () => (await sql(`SELECT count(*)::int AS n FROM audit_events WHERE type = 'admin_authn_rate_limited'`))[0].n === 1, 10_000, 'rate limit audited');
    // The counter is Redis's (admin's own key family); when the minute ends the address may try again.
    expect(await clearFailures()).toHaveLength(1);
    expect((await admin('/admin/slaves')).status).toBe(200);
  }, 60_000);
});
