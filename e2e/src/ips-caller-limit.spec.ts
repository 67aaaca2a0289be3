import { Client } from 'pg';
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
    const members = (await http(`${sys.urls.admin}/admin/members/locked`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json();
    expect(members).toEqual([]);
  }, 60_000);

  it('D4: a request naming a registered slave in `url` updates its last access', async () => {
    const url = 'http://127.0.0.1:8081/ipsconnect.php';
    expect((await ips.get({ do: 'verifySettings', key: MK, url, ourKey: 'k' })).json().status).toBe('SUCCESS');
    const pg = new Client({ connectionString: sys.db.url });
    await pg.connect();
    try {
      await pg.query(`UPDATE slaves SET last_access_at = '2000-01-01' WHERE url = $1`, [url]);
      await ips.get({ do: 'checkName', key: MK, name: 'x', url });
      const { rows } = await pg.query('SELECT last_access_at FROM slaves WHERE url = $1', [url]);
      expect(new Date(rows[0].last_access_at).getFullYear()).toBeGreaterThan(2020);
      await pg.query(`UPDATE slaves SET last_access_at = '2000-01-01' WHERE url = $1`, [url]);
      await ips.get({ do: 'checkName', key: 'wrong', name: 'x', url }); // a refused key is no access
      const after = await pg.query('SELECT last_access_at FROM slaves WHERE url = $1', [url]);
      expect(new Date(after.rows[0].last_access_at).getFullYear()).toBe(2000);
    } finally {
      await pg.end();
    }
  }, 60_000);
});
