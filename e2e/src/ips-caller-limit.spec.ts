import { Client } from 'pg';
import { eventStream } from '@switchboard/events';
import { ipsClient, md5 } from './support/ips';
import { ADMIN_TOKEN, MASTER_KEY as MK, System, http, startSystem } from './support/system';

const WRONG = '$2a$13$abcdefghijklmnopqrstuughKQK2f/mJU.giKfFRQJ4/CTErrHLRq';
const RIGHT = '$2a$13$abcdefghijklmnopqrstuufJyGQz74MaXA58G4n4SAlu8WLjGODFe';

/** D12's second limit (failed logins per minute from one client address) and D4 (last access). */
describe('per-caller login limit and slave bookkeeping', () => {
  let sys: System;
  let ips: ReturnType<typeof ipsClient>;

  beforeAll(async () => {
    sys = await startSystem({ LOGIN_CALLER_LIMIT: '3' });
    ips = ipsClient(sys.urls.gateway);
    const res = await http(`${sys.urls.admin}/admin/members`, {
      method: 'POST',
      body: JSON.stringify({ name: 'Alice', email: 'alice@example.test', pass_hash: RIGHT, pass_salt: 'abcdefghijklmnopqrstuv' }),
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    });
    expect(res.status).toBe(201);
  }, 180_000);
  afterAll(async () => {
    await sys?.stop();
  }, 180_000);

  it('after LOGIN_CALLER_LIMIT failures from one address, every login from it answers ACCOUNT_LOCKED', async () => {
    const login = (id: string, password: string) => ips.get({ do: 'login', key: md5(MK, id), idType: '3', id, password });
    expect((await login('nobody', WRONG)).json().status).toBe('ACCOUNT_NOT_FOUND');
    expect((await login('Alice', WRONG)).json().status).toBe('WRONG_AUTH');
    expect((await login('ghost', WRONG)).json().status).toBe('ACCOUNT_NOT_FOUND');
    // Three failures this minute: the caller is now limited, whatever the account and password.
    expect((await login('Alice', RIGHT)).text).toBe('{"status":"ACCOUNT_LOCKED"}');
    expect((await login('nobody', WRONG)).text).toBe('{"status":"ACCOUNT_LOCKED"}');
    // The account itself is not locked (only 1 failure on it): another client address is unaffected.
    const members = (await http(`${sys.urls.admin}/admin/members/locked`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json().items;
    expect(members).toEqual([]);
    // A counted failure's event and the address's counter go to Redis in one MULTI: the counter
    // keeps its expiry, and the event is on the gateway's stream.
    const counters = await sys.redis.client.keys('switchboard:login-fails:*');
    expect(counters).toHaveLength(1);
    expect(Number(await sys.redis.client.get(counters[0]))).toBe(3);
    const ttl = await sys.redis.client.ttl(counters[0]);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(120);
    const events = (await sys.redis.client.xrange(eventStream('gateway'), '-', '+')).map(([, fields]) => JSON.parse(fields[1]) as { type: string; memberId: number | null; data: { reason?: string } });
    expect(events.filter((e) => e.type === 'authn_login_fail').map((e) => e.data.reason)).toEqual(['unknown_account', 'wrong_password', 'unknown_account']);
  }, 60_000);

  it('D4: a request naming a registered slave in `url` updates its last access (read actions in the gateway, writes in auth)', async () => {
    const lastAccess = async (url: string) => {
      const slaves = (await http(`${sys.urls.admin}/admin/slaves`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json().items as { url: string; last_access_at: string | null }[];
      return new Date(slaves.find((s) => s.url === url)!.last_access_at ?? 0).getFullYear();
    };
    const pg = new Client({ connectionString: sys.db.url });
    await pg.connect();
    try {
      for (const [port, call] of [
        // A read action: answered by the gateway, recorded in Redis.
        [8081, (url: string, key: string) => ips.get({ do: 'checkName', key, name: 'x', url })],
        // An action that changes something: run by auth, recorded in PostgreSQL.
        [8082, (url: string, key: string) => ips.get({ do: 'changeName', key: md5(key, '999999'), id: '999999', name: 'Nobody', url })],
      ] as const) {
        const url = `http://127.0.0.1:${port}/ipsconnect.php`;
        expect((await ips.get({ do: 'verifySettings', key: MK, url, ourKey: 'k' })).json().status).toBe('SUCCESS');
        await pg.query(`UPDATE slaves SET last_access_at = '2000-01-01' WHERE url = $1`, [url]);
        await call(url, 'wrong'); // a refused key is no access
        expect(await lastAccess(url)).toBe(2000);
        await call(url, MK);
        expect(await lastAccess(url)).toBeGreaterThan(2020);
      }
    } finally {
      await pg.end();
    }
  }, 60_000);
});
