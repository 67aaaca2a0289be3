import { Client } from 'pg';
import { waitFor } from '@switchboard/testing';
import { FakeSlave } from './support/fake-slave';
import { TestClock, ipsClient, md5 } from './support/ips';
import { ADMIN_TOKEN, MASTER_KEY as MK, System, http, startSystem } from './support/system';

const HASH = '$2a$13$0123456789abcdefghijke83qjoCb8ggnz2a4OYR7vO8WGClpIei.';
const SALT = '0123456789abcdefghijkl';

/** Spec D15 end to end: outbox → deliveries → BullMQ → fake slaves on 127.0.0.1. */
describe('propagation to slaves', () => {
  const clock = new TestClock();
  let sys: System;
  let ips: ReturnType<typeof ipsClient>;
  let pg: Client;
  let a: FakeSlave;
  let b: FakeSlave;
  let c: FakeSlave;
  const admin = (path: string, method = 'GET') => http(sys.urls.admin + path, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  const slaveIdOf = async (s: FakeSlave) => (await pg.query('SELECT id FROM slaves WHERE url = $1', [s.url])).rows[0].id as number;
  let n = 0;
  const register = async (from: FakeSlave, extra: Record<string, string> = {}) => {
    n += 1;
    const res = await ips.get({ do: 'register', key: MK, name: `user${n}`, email: `user${n}@example.test`, pass_hash: HASH, pass_salt: SALT, revalidateUrl: '', url: from.url, ...extra });
    return res.json().connect_id as number;
  };

  beforeAll(async () => {
    clock.sync();
    sys = await startSystem({}, { propagatorClock: clock });
    ips = ipsClient(sys.urls.gateway);
    pg = new Client({ connectionString: sys.db.url });
    await pg.connect();
    a = await new FakeSlave('key-of-slave-a-0123456789').start();
    b = await new FakeSlave('key-of-slave-b-0123456789').start();
    c = await new FakeSlave('key-of-slave-c-0123456789').start();
    for (const s of [a, b, c]) expect((await ips.get({ do: 'verifySettings', key: MK, url: s.url, ourKey: s.key })).json().status).toBe('SUCCESS');
  }, 180_000);

  afterAll(async () => {
    for (const s of [a, b, c]) await s?.stop();
    await pg?.end();
    await sys?.stop();
  }, 180_000);

  it('delivers register to every other enabled slave with the exact §8.6 parameters and keys, not to the originator', async () => {
    const id = await register(a, { revalidateUrl: 'http://127.0.0.1:9/validate' });
    await waitFor(() => b.got('register', String(id)).length && c.got('register', String(id)).length, 10_000, 'register at B and C');
    const got = b.got('register', String(id))[0];
    expect(got.keyOk).toBe(true);
    expect(got.params).toEqual({
      do: 'register',
      key: b.key,
      name: `user${n}`,
      email: `user${n}@example.test`,
      pass_hash: HASH,
      pass_salt: SALT,
      id: String(id),
      revalidateUrl: 'http://127.0.0.1:9/validate',
      slaveCall: '1',
    });
    expect(Object.keys(got.params)).toEqual(['do', 'key', 'name', 'email', 'pass_hash', 'pass_salt', 'id', 'revalidateUrl', 'slaveCall']);
    await new Promise((r) => setTimeout(r, 300));
    expect(a.got('register', String(id))).toHaveLength(0);
    const deliveries = (await admin(`/admin/deliveries?member_id=${id}`)).json();
    expect(deliveries.items.map((d: { status: string }) => d.status)).toEqual(['delivered', 'delivered']);
  }, 60_000);

  it('delivers every change action with md5(SK . id) keys (§8.7–§8.9)', async () => {
    const id = String(await register(a));
    const key = md5(MK, id);
    await ips.get({ do: 'changeEmail', key, url: a.url, email: `new${id}@example.test`, id });
    await ips.get({ do: 'changeName', key, url: a.url, name: `renamed${id}`, id });
    await ips.get({ do: 'changePassword', key, url: a.url, pass_hash: '$2a$13$ABCDEFGHIJKLMNOPQRSTUOPP139/pBRb4Bb7sZUqu.9S/aS1.lzN6', pass_salt: 'ABCDEFGHIJKLMNOPQRSTUV', id });
    await ips.get({ do: 'ban', key, url: a.url, status: '1', id });
    await ips.get({ do: 'validate', key, url: a.url, id });
    const other = String(await register(a));
    await ips.get({ do: 'merge', key, url: a.url, remove: other, id });
    await ips.get({ do: 'delete', key, url: a.url, id });
    const actions = ['register', 'changeEmail', 'changeName', 'changePassword', 'ban', 'validate', 'merge', 'delete'];
    await waitFor(() => b.received.filter((r) => r.params['id'] === id).length === actions.length, 10_000, 'all actions at B');
    const atB = b.received.filter((r) => r.params['id'] === id);
    expect(atB.map((r) => r.params['do'])).toEqual(actions); // in commit order
    expect(atB.every((r) => r.keyOk && r.params['slaveCall'] === '1')).toBe(true);
    expect(atB[0].params['key']).toBe(b.key);
    expect(atB[1].params).toEqual({ do: 'changeEmail', key: md5(b.key, id), id, email: `new${id}@example.test`, slaveCall: '1' });
    expect(atB[6].params).toEqual({ do: 'merge', key: md5(b.key, id), id, remove: other, slaveCall: '1' });
    expect(a.received.filter((r) => r.params['id'] === id)).toHaveLength(0);
  }, 60_000);

  it('a slave that is down, answers 500, garbage or BAD_KEY, or hangs gets the delivery once it recovers', async () => {
    for (const mode of ['down', 'http500', 'garbage', 'BAD_KEY', 'hang'] as const) {
      const before = c.received.length;
      if (mode === 'down') await c.stop();
      else c.mode = mode;
      const id = String(await register(a));
      await waitFor(() => b.got('register', id).length, 10_000, `B got ${mode} case`);
      await waitFor(async () => (await pg.query(`SELECT attempts FROM deliveries d JOIN slaves s ON s.id = d.slave_id WHERE s.url = $1 AND member_id = $2`, [c.url, id])).rows[0]?.attempts >= 1, 10_000, `a failed attempt at C (${mode})`);
      if (mode === 'down') await c.start();
      c.mode = 'ok';
      await waitFor(() => c.received.slice(before).some((r) => r.params['id'] === id && r.params['do'] === 'register'), 10_000, `C recovers from ${mode}`);
      const [delivery] = (await admin(`/admin/deliveries?member_id=${id}&slave_id=${await slaveIdOf(c)}`)).json().items;
      await waitFor(async () => (await admin(`/admin/deliveries/${delivery.id}`)).json().status === 'delivered', 5000, 'delivered');
      const detail = (await admin(`/admin/deliveries/${delivery.id}`)).json();
      expect(detail.attempt_log.length).toBeGreaterThanOrEqual(2);
      expect(detail.attempt_log[0].outcome).toBe('retry');
      expect(detail.attempt_log.at(-1)).toMatchObject({ outcome: 'delivered', http_status: 200, ips_status: 'SUCCESS' });
    }
  }, 60_000);

  it('dead-letters after the last attempt, with every attempt visible, and an admin retry delivers it', async () => {
    c.mode = 'http500';
    const id = String(await register(a));
    const cid = await slaveIdOf(c);
    const dead = await waitFor(async () => (await admin(`/admin/deliveries?status=dead&member_id=${id}`)).json().items[0], 10_000, 'dead letter');
    const detail = (await admin(`/admin/deliveries/${dead.id}`)).json();
    expect(detail.attempts).toBe(4);
    expect(detail.attempt_log.map((x: { http_status: number }) => x.http_status)).toEqual([500, 500, 500, 500]);
    expect(detail.last_error).toBe('HTTP 500');
    const slaves = (await admin('/admin/slaves')).json().items;
    expect(slaves.find((s: { id: number }) => s.id === cid)).toMatchObject({ dead: 1, failing_since: expect.any(String) });
    c.mode = 'ok';
    const retry = await admin(`/admin/deliveries/${dead.id}/retry`, 'POST');
    expect([retry.status, retry.json()]).toEqual([202, { retried: [dead.id] }]);
    await waitFor(() => c.got('register', id).some((r) => r.keyOk), 10_000, 'retried delivery at C');
    await waitFor(async () => (await admin(`/admin/deliveries/${dead.id}`)).json().status === 'delivered', 5000, 'delivered after retry');
    expect((await admin(`/admin/deliveries/${dead.id}/retry`, 'POST')).status).toBe(409);
    expect((await admin('/admin/slaves/9999999999/retry', 'POST')).status).toBe(404);
    expect((await admin('/admin/deliveries/999999999/retry', 'POST')).status).toBe(404);
    const after = (await admin('/admin/slaves')).json().items.find((s: { id: number }) => s.id === cid);
    expect(after).toMatchObject({ dead: 0, failing_since: null, last_success_at: expect.any(String) });
  }, 30_000);

  it('a failed attempt of a delivery that another run finished meanwhile is only logged (a stalled job run twice)', async () => {
    c.mode = 'http500';
    const id = String(await register(a));
    const row = async () => (await pg.query(`SELECT d.id, d.status, d.attempts FROM deliveries d JOIN slaves s ON s.id = d.slave_id WHERE s.url = $1 AND d.member_id = $2`, [c.url, id])).rows[0];
    // Three failed attempts; the last one (of four) is held at the slave while "another run" records a success.
    await waitFor(async () => (await row())?.attempts >= 3, 10_000, 'three failed attempts');
    c.delayMs = 1500;
    await waitFor(() => c.got('register', id).length >= 4, 10_000, 'the last attempt in flight');
    const { id: deliveryId } = await row();
    await pg.query(`UPDATE deliveries SET status = 'delivered', attempts = 4, finished_at = now() WHERE id = $1`, [deliveryId]);
    await waitFor(async () => Number((await pg.query('SELECT count(*) AS n FROM delivery_attempts WHERE delivery_id = $1', [deliveryId])).rows[0].n) >= 4, 10_000, 'the failed attempt logged');
    c.delayMs = 0;
    c.mode = 'ok';
    await new Promise((r) => setTimeout(r, 1000));
    expect(await row()).toMatchObject({ status: 'delivered', attempts: 4 });
    expect((await admin(`/admin/deliveries?status=dead&member_id=${id}`)).json().items).toEqual([]);
    expect(c.got('register', id)).toHaveLength(4);
  }, 30_000);

  it('keeps order per (slave, member): e-mail A→B→C while a slave is down ends at C, never B after C', async () => {
    const id = String(await register(a));
    await waitFor(() => c.got('register', id).length, 10_000, 'register at C');
    await c.stop();
    const key = md5(MK, id);
    for (const email of ['b', 'c', 'd']) await ips.get({ do: 'changeEmail', key, url: a.url, email: `${email}${id}@example.test`, id });
    // Another member's change is not held up by this line.
    const other = String(await register(a));
    await waitFor(() => b.got('changeEmail', id).length === 3 && b.got('register', other).length === 1, 10_000, 'B in order');
    expect(b.got('changeEmail', id).map((r) => r.params['email'])).toEqual([`b${id}@example.test`, `c${id}@example.test`, `d${id}@example.test`]);
    await new Promise((r) => setTimeout(r, 600));
    await c.start();
    await waitFor(() => c.got('changeEmail', id).some((r) => r.params['email'] === `d${id}@example.test`), 15_000, 'C ends at the last e-mail');
    const emails = c.got('changeEmail', id).map((r) => r.params['email']);
    const lastD = emails.lastIndexOf(`d${id}@example.test`);
    expect(emails.slice(lastD + 1)).toEqual([]); // nothing after the newest value
    expect(emails.indexOf(`c${id}@example.test`)).toBeLessThan(lastD);
  }, 40_000);

  it('a retried old dead letter is superseded by a newer delivered value, never sent', async () => {
    const id = String(await register(a));
    await waitFor(() => c.got('register', id).length, 10_000, 'register at C');
    c.mode = 'http500';
    const key = md5(MK, id);
    await ips.get({ do: 'changeName', key, url: a.url, name: `old${id}`, id });
    const dead = await waitFor(async () => (await admin(`/admin/deliveries?status=dead&member_id=${id}`)).json().items[0], 10_000, 'dead changeName');
    c.mode = 'ok';
    await ips.get({ do: 'changeName', key, url: a.url, name: `new${id}`, id });
    await waitFor(() => c.got('changeName', id).some((r) => r.params['name'] === `new${id}`), 10_000, 'new name at C');
    const sentBefore = c.got('changeName', id).length;
    await admin(`/slaves/${await slaveIdOf(c)}/retry`.replace('/slaves', '/admin/slaves'), 'POST');
    await waitFor(async () => (await admin(`/admin/deliveries/${dead.id}`)).json().status === 'superseded', 10_000, 'superseded');
    expect(c.got('changeName', id).length).toBe(sentBefore);
    expect(c.got('changeName', id).at(-1)!.params['name']).toBe(`new${id}`);
  }, 30_000);

  it('a retried dead letter older than a delivered delete is superseded (the member stays deleted)', async () => {
    const id = String(await register(a));
    await waitFor(() => c.got('register', id).length, 10_000, 'register at C');
    c.mode = 'http500';
    const key = md5(MK, id);
    await ips.get({ do: 'ban', key, url: a.url, status: '1', id });
    const dead = await waitFor(async () => (await admin(`/admin/deliveries?status=dead&member_id=${id}`)).json().items[0], 10_000, 'dead ban');
    c.mode = 'ok';
    await ips.get({ do: 'delete', key, url: a.url, id });
    await waitFor(() => c.got('delete', id).length, 10_000, 'delete at C');
    await admin(`/admin/deliveries/${dead.id}/retry`, 'POST');
    await waitFor(async () => (await admin(`/admin/deliveries/${dead.id}`)).json().status === 'superseded', 10_000, 'superseded');
    expect(c.got('ban', id).filter((r) => r.keyOk && c.received.indexOf(r) > c.received.indexOf(c.got('delete', id)[0]))).toEqual([]);
  }, 30_000);

  it('DISABLED (or HTTP 410) disables the slave and parks its deliveries until it calls verifySettings again', async () => {
    for (const mode of ['DISABLED', 'http410'] as const) {
      c.mode = mode;
      const id = String(await register(a));
      const cid = await slaveIdOf(c);
      await waitFor(async () => !(await admin('/admin/slaves')).json().items.find((s: { id: number }) => s.id === cid).enabled, 10_000, 'C disabled');
      const slave = (await admin('/admin/slaves')).json().items.find((s: { id: number }) => s.id === cid);
      expect(slave.disabled_reason).toBe(mode === 'DISABLED' ? 'slave answered DISABLED' : 'slave answered HTTP 410');
      const id2 = String(await register(a)); // created while C is disabled: C gets no delivery for it
      await waitFor(() => b.got('register', id2).length, 10_000, 'B still served');
      expect((await admin(`/admin/deliveries?member_id=${id2}&slave_id=${cid}`)).json().items).toEqual([]);
      expect((await admin(`/admin/deliveries?member_id=${id}&slave_id=${cid}`)).json().items[0].status).toBe('parked');
      c.mode = 'ok';
      const receivedBefore = c.got('register', id).length;
      expect((await ips.get({ do: 'verifySettings', key: MK, url: c.url, ourKey: c.key })).json().status).toBe('SUCCESS');
      await waitFor(() => c.got('register', id).length > receivedBefore, 10_000, 'parked delivery resumed');
      const audit = (await http(`${sys.urls.admin}/admin/audit?type=slave_disabled&slave_id=${cid}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json();
      expect(audit.items.length).toBeGreaterThanOrEqual(1);
    }
  }, 40_000);

  it('a disabled slave (disableSlave) receives nothing', async () => {
    expect((await ips.get({ do: 'disableSlave', key: MK, url: c.url })).json().status).toBe('SUCCESS');
    const id = String(await register(a));
    await waitFor(() => b.got('register', id).length, 10_000, 'B served');
    await new Promise((r) => setTimeout(r, 500));
    expect(c.got('register', id)).toEqual([]);
    await ips.get({ do: 'verifySettings', key: MK, url: c.url, ourKey: c.key });
  }, 60_000);

  it('auto-disables a slave whose deliveries have all failed for 5 days', async () => {
    c.mode = 'http500';
    const id = String(await register(a));
    const cid = await slaveIdOf(c);
    await waitFor(async () => (await admin(`/admin/deliveries?status=dead&member_id=${id}&slave_id=${cid}`)).json().items.length === 1, 10_000, 'dead');
    clock.advance(4 * 86_400_000);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await admin('/admin/slaves')).json().items.find((s: { id: number }) => s.id === cid).enabled).toBe(true);
    clock.advance(86_400_000 + 60_000);
    await waitFor(async () => !(await admin('/admin/slaves')).json().items.find((s: { id: number }) => s.id === cid).enabled, 10_000, 'auto-disabled');
    const slave = (await admin('/admin/slaves')).json().items.find((s: { id: number }) => s.id === cid);
    expect(slave.disabled_reason).toMatch(/failed for 5 days/);
    c.mode = 'ok';
    await ips.get({ do: 'verifySettings', key: MK, url: c.url, ourKey: c.key });
    // Back for good: not disabled again by the next repair passes, and served again.
    await new Promise((r) => setTimeout(r, 2500));
    expect((await admin('/admin/slaves')).json().items.find((s: { id: number }) => s.id === cid)).toMatchObject({ enabled: true, failing_since: null });
    const later = String(await register(a));
    await waitFor(() => c.got('register', later).length, 10_000, 'C served after coming back');
  }, 30_000);

  it('the originating slave does not wait for the other slaves', async () => {
    const slow: FakeSlave[] = [];
    for (let i = 0; i < 20; i++) {
      const s = await new FakeSlave(`slow-${i}-0123456789`).start();
      s.mode = 'hang';
      slow.push(s);
      await ips.get({ do: 'verifySettings', key: MK, url: s.url, ourKey: s.key });
    }
    try {
      const started = Date.now();
      const id = await register(a);
      expect(id).toBeGreaterThan(0);
      // Twenty slaves that never answer (2 s timeout each in tests): a synchronous master would take 40 s.
      expect(Date.now() - started).toBeLessThan(1500);
    } finally {
      for (const s of slow) {
        await ips.get({ do: 'disableSlave', key: MK, url: s.url });
        await s.stop();
      }
    }
  }, 30_000);

  it('exposes delivery metrics', async () => {
    const text = (await http(`${sys.urls.propagator}/metrics`)).text;
    expect(text).toMatch(/switchboard_deliveries_total\{[^}]*outcome="delivered"/);
    expect(text).toMatch(/switchboard_delivery_attempts_total\{[^}]*outcome="retry"/);
    expect(text).toContain('switchboard_outbox_lag_seconds');
    expect(text).toMatch(/switchboard_delivery_queue_jobs\{[^}]*state="completed"/);
  }, 60_000);
});
