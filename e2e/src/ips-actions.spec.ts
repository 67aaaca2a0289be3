import { Client } from 'pg';
import { SecretBox } from '@switchboard/crypto';
import { waitFor } from '@switchboard/testing';
import { TestClock, ipsClient, md5 } from './support/ips';
import { ADMIN_TOKEN, MASTER_KEY as MK, System, http, startSystem } from './support/system';

/**
 * IPS Connect actions end to end over HTTP (gateway → auth → PostgreSQL/Redis), with the §8 vectors
 * and a test for each decision D1–D14 that would fail without it. The PHP harness
 * (ips-conformance.spec.ts) checks the same protocol independently, the way real slaves do.
 */
const SA = 'http://127.0.0.1:8081/applications/core/interface/ipsconnect/ipsconnect.php';
const SB = 'http://127.0.0.1:8082/ipsconnect.php';
const SKA = 'fedcba9876543210fedcba9876543210';
const SKB = '00112233445566778899aabbccddeeff';
const ALICE_HASH = '$2a$13$abcdefghijklmnopqrstuufJyGQz74MaXA58G4n4SAlu8WLjGODFe';
const BOB_HASH = '$2a$13$0123456789abcdefghijke83qjoCb8ggnz2a4OYR7vO8WGClpIei.';
const WRONG_HASH = '$2a$13$abcdefghijklmnopqrstuughKQK2f/mJU.giKfFRQJ4/CTErrHLRq';
const NEW_HASH = '$2a$13$ABCDEFGHIJKLMNOPQRSTUOPP139/pBRb4Bb7sZUqu.9S/aS1.lzN6';

