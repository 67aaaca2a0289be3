import { Client } from 'pg';
import { BrowserChainService } from '@switchboard/ips-connect';
import { waitFor } from '@switchboard/testing';
import { FakeSlave } from './support/fake-slave';
import { ipsClient, md5 } from './support/ips';
import { adminApi, http, MASTER_KEY as MK, startSystem, System } from './support/system';

const HASH = '$2a$13$0123456789abcdefghijke83qjoCb8ggnz2a4OYR7vO8WGClpIei.';
const SALT = '0123456789abcdefghijkl';

/**
 * Issue 12: the member lifecycle from the admin API. Every action reaches every enabled slave as the
 * IPS call a slave-originated change would make (same parameters, the slave's key), and is audited.
 */
describe('admin API: member lifecycle', () => {
  let sys: System;
  let a: FakeSlave;
  let b: FakeSlave;
  let ips: ReturnType<typeof ipsClient>;
  const admin = adminApi(() => sys);
  let n = 0;
  const create = async () => {
    n += 1;
    const r = await admin('/admin/members', 'POST', { name: `life${n}`, email: `life${n}@example.test`, pass_hash: HASH, pass_salt: SALT });
    expect(r.status).toBe(201);
    const id = r.json().id as number;
    await waitFor(() => a.got('register', String(id)).length > 0 && b.got('register', String(id)).length > 0, 15_000, 'register at both slaves');
    return id;
  };
  /** What both slaves received for `action` on `id`: the same parameters, each with its own right key. */
  const delivered = async (action: string, id: number, count = 1) => {
    await waitFor(() => a.got(action, String(id)).length >= count && b.got(action, String(id)).length >= count, 15_000, `${action} ${id} at both slaves`);
    const [x, y] = [a.got(action, String(id))[count - 1], b.got(action, String(id))[count - 1]];
    expect(x.keyOk && y.keyOk).toBe(true);
    const strip = (p: Record<string, string>) => Object.fromEntries(Object.entries(p).filter(([k]) => k !== 'key'));
    expect(strip(x.params)).toEqual(strip(y.params));
    return strip(x.params);
  };

  beforeAll(async () => {
    sys = await startSystem();
    ips = ipsClient(sys.urls.gateway);
    a = await new FakeSlave('key-of-slave-a-0123456789').start();
    b = await new FakeSlave('key-of-slave-b-0123456789').start();
    for (const s of [a, b]) expect((await ips.get({ do: 'verifySettings', key: MK, url: s.url, ourKey: s.key })).json().status).toBe('SUCCESS');
  }, 180_000);
  afterAll(async () => {
    for (const s of [a, b]) await s?.stop();
    await sys?.stop();
  }, 180_000);

  it('PATCH edits e-mail, name and password in one go; each reaches the slaves as changeEmail, changeName, changePassword', async () => {
    const id = await create();
    const r = await admin(`/admin/members/${id}`, 'PATCH', { email: `renamed${id}@example.test`, name: `Renamed ${id}`, password: 'a new password' });
    expect(r.status).toBe(200);
    expect(r.json()).toMatchObject({ id, email: `renamed${id}@example.test`, name: `Renamed ${id}` });
    expect(await delivered('changeEmail', id)).toEqual({ do: 'changeEmail', id: String(id), email: `renamed${id}@example.test`, slaveCall: '1' });
    expect(await delivered('changeName', id)).toEqual({ do: 'changeName', id: String(id), name: `Renamed ${id}`, slaveCall: '1' });
    const pw = await delivered('changePassword', id);
    expect(pw['pass_hash']).toMatch(/^\$2a\$13\$/);
    expect(pw['pass_salt']).toHaveLength(22);
    // The master answers with the new salt, and a login with the new hash succeeds.
    const email = `renamed${id}@example.test`;
    const salt = (await ips.get({ do: 'fetchSalt', key: md5(MK + email), idType: '2', id: email })).json();
    expect(salt).toMatchObject({ status: 'SUCCESS', pass_salt: pw['pass_salt'] });
    const login = await ips.get({ do: 'login', key: md5(MK + email), idType: '2', id: email, password: pw['pass_hash'] });
    expect(login.json().connect_status).toBe('SUCCESS');
  }, 60_000);

  it('a clash answers 409 naming the field and changes nothing (not even the fields before it)', async () => {
    const first = await create();
    const second = await create();
    const taken = (await admin(`/admin/members/${first}`)).json().email as string;
    const r = await admin(`/admin/members/${second}`, 'PATCH', { name: `Would be ${second}`, email: taken });
    expect(r.status).toBe(409);
    expect(r.json()).toMatchObject({ status: 409, code: 'email_in_use' });
    expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect((await admin(`/admin/members/${second}`)).json().name).toBe(`life${n}`);
    expect(a.got('changeName', String(second))).toHaveLength(0);
  }, 60_000);

  it('ban, unban and validate reach every slave as IPS ban (status 1, then 0) and validate', async () => {
    const id = await create();
    expect((await admin(`/admin/members/${id}/ban`, 'POST')).json()).toMatchObject({ id, banned: true });
    expect(await delivered('ban', id)).toEqual({ do: 'ban', id: String(id), status: '1', slaveCall: '1' });
    expect((await admin(`/admin/members/${id}/unban`, 'POST')).json()).toMatchObject({ id, banned: false });
    expect(await delivered('ban', id, 2)).toEqual({ do: 'ban', id: String(id), status: '0', slaveCall: '1' });
    expect((await admin(`/admin/members/${id}/validate`, 'POST')).status).toBe(200);
    expect(await delivered('validate', id)).toEqual({ do: 'validate', id: String(id), slaveCall: '1' });
  }, 60_000);

  it('merge and delete reach every slave; the removed and deleted members are gone; the audit keeps them', async () => {
    const keep = await create();
    const remove = await create();
    const merged = await admin(`/admin/members/${keep}/merge`, 'POST', { remove });
    expect(merged.status).toBe(200);
    expect(merged.json().id).toBe(keep);
    expect(await delivered('merge', keep)).toEqual({ do: 'merge', id: String(keep), remove: String(remove), slaveCall: '1' });
    expect((await admin(`/admin/members/${remove}`)).status).toBe(404);
    expect((await admin(`/admin/members/${keep}/merge`, 'POST', { remove: keep })).status).toBe(400);
    expect((await admin(`/admin/members/${keep}/merge`, 'POST', { remove })).status).toBe(404);

    expect((await admin(`/admin/members/${keep}`, 'DELETE')).status).toBe(204);
    expect(await delivered('delete', keep)).toEqual({ do: 'delete', id: String(keep), slaveCall: '1' });
    expect((await admin(`/admin/members/${keep}`)).status).toBe(404);
    expect((await admin(`/admin/members/${keep}`, 'DELETE')).status).toBe(404);
    await waitFor(
      async () => (await admin(`/admin/audit?member_id=${keep}`)).json().items.some((e: { type: string; source: string }) => e.type === 'user_deleted' && e.source === 'admin'),
      15_000,
      'user_deleted (source admin) in the audit',
    );
  }, 90_000);

  it('log out everywhere: every master session of the member stops counting on its next use; a ban does the same', async () => {
    const id = await create();
    const chains = sys.apps.gateway.get(BrowserChainService);
    const pg = new Client({ connectionString: sys.db.url });
    await pg.connect();
    const epoch = async () => Number((await pg.query('SELECT session_epoch FROM members WHERE id = $1', [id])).rows[0].session_epoch);
    const sid = await chains.createSession(id, await epoch());
    const other = await chains.createSession(id, await epoch());
    expect(await chains.liveSession(sid)).toMatchObject({ memberId: id });
    const r = await admin(`/admin/members/${id}/logout`, 'POST');
    expect(r.status).toBe(200);
    expect(await chains.liveSession(sid)).toBeNull();
    expect(await chains.liveSession(other)).toBeNull();
    // Sessions created after it count again, until a ban.
    const fresh = await chains.createSession(id, await epoch());
    expect(await chains.liveSession(fresh)).toMatchObject({ memberId: id });
    await admin(`/admin/members/${id}/ban`, 'POST');
    expect(await chains.liveSession(fresh)).toBeNull();
    await waitFor(
      async () => (await admin(`/admin/audit?type=session_expired`)).json().items.some((e: { member_id?: number; memberId?: number }) => (e.member_id ?? e.memberId) === id),
      15_000,
      'session_expired in the audit',
    );
    await pg.end();
  }, 60_000);

  it('bad input is 400 naming the field, unknown members 404, no token 401 — never 500', async () => {
    const id = await create();
    for (const body of [{}, { nickname: 'x' }, { email: 'not-an-address' }, { name: 'a\u0000b' }, { pass_hash: HASH }, { password: 'x', pass_hash: HASH, pass_salt: SALT }]) {
      const r = await admin(`/admin/members/${id}`, 'PATCH', body);
      expect(r.status).toBe(400);
    }
    expect((await admin(`/admin/members/${id}/merge`, 'POST', { remove: 'two' })).status).toBe(400);
    for (const path of ['/admin/members/999999/ban', '/admin/members/0/unban', '/admin/members/abc/validate', '/admin/members/2147483648/logout']) {
      expect((await admin(path, 'POST')).status).toBe(404);
    }
    expect((await admin('/admin/members/999999', 'PATCH', { name: 'x' })).status).toBe(404);
    expect((await admin(`/admin/members/${id}/ban`, 'POST', undefined, '')).status).toBe(401);
    expect((await admin(`/admin/members/${id}`, 'DELETE', undefined, 'wrong')).status).toBe(401);
    expect((await admin(`/admin/members/${id}`)).json().banned).toBe(false);
  }, 60_000);
});