describe('IPS Connect actions', () => {
  const clock = new TestClock();
  let sys: System;
  let ips: ReturnType<typeof ipsClient>;
  let pg: Client;
  const admin = (path: string, init: { method?: string; body?: unknown } = {}) =>
    http(sys.urls.admin + path, {
      method: init.method,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
    });
  const outbox = async (after = 0) =>
    (await pg.query('SELECT id, type, payload FROM outbox_events WHERE id > $1 ORDER BY id', [after])).rows as {
      id: string;
      type: string;
      payload: any;
    }[];
  const lastOutboxId = async () => Number((await pg.query('SELECT coalesce(max(id), 0) AS m FROM outbox_events')).rows[0].m);
  const propagated = async (after: number) => (await outbox(after)).filter((e) => e.payload.propagate);
  const slaveId = async (url: string) => (await pg.query('SELECT id FROM slaves WHERE url = $1', [url])).rows[0]?.id as number;
  const createMember = async (body: Record<string, unknown>) => {
    const res = await admin('/admin/members', { method: 'POST', body });
    expect([res.status, res.text]).toEqual([201, expect.any(String)]);
    return res.json();
  };
  const register = (name: string, email: string, extra: Record<string, string> = {}) =>
    ips.get({ do: 'register', key: MK, name, email, pass_hash: BOB_HASH, pass_salt: '0123456789abcdefghijkl', revalidateUrl: '', url: SA, ...extra });

  beforeAll(async () => {
    sys = await startSystem({}, { clock });
    ips = ipsClient(sys.urls.gateway);
    pg = new Client({ connectionString: sys.db.url });
    await pg.connect();
    for (const [url, key] of [
      [SA, SKA],
      [SB, SKB],
    ]) {
      expect((await ips.get({ do: 'verifySettings', key: MK, url, ourKey: key })).text).toBe('{"status":"SUCCESS"}');
    }
    const alice = await createMember({ id: 42, name: 'Alice', email: 'alice@example.test', password: 'correct horse', pass_salt: 'abcdefghijklmnopqrstuv' });
    expect(alice).toMatchObject({ id: 42, name: 'Alice', email: 'alice@example.test', pass_salt: 'abcdefghijklmnopqrstuv' });
  }, 180_000);

  afterAll(async () => {
    await pg?.end();
    await sys?.stop();
  }, 180_000);

  describe('§8.6 register and the outbox, D9, D11', () => {
    it('registers Bob as 43 and writes the exact parameters slave B will receive, pass_hash sealed', async () => {
      const before = await lastOutboxId();
      const res = await register('Bob', 'bob@example.test');
      expect(res.text).toBe('{"status":"SUCCESS","connect_id":43}');
      const events = await propagated(before);
      expect(events).toHaveLength(1);
      const { payload } = events[0];
      expect(events[0].type).toBe('user_created');
      expect(payload.slaveId).toBe(await slaveId(SA)); // the originator, excluded from propagation
      expect(payload.memberId).toBe(43);
      expect(payload.propagate.action).toBe('register');
      expect(payload.propagate.sealed).toEqual(['pass_hash']);
      const params = Object.fromEntries(payload.propagate.params);
      expect(payload.propagate.params.map(([k]: [string]) => k)).toEqual(['name', 'email', 'pass_hash', 'pass_salt', 'id', 'revalidateUrl']);
      expect(params).toMatchObject({ name: 'Bob', email: 'bob@example.test', pass_salt: '0123456789abcdefghijkl', id: '43', revalidateUrl: '' });
      expect(params.pass_hash).not.toBe(BOB_HASH);
      expect(new SecretBox(sys.config.SECRETS_KEY).open(params.pass_hash, 'outbox-param')).toBe(BOB_HASH);
      // Bob can log in right away (§8.6).
      expect((await ips.get({ do: 'fetchSalt', key: '42731179720cb163b494d1f3b29969c4', idType: '2', id: 'bob@example.test' })).json().pass_salt).toBe(
        '0123456789abcdefghijkl',
      );
      expect((await ips.get({ do: 'login', key: '42731179720cb163b494d1f3b29969c4', idType: '2', id: 'bob@example.test', password: BOB_HASH })).json()).toMatchObject({
        status: 'SUCCESS',
        connect_id: 43,
      });
    }, 60_000);

    it('D9: a retried identical register answers the same id and records nothing; clashes are refused', async () => {
      const before = await lastOutboxId();
      expect((await register('Bob', 'bob@example.test')).text).toBe('{"status":"SUCCESS","connect_id":43}');
      expect((await register('Bob', 'BOB@example.test')).text).toBe('{"status":"SUCCESS","connect_id":43}');
      expect((await register('Bob', 'bob@example.test', { pass_hash: WRONG_HASH, pass_salt: 'abcdefghijklmnopqrstuv' })).text).toBe('{"status":"EMAIL_IN_USE"}');
      expect((await register('Robert', 'bob@example.test')).text).toBe('{"status":"EMAIL_IN_USE"}');
      expect((await register('bob', 'other@example.test')).text).toBe('{"status":"USERNAME_IN_USE"}');
      expect(await propagated(before)).toHaveLength(0);
    }, 60_000);

    it('asks for every required value and for hashes of the right format', async () => {
      const base = { do: 'register', key: MK, name: 'Dora', email: 'dora@example.test', pass_hash: BOB_HASH, pass_salt: '0123456789abcdefghijkl' };
      const before = await lastOutboxId();
      for (const missing of ['name', 'email', 'pass_hash', 'pass_salt']) {
        const q: Record<string, string> = { ...base };
        delete q[missing];
        expect([missing, (await ips.get(q)).text]).toEqual([missing, '{"status":"REQUEST_MISSING_DATA"}']);
      }
      expect((await ips.get({ ...base, pass_hash: 'plaintext' })).json().status).toBe('REQUEST_MISSING_DATA');
      expect((await ips.get({ ...base, pass_salt: 'a1B2c' })).json().status).toBe('REQUEST_MISSING_DATA'); // bcrypt hash, legacy salt
      expect((await ips.get({ ...base, email: 'not-an-email' })).json().status).toBe('REQUEST_MISSING_DATA');
      expect((await ips.get({ ...base, name: 'x'.repeat(256) })).json().status).toBe('REQUEST_MISSING_DATA');
      expect((await ips.get({ ...base, key: 'wrong' })).json().status).toBe('BAD_KEY');
      expect((await ips.raw(`do=register&key=${MK}&name[]=Dora&email=dora@example.test&pass_hash=${BOB_HASH}&pass_salt=0123456789abcdefghijkl`)).json().status).toBe(
        'REQUEST_MISSING_DATA',
      );
      expect((await ips.raw(`do=register&key=${MK}&name=D%FFora&email=dora@example.test&pass_hash=${BOB_HASH}&pass_salt=0123456789abcdefghijkl`)).json().status).toBe(
        'REQUEST_MISSING_DATA',
      );
      expect(await propagated(before)).toHaveLength(0);
    }, 60_000);

    it('D11: a slave-registered account with a revalidate URL logs in as VALIDATING until validated', async () => {
      const reg = await register('Carol', 'carol@example.test', { revalidateUrl: 'http://127.0.0.1:8081/' });
      const id = reg.json().connect_id;
      const login = { do: 'login', key: md5(MK, 'carol@example.test'), idType: '2', id: 'carol@example.test', password: BOB_HASH };
      expect((await ips.get(login)).text).toBe(
        `{"status":"SUCCESS","connect_status":"VALIDATING","email":"carol@example.test","name":"Carol","connect_id":${id},"connect_revalidate_url":"http:\\/\\/127.0.0.1:8081\\/"}`,
      );
      expect((await ips.get({ do: 'validate', key: md5(MK, String(id)), url: SA, id: String(id) })).text).toBe('{"status":"SUCCESS"}');
      expect((await ips.get(login)).json()).toMatchObject({ connect_status: 'SUCCESS', connect_revalidate_url: null });
      // D11 also clears the master's own flag (an admin-created validating account).
      const dan = await createMember({ name: 'Dan', email: 'dan@example.test', password: 'x', pass_salt: 'a1B2c', validating: true });
      const danLogin = { do: 'login', key: md5(MK, 'Dan'), idType: '1', id: 'Dan', password: (await import('./support/legacy')).legacy('x', 'a1B2c') };
      expect((await ips.get(danLogin)).json()).toMatchObject({ connect_status: 'VALIDATING', connect_revalidate_url: null });
      await ips.get({ do: 'validate', key: md5(MK, String(dan.id)), id: String(dan.id) });
      expect((await ips.get(danLogin)).json().connect_status).toBe('SUCCESS');
    }, 60_000);
  });

  describe('§8.2 fetchSalt, §8.4 fetchId, §8.5 checkEmail / checkName, D7, D8', () => {
    it('answers the §8.2 vectors byte for byte', async () => {
      const salt = '{"status":"SUCCESS","pass_salt":"abcdefghijklmnopqrstuv"}';
      expect((await ips.get({ do: 'fetchSalt', key: 'a6f74b02ac80d8417e3775c38f44a322', idType: '2', id: 'alice@example.test' })).text).toBe(salt);
      expect((await ips.get({ do: 'fetchSalt', key: '789e7936f4496b53cc29ee33a5aad4a7', idType: '1', id: 'Alice' })).text).toBe(salt);
      expect((await ips.get({ do: 'fetchSalt', key: '789e7936f4496b53cc29ee33a5aad4a7', idType: '3', id: 'Alice' })).text).toBe(salt);
      expect((await ips.get({ do: 'fetchSalt', key: md5(MK, 'nobody@example.test'), idType: '2', id: 'nobody@example.test' })).text).toBe(
        '{"status":"ACCOUNT_NOT_FOUND"}',
      );
      expect((await ips.get({ do: 'fetchSalt', key: 'ef7d05c70b4fddc71bb6d4449bfdd60e', idType: '2', id: 'alice@example.test' })).text).toBe(
        '{"status":"BAD_KEY"}',
      );
      expect((await ips.get({ do: 'fetchSalt', key: 'a6f74b02ac80d8417e3775c38f44a322', id: 'alice@example.test' })).text).toBe(
        '{"status":"REQUEST_MISSING_DATA"}',
      );
    }, 60_000);

    it('D7: accepts idType 1/name/username, 2/email, 3 and finds nothing for any other value (no column names)', async () => {
      const find = async (idType: string, id: string) => (await ips.get({ do: 'fetchSalt', key: md5(MK, id), idType, id })).json().status;
      for (const t of ['1', 'name', 'username']) expect(await find(t, 'Alice')).toBe('SUCCESS');
      for (const t of ['2', 'email', '3']) expect(await find(t, 'alice@example.test')).toBe('SUCCESS');
      for (const t of ['4', 'members_email', 'pass_salt', 'email ', 'EMAIL']) expect(await find(t, 'alice@example.test')).toBe('ACCOUNT_NOT_FOUND');
      expect((await ips.get({ do: 'fetchId', key: 'a6f74b02ac80d8417e3775c38f44a322', id: 'alice@example.test', idType: 'email' })).text).toBe(
        '{"status":"SUCCESS","connect_id":42}',
      );
      expect((await ips.get({ do: 'fetchId', key: md5(MK, 'Alice'), id: 'Alice', idType: 'email' })).text).toBe('{"status":"ACCOUNT_NOT_FOUND"}');
    }, 60_000);

    it('D8: matches names and e-mails case-insensitively (Unicode), keys over the id as typed', async () => {
      expect((await ips.get({ do: 'fetchSalt', key: md5(MK, 'ALICE@Example.TEST'), idType: '2', id: 'ALICE@Example.TEST' })).json().status).toBe('SUCCESS');
      expect((await ips.get({ do: 'fetchSalt', key: md5(MK, 'alice@example.test'), idType: '2', id: 'ALICE@Example.TEST' })).json().status).toBe('BAD_KEY');
      expect((await ips.get({ do: 'checkEmail', key: MK, email: 'alice@example.test' })).text).toBe('{"status":"SUCCESS","used":1}');
      expect((await ips.get({ do: 'checkEmail', key: MK, email: 'nobody@example.test' })).text).toBe('{"status":"SUCCESS","used":0}');
      expect((await ips.get({ do: 'checkName', key: MK, name: 'ALICE' })).text).toBe('{"status":"SUCCESS","used":1}');
      expect((await ips.get({ do: 'checkName', key: 'nope', name: 'ALICE' })).text).toBe('{"status":"BAD_KEY"}');
      await createMember({ name: 'Élodie', email: 'ÉLODIE@example.test', password: 'x', pass_salt: 'a1B2c' });
      expect((await ips.get({ do: 'checkName', key: MK, name: 'éLODIE' })).json().used).toBe(1);
      expect((await ips.get({ do: 'checkEmail', key: MK, email: 'élodie@EXAMPLE.test' })).json().used).toBe(1);
      expect((await ips.get({ do: 'checkName', key: MK, name: 'Elodie' })).json().used).toBe(0); // no accent folding
    }, 60_000);
  });

  describe('§8.3 login, D11, D13', () => {
    it('answers the §8.3 vectors byte for byte, GET and POST', async () => {
      const q = { do: 'login', key: 'a6f74b02ac80d8417e3775c38f44a322', idType: '2', id: 'alice@example.test', password: ALICE_HASH };
      const ok = '{"status":"SUCCESS","connect_status":"SUCCESS","email":"alice@example.test","name":"Alice","connect_id":42,"connect_revalidate_url":null}';
      expect((await ips.get(q)).text).toBe(ok);
      expect((await ips.post(q)).text).toBe(ok);
      expect((await ips.get({ ...q, password: WRONG_HASH })).text).toBe('{"status":"WRONG_AUTH"}');
      // D13: the plaintext is never accepted, only the hash format of the account's salt.
      expect((await ips.get({ ...q, password: 'correct horse' })).text).toBe('{"status":"WRONG_AUTH"}');
      expect((await ips.get({ ...q, password: md5('x') })).text).toBe('{"status":"WRONG_AUTH"}');
      expect((await ips.get({ do: 'login', key: 'ef7d05c70b4fddc71bb6d4449bfdd60e', idType: '2', id: 'alice@example.test', password: ALICE_HASH })).text).toBe(
        '{"status":"BAD_KEY"}',
      );
    }, 60_000);

    it('logs in legacy accounts (5-character salt, md5 scheme) and UTF-8 passwords', async () => {
      await createMember({ name: 'Legacy', email: 'legacy@example.test', password: 'p@ss<word>&"!', pass_salt: 'a1B2c' });
      const q = { do: 'login', key: md5(MK, 'Legacy'), idType: '1', id: 'Legacy' };
      expect((await ips.get({ ...q, password: 'bcd5fd83456b79c21b4a608c6f7dc439' })).json().status).toBe('SUCCESS');
      expect((await ips.get({ ...q, password: 'ac0deea758b3bd9b97e2dcc14e4cc534' })).json().status).toBe('WRONG_AUTH');
      await createMember({ name: 'Utf', email: 'utf@example.test', password: 'pässwörd✓', pass_salt: 'abcdefghijklmnopqrstuv' });
      expect(
        (await ips.get({ do: 'login', key: md5(MK, 'Utf'), idType: '1', id: 'Utf', password: '$2a$13$abcdefghijklmnopqrstuu7P1CmFKpuTeNHBraH.7yyzltpvhvO52' })).json()
          .status,
      ).toBe('SUCCESS');
    }, 20_000);

    it('D13: stores no pass_hash in the clear, anywhere', async () => {
      const members = JSON.stringify((await pg.query('SELECT * FROM members')).rows);
      const events = JSON.stringify((await pg.query('SELECT * FROM outbox_events')).rows);
      for (const hash of [ALICE_HASH, BOB_HASH, 'bcd5fd83456b79c21b4a608c6f7dc439']) {
        expect(members).not.toContain(hash);
        expect(events).not.toContain(hash);
      }
    }, 60_000);
  });

  describe('§8.7–§8.9 changes, D6, D10', () => {
    const key = (id: number | string) => md5(MK, String(id));

    it('§8.7 changePassword: new salt and hash work, the old hash does not, propagation carries both', async () => {
      const before = await lastOutboxId();
      const res = await ips.get({ do: 'changePassword', key: 'ef7d05c70b4fddc71bb6d4449bfdd60e', url: SA, pass_hash: NEW_HASH, pass_salt: 'ABCDEFGHIJKLMNOPQRSTUV', id: '42' });
      expect(res.text).toBe('{"status":"SUCCESS"}');
      const [event] = await propagated(before);
      expect(event.payload.propagate.params.map(([k]: [string]) => k)).toEqual(['id', 'pass_hash', 'pass_salt']);
      expect(event.payload.propagate.params[2]).toEqual(['pass_salt', 'ABCDEFGHIJKLMNOPQRSTUV']);
      expect(JSON.stringify(event.payload)).not.toContain(NEW_HASH);
      expect((await ips.get({ do: 'fetchSalt', key: 'a6f74b02ac80d8417e3775c38f44a322', idType: '2', id: 'alice@example.test' })).json().pass_salt).toBe('ABCDEFGHIJKLMNOPQRSTUV');
      const login = { do: 'login', key: 'a6f74b02ac80d8417e3775c38f44a322', idType: '2', id: 'alice@example.test' };
      expect((await ips.get({ ...login, password: ALICE_HASH })).json().status).toBe('WRONG_AUTH');
      expect((await ips.get({ ...login, password: NEW_HASH })).json().status).toBe('SUCCESS');
      expect((await ips.get({ do: 'changePassword', key: key(42), pass_hash: NEW_HASH, id: '42' })).json().status).toBe('REQUEST_MISSING_DATA');
      expect((await ips.get({ do: 'changePassword', key: key(42), pass_hash: 'abc', pass_salt: 'ABCDEFGHIJKLMNOPQRSTUV', id: '42' })).json().status).toBe(
        'REQUEST_MISSING_DATA',
      );
    }, 60_000);

    it('§8.8 changeEmail / changeName, with D10 (own value → SUCCESS, nothing propagated)', async () => {
      let before = await lastOutboxId();
      expect((await ips.get({ do: 'changeEmail', key: key(42), url: SA, email: 'alice2@example.test', id: '42' })).text).toBe('{"status":"SUCCESS"}');
      const [email] = await propagated(before);
      expect(email.payload.propagate).toMatchObject({ action: 'changeEmail', params: [['id', '42'], ['email', 'alice2@example.test']] });
      before = await lastOutboxId();
      expect((await ips.get({ do: 'changeEmail', key: key(42), url: SA, email: 'bob@example.test', id: '42' })).text).toBe('{"status":"EMAIL_IN_USE"}');
      expect((await ips.get({ do: 'changeEmail', key: key(42), url: SA, id: '42' })).text).toBe('{"status":"REQUEST_MISSING_DATA"}');
      expect((await ips.get({ do: 'changeEmail', key: key(42), url: SA, email: 'alice2@example.test', id: '42' })).text).toBe('{"status":"SUCCESS"}');
      expect((await ips.get({ do: 'changeName', key: key(42), url: SA, name: 'Bob', id: '42' })).text).toBe('{"status":"USERNAME_IN_USE"}');
      expect((await ips.get({ do: 'changeName', key: key(42), url: SA, name: 'Alice', id: '42' })).text).toBe('{"status":"SUCCESS"}');
      expect((await ips.get({ do: 'changeName', key: key(42), url: SA, id: '42' })).text).toBe('{"status":"REQUEST_MISSING_DATA"}');
      expect(await propagated(before)).toHaveLength(0);
      expect((await ips.get({ do: 'changeName', key: key(42), url: SA, name: 'Alicia', id: '42' })).text).toBe('{"status":"SUCCESS"}');
      const [name] = await propagated(before);
      expect(name.payload.propagate).toMatchObject({ action: 'changeName', params: [['id', '42'], ['name', 'Alicia']] });
      expect((await ips.get({ do: 'changeEmail', key: key(999), email: 'x@example.test', id: '999' })).text).toBe('{"status":"SUCCESS"}');
      expect((await ips.get({ do: 'changeName', key: key(42), url: SA, name: 'Alice', id: '42' })).json().status).toBe('SUCCESS');
    }, 60_000);

    it('§8.9 validate, ban, merge, delete propagate; unknown ids answer SUCCESS and propagate nothing', async () => {
      const a = (await register('Eve', 'eve@example.test')).json().connect_id as number;
      const b = (await register('Finn', 'finn@example.test')).json().connect_id as number;
      const before = await lastOutboxId();
      expect((await ips.get({ do: 'validate', key: key(b), url: SA, id: String(b) })).text).toBe('{"status":"SUCCESS"}');
      expect((await ips.get({ do: 'ban', key: key(a), url: SA, status: '1', id: String(a) })).text).toBe('{"status":"SUCCESS"}');
      expect((await ips.get({ do: 'ban', key: key(a), url: SA, status: '0', id: String(a) })).text).toBe('{"status":"SUCCESS"}');
      expect((await ips.get({ do: 'merge', key: key(a), url: SA, remove: String(b), id: String(a) })).text).toBe('{"status":"SUCCESS"}');
      const events = await propagated(before);
      expect(events.map((e) => [e.type, e.payload.propagate.action, e.payload.propagate.params])).toEqual([
        ['user_validated', 'validate', [['id', String(b)]]],
        ['user_banned', 'ban', [['id', String(a)], ['status', '1']]],
        ['user_unbanned', 'ban', [['id', String(a)], ['status', '0']]],
        ['user_merged', 'merge', [['id', String(a)], ['remove', String(b)]]],
      ]);
      expect((await pg.query('SELECT id FROM members WHERE id = $1', [b])).rowCount).toBe(0); // merged away
      const mid = await lastOutboxId();
      expect((await ips.get({ do: 'delete', key: key(a), url: SA, id: String(a) })).text).toBe('{"status":"SUCCESS"}');
      expect((await propagated(mid)).map((e) => e.payload.propagate.action)).toEqual(['delete']);
      const after = await lastOutboxId();
      const unknown: Record<string, string>[] = [
        { do: 'delete', key: key(999), id: '999' },
        { do: 'validate', key: key(999), id: '999' },
        { do: 'ban', key: key(999), id: '999', status: '1' },
        { do: 'merge', key: key(42), remove: '999', id: '42' },
        { do: 'merge', key: key(42), remove: '42', id: '42' },
      ];
      for (const q of unknown) {
        expect((await ips.get(q)).text).toBe('{"status":"SUCCESS"}');
      }
      expect(await propagated(after)).toHaveLength(0);
    }, 60_000);

    it('merge accepts remote= for remove= (a known client bug) when remove is absent', async () => {
      const a = (await register('Gus', 'gus@example.test')).json().connect_id as number;
      const b = (await register('Hal', 'hal@example.test')).json().connect_id as number;
      expect((await ips.get({ do: 'merge', key: key(a), remote: String(b), id: String(a) })).text).toBe('{"status":"SUCCESS"}');
      expect((await pg.query('SELECT id FROM members WHERE id = $1', [b])).rowCount).toBe(0);
    }, 60_000);

    it('D6: a missing or malformed member id is REQUEST_MISSING_DATA, never the raw-MK fallback', async () => {
      const before = await lastOutboxId();
      for (const action of ['validate', 'delete', 'ban', 'merge', 'changeEmail', 'changePassword', 'changeName']) {
        for (const id of [undefined, '', '042', '0', '-1', '+42', '42.0', '4 2', 'abc', '2147483648', '99999999999']) {
          const q: Record<string, string> = { do: action, key: id === undefined ? MK : md5(MK, id), email: 'z@example.test', name: 'Zed', pass_hash: NEW_HASH, pass_salt: 'ABCDEFGHIJKLMNOPQRSTUV', remove: '43', status: '1' };
          if (id !== undefined) q['id'] = id;
          expect([action, id, (await ips.get(q)).text]).toEqual([action, id, '{"status":"REQUEST_MISSING_DATA"}']);
        }
        expect((await ips.get({ do: action, key: MK, id: '42', email: 'z@example.test' })).json().status).toBe('BAD_KEY');
      }
      expect(await propagated(before)).toHaveLength(0);
      expect((await ips.get({ do: 'validate', key: md5(MK, '2147483647'), id: '2147483647' })).text).toBe('{"status":"SUCCESS"}');
    }, 60_000);
  });

  describe('§8.10, D1, D2, D3: dispatch and transport', () => {
    it('disableSlave stops a slave (SUCCESS even when unknown); slaveCall → DISABLED; unknown do → INVALID_ACTION', async () => {
      const tmp = 'http://127.0.0.1:8099/ipsconnect.php';
      await ips.get({ do: 'verifySettings', key: MK, url: tmp, ourKey: 'k1' });
      expect((await ips.get({ do: 'disableSlave', key: MK, url: tmp })).text).toBe('{"status":"SUCCESS"}');
      expect((await pg.query('SELECT enabled FROM slaves WHERE url = $1', [tmp])).rows[0].enabled).toBe(false);
      expect((await ips.get({ do: 'disableSlave', key: MK, url: 'http://127.0.0.1:1/none' })).text).toBe('{"status":"SUCCESS"}');
      expect((await ips.get({ do: 'disableSlave', key: 'bad', url: tmp })).text).toBe('{"status":"BAD_KEY"}');
      expect((await ips.get({ do: 'login', slaveCall: '1', key: 'x' })).text).toBe('{"status":"DISABLED"}');
      expect((await ips.get({ do: 'nosuchthing', key: MK })).text).toBe('{"status":"INVALID_ACTION"}');
      for (const bad of ['dispatch', '_construct', 'checkReturnTo', 'VERIFYSETTINGS', 'constructor', 'toString', '__proto__']) {
        expect((await ips.get({ do: bad, key: MK })).text).toBe('{"status":"INVALID_ACTION"}');
      }
    }, 60_000);

    it('D1: act= without do= (IPB 3.4) answers INVALID_ACTION', async () => {
      expect((await ips.get({ act: 'login', key: MK, id: 'Alice' })).text).toBe('{"status":"INVALID_ACTION"}');
    }, 60_000);

    it('D2: last occurrence wins, POST overrides GET, NUL and U+202E are stripped before the key check', async () => {
      expect((await ips.raw(`do=checkName&key=wrong&key=${MK}&name=Bob`)).text).toBe('{"status":"SUCCESS","used":1}');
      const res = await http(`${sys.urls.gateway}/ipsconnect?do=checkName&key=wrong&name=Nobody`, { method: 'POST', body: `key=${MK}&name=Bob` });
      expect(res.text).toBe('{"status":"SUCCESS","used":1}');
      expect((await ips.raw(`do=checkName&key=${MK.slice(0, 10)}%00${MK.slice(10)}%E2%80%AE&name=Bob`)).text).toBe('{"status":"SUCCESS","used":1}');
      expect((await ips.raw(`do=fetchSalt&key=${md5(MK, '42')}&idType=1&id=4%002`)).json().status).not.toBe('BAD_KEY');
    }, 60_000);

    it('D3: PHP json_encode escaping of non-ASCII and slashes', async () => {
      const id = (await register('Jürgen/Ø', 'jürgen@example.test')).json().connect_id;
      const res = await ips.get({ do: 'login', key: 'f615eca5bcb79908f1df482e37e7f6f3', idType: '2', id: 'jürgen@example.test', password: BOB_HASH });
      expect(res.text).toBe(
        `{"status":"SUCCESS","connect_status":"SUCCESS","email":"j\\u00fcrgen@example.test","name":"J\\u00fcrgen\\/\\u00d8","connect_id":${id},"connect_revalidate_url":null}`,
      );
    }, 60_000);

    it('never answers 500 to malformed input on any action', async () => {
      const actions = ['verifySettings', 'disableSlave', 'fetchSalt', 'login', 'fetchId', 'register', 'validate', 'delete', 'ban', 'merge', 'checkEmail', 'checkName', 'changeEmail', 'changePassword', 'changeName'];
      const garbage = [
        'key[]=a&id[]=1&email[]=x&name[]=y',
        'key=%FF&id=%FE&email=%C0%AF&name=%ED%A0%80',
        `key=${MK}&id=${'9'.repeat(5000)}&email=${'a'.repeat(20000)}&name=x`,
        'key&id&email&name&idType&password&pass_hash&pass_salt',
        'key=%&id=%%%&email=%zz&=&&&',
        `key=${MK}&url=${'h'.repeat(3000)}&ourKey=${'k'.repeat(3000)}`,
      ];
      for (const action of actions) {
        for (const g of garbage) {
          const get = await ips.raw(`do=${action}&${g}`);
          // Node refuses request lines over 16 KiB with 431 before we see them; bodies go to 64 KiB.
          expect([action, g.slice(0, 20), get.status]).toEqual([action, g.slice(0, 20), g.length > 16_000 ? 431 : 200]);
          const post = await http(`${sys.urls.gateway}/ipsconnect`, { method: 'POST', body: `do=${action}&${g}` });
          expect([action, g.slice(0, 20), post.status]).toEqual([action, g.slice(0, 20), 200]);
          expect(() => post.json()).not.toThrow();
        }
      }
      const json = await http(`${sys.urls.gateway}/ipsconnect?do=login`, { method: 'POST', body: '{"key":1}', headers: { 'content-type': 'application/json' } });
      expect(json.status).toBe(200);
      expect(json.text).toBe('{"status":"REQUEST_MISSING_DATA"}');
    }, 60_000);
  });

  describe('D5: per-slave master keys and switching the global key off', () => {
    const SC = 'http://127.0.0.1:8083/ipsconnect.php';
    let perSlaveKey: string;

    it('issues a key for a URL that registers only that URL and identifies the caller', async () => {
      const res = await admin('/admin/slaves', { method: 'POST', body: { url: SC } });
      expect(res.status).toBe(201);
      perSlaveKey = res.json().master_key;
      expect(perSlaveKey).toMatch(/^[0-9a-f]{48}$/);
      expect((await admin('/admin/slaves', { method: 'POST', body: { url: 'ftp://x' } })).status).toBe(400);
      expect((await ips.get({ do: 'verifySettings', key: perSlaveKey, url: 'http://127.0.0.1:8084/rogue.php', ourKey: 'k' })).text).toBe('{"status":"FAILURE"}');
      expect((await ips.get({ do: 'verifySettings', key: perSlaveKey, url: SC, ourKey: 'slave-c-key' })).text).toBe('{"status":"SUCCESS"}');
      const before = await lastOutboxId();
      // Whatever `url` says, a per-slave key names its slave as the originator.
      expect((await ips.get({ do: 'validate', key: md5(perSlaveKey, '43'), url: SA, id: '43' })).text).toBe('{"status":"SUCCESS"}');
      const [event] = await propagated(before);
      expect(event.payload.slaveId).toBe(await slaveId(SC));
    }, 60_000);

    it('with the global key switched off, MK is refused and per-slave keys still work', async () => {
      expect((await admin('/admin/settings', { method: 'PATCH', body: { global_master_key: false } })).json()).toEqual({ global_master_key: false });
      try {
        await waitFor(async () => (await ips.get({ do: 'checkName', key: MK, name: 'Bob' })).json().status === 'BAD_KEY', 5000, 'global key off');
        expect((await ips.get({ do: 'checkName', key: perSlaveKey, name: 'Bob' })).text).toBe('{"status":"SUCCESS","used":1}');
        expect((await ips.get({ do: 'fetchSalt', key: md5(MK, 'Bob'), idType: '1', id: 'Bob' })).json().status).toBe('BAD_KEY');
      } finally {
        await admin('/admin/settings', { method: 'PATCH', body: { global_master_key: true } });
      }
      await waitFor(async () => (await ips.get({ do: 'checkName', key: MK, name: 'Bob' })).json().status === 'SUCCESS', 5000, 'global key on');
      expect((await admin('/admin/settings', { method: 'PATCH', body: { global_master_key: 'no' } })).status).toBe(400);
    }, 60_000);
  });

  describe('D12: brute-force lockout', () => {
    const login = (password: string) => ips.get({ do: 'login', key: md5(MK, 'Bob'), idType: '1', id: 'Bob', password });

    it('locks after 5 failures, answers ACCOUNT_LOCKED even to the right password, unlocks after a minute', async () => {
      for (let i = 0; i < 5; i++) expect((await login(WRONG_HASH)).json().status).toBe('WRONG_AUTH');
      expect((await login(BOB_HASH)).text).toBe('{"status":"ACCOUNT_LOCKED"}');
      expect((await login(WRONG_HASH)).text).toBe('{"status":"ACCOUNT_LOCKED"}');
      const locked = (await admin('/admin/members/locked')).json().items;
      expect(locked.map((m: { id: number }) => m.id)).toEqual([43]);
      clock.advance(59_000);
      expect((await login(BOB_HASH)).json().status).toBe('ACCOUNT_LOCKED');
      clock.advance(2_000);
      expect((await login(BOB_HASH)).json().status).toBe('SUCCESS');
    }, 60_000);

    it('counts concurrent failures: a burst cannot get past the lock', async () => {
      const results = await Promise.all(Array.from({ length: 20 }, () => login(WRONG_HASH)));
      const statuses = results.map((r) => r.json().status);
      expect(statuses.filter((s) => s === 'WRONG_AUTH').length).toBeLessThanOrEqual(5);
      expect(statuses.filter((s) => s === 'ACCOUNT_LOCKED').length).toBeGreaterThanOrEqual(15);
      expect((await admin('/admin/members/43/unlock', { method: 'POST' })).status).toBe(200);
    }, 60_000);

    it('doubles the next lock, and an admin can unlock', async () => {
      for (let i = 0; i < 5; i++) await login(WRONG_HASH);
      clock.advance(61_000);
      expect((await login(WRONG_HASH)).json().status).toBe('WRONG_AUTH'); // a new window after a lock
      for (let i = 0; i < 4; i++) await login(WRONG_HASH);
      clock.advance(61_000);
      expect((await login(BOB_HASH)).json().status).toBe('ACCOUNT_LOCKED'); // 2 minutes this time
      expect((await admin('/admin/members/43/unlock', { method: 'POST' })).status).toBe(200);
      expect((await login(BOB_HASH)).json().status).toBe('SUCCESS');
      expect((await admin('/admin/members/99999/unlock', { method: 'POST' })).status).toBe(404);
      expect((await admin('/admin/members/abc/unlock', { method: 'POST' })).status).toBe(404);
    }, 60_000);

    it('records the failures and the lock in the audit log', async () => {
      const types = await waitFor(async () => {
        const items = (await admin('/admin/audit?member_id=43&limit=500')).json().items.map((e: { type: string }) => e.type);
        return items.includes('authn_login_lock') && items.includes('authn_login_unlock') ? items : undefined;
      }, 10_000, 'audit events');
      expect(types).toEqual(expect.arrayContaining(['authn_login_fail', 'authn_login_lock', 'authn_login_success', 'authn_login_unlock', 'user_created']));
    }, 60_000);
  });

  describe('D14: crossLogin and logout chains', () => {
    const returnTo = 'http://127.0.0.1:8081/?loginProcess=ipsconnect&ipsconnectKey=ef7d05c70b4fddc71bb6d4449bfdd60e&ipsconnectId=42';
    const cross = (extra: Record<string, string> = {}) =>
      ips.get({ do: 'crossLogin', key: md5(MK, '42'), url: SA, id: '42', returnTo, ...extra });
    const loginAlice = async () =>
      expect((await ips.get({ do: 'login', key: md5(MK, 'Alice'), idType: '1', id: 'Alice', password: NEW_HASH })).json().status).toBe('SUCCESS');

    it('without a recent login for that id, goes straight back without logging in', async () => {
      clock.advance(10 * 60_000);
      const res = await cross();
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe(returnTo);
      expect(res.headers.get('set-cookie')).toBeNull();
    }, 60_000);

    it('after a login, logs the browser in and walks it through every other enabled slave', async () => {
      await loginAlice();
      const first = await cross();
      expect(first.status).toBe(303);
      const cookie = first.headers.get('set-cookie')!;
      expect(cookie).toMatch(/^sb_session=[A-Za-z0-9_-]{43}; Max-Age=\d+; Path=\/; HttpOnly; SameSite=Lax$/);
      const hops: URL[] = [];
      let location = first.headers.get('location')!;
      while (!location.startsWith(returnTo)) {
        const hop = new URL(location);
        hops.push(hop);
        expect(hop.searchParams.get('slaveCall')).toBe('1');
        expect(hop.searchParams.get('url')).toBe(SA);
        const next = await http(hop.searchParams.get('returnTo')!);
        expect(next.status).toBe(303);
        location = next.headers.get('location')!;
        expect(hops.length).toBeLessThan(10);
      }
      expect(location).toBe(returnTo);
      // B and C (per-slave key, registered above) but never A, the originator, nor disabled slaves.
      const visited = hops.map((h) => h.origin + h.pathname);
      expect(visited).toEqual(['http://127.0.0.1:8082/ipsconnect.php', 'http://127.0.0.1:8083/ipsconnect.php']);
      expect(hops[0].searchParams.get('key')).toBe('804ea0715078b461eaf64b3400273a83'); // md5(SKB . 42), §8
      expect(hops[1].searchParams.get('key')).toBe(md5('slave-c-key', '42'));
      expect([...hops[0].searchParams.keys()]).toEqual(['do', 'key', 'id', 'slaveCall', 'url', 'returnTo']);
    }, 60_000);

    it('refuses bad keys, slave keys, malformed ids and foreign returnTo with the generic 403 page', async () => {
      await loginAlice();
      const refused: Record<string, string>[] = [
        { key: 'c681b6feb4eccb0dbebb9fd0fd2c5763' }, // md5(SKA . 42): a slave key (§8.11 negative)
        { key: 'nope' },
        { id: '042', key: md5(MK, '042') },
        { returnTo: 'https://evil.example/' },
        { returnTo: 'javascript:alert(1)' },
        { returnTo: '//evil.example/' },
        { returnTo: 'http://127.0.0.1:8081/\r\nSet-Cookie: x=1' },
        { returnTo: 'http://127.0.0.1:8081/✓' },
        { slaveCall: '1' },
      ];
      for (const extra of refused) {
        const res = await cross(extra);
        expect([JSON.stringify(extra), res.status]).toEqual([JSON.stringify(extra), 403]);
        expect(res.text).toContain('There was an error processing your login request at one of the sites in our network');
        expect(res.text).not.toMatch(/BAD_KEY|REQUEST_MISSING_DATA|INVALID_REDIRECTION/);
        expect(res.headers.get('set-cookie')).toBeNull();
        expect(res.headers.get('location')).toBeNull();
      }
      const gone = await http(`${sys.urls.gateway}/ipsconnect?do=crossLogin&state=${'A'.repeat(43)}`);
      expect(gone.status).toBe(403);
    }, 60_000);

    it('an unknown id goes straight back; returnTo on the master itself is allowed', async () => {
      const unknown = await ips.get({ do: 'crossLogin', key: md5(MK, '999'), url: SA, id: '999', returnTo });
      expect([unknown.status, unknown.headers.get('location'), unknown.headers.get('set-cookie')]).toEqual([303, returnTo, null]);
      await loginAlice();
      const own = await cross({ returnTo: `${sys.urls.gateway}/welcome` });
      expect(own.status).toBe(303);
    }, 60_000);

    it('logout runs the same chain and clears the master cookie in the last master response', async () => {
      const first = await ips.get({ do: 'logout', key: md5(MK, '42'), url: SA, id: '42', returnTo });
      expect(first.status).toBe(303);
      expect(first.headers.get('set-cookie')).toBeNull();
      let location = first.headers.get('location')!;
      let last = first;
      while (!location.startsWith(returnTo)) {
        const hop = new URL(location);
        expect(hop.searchParams.get('do')).toBe('logout');
        last = await http(hop.searchParams.get('returnTo')!);
        location = last.headers.get('location')!;
      }
      expect(last.headers.get('set-cookie')).toMatch(/^sb_session=; Max-Age=0; Path=\/; HttpOnly; SameSite=Lax$/);
    }, 60_000);
  });

  it('logged none of the keys, hashes and salts it handled', () => {
    const text = sys.logs.text;
    expect(text).toContain('/ipsconnect?do=login'); // requests were logged…
    for (const secret of [MK, SKA, SKB, ALICE_HASH, BOB_HASH, NEW_HASH, WRONG_HASH, 'ef7d05c70b4fddc71bb6d4449bfdd60e', '804ea0715078b461eaf64b3400273a83']) {
      expect({ secret, found: text.includes(secret) }).toEqual({ secret, found: false }); // …without secrets
    }
  });
});
