import { waitFor } from '@switchboard/testing';
import { FakeSlave } from './support/fake-slave';
import { ipsClient, md5 } from './support/ips';
import { adminApi, http, MASTER_KEY as MK, startSystem, System } from './support/system';

const HASH = '$2a$13$0123456789abcdefghijke83qjoCb8ggnz2a4OYR7vO8WGClpIei.';
const SALT = '0123456789abcdefghijkl';

/** Issue 12: the slave lifecycle from the admin API (disable, enable, change URL, explicit key rotation). */
describe('admin API: slave lifecycle', () => {
  let sys: System;
  let a: FakeSlave;
  let b: FakeSlave;
  let moved: FakeSlave;
  let c: FakeSlave;
  const extra: FakeSlave[] = [];
  let ips: ReturnType<typeof ipsClient>;
  const admin = adminApi(() => sys);
  const slaveOf = async (url: string) => ((await admin('/admin/slaves?limit=100')).json().items as { id: number; url: string; enabled: boolean; disabled_reason: string | null }[]).find((s) => s.url === url);
  let n = 0;
  const register = async (from: FakeSlave) => {
    n += 1;
    const r = await ips.get({ do: 'register', key: MK, name: `sl${n}`, email: `sl${n}@example.test`, pass_hash: HASH, pass_salt: SALT, url: from.url });
    return String(r.json().connect_id);
  };
  const audit = async (type: string) => (await admin(`/admin/audit?type=${type}`)).json().items as { details: Record<string, unknown>; slave_id: number | null }[];

  /**
   * A slave of its own that answers HTTP 500, and a member registered from B then changed: at that
   * slave the register failed once and waits a minute for its next attempt, the change behind it.
   */
  const failingLine = async () => {
    const own = await new FakeSlave('key-of-own-slave-0123456789').start();
    extra.push(own);
    expect((await ips.get({ do: 'verifySettings', key: MK, url: own.url, ourKey: own.key })).json().status).toBe('SUCCESS');
    const target = (await slaveOf(own.url))!;
    const deliveriesTo = async (member: string) =>
      (await admin(`/admin/deliveries?slave_id=${target.id}&member_id=${member}`)).json().items as { id: string; status: string; attempts: number; action: string }[];
    own.mode = 'http500';
    const id = await register(b);
    expect((await ips.get({ do: 'changeEmail', key: md5(MK + id), id, email: `later${id}@example.test`, url: b.url })).json().status).toBe('SUCCESS');
    await waitFor(async () => (await deliveriesTo(id)).some((d) => d.action === 'register' && d.status === 'ready' && d.attempts === 1), 20_000, 'the register failed once, next attempt in a minute');
    return { own, id, deliveriesTo };
  };

  beforeAll(async () => {
    // Backoff of a minute after a failed attempt: long enough to see "retry now" at work.
    sys = await startSystem({ PROPAGATION_RETRY_SCHEDULE: '0,60s,60s' });
    ips = ipsClient(sys.urls.gateway);
    a = await new FakeSlave('key-of-slave-a-0123456789').start();
    b = await new FakeSlave('key-of-slave-b-0123456789').start();
    moved = await new FakeSlave('key-of-slave-a-0123456789').start();
    c = await new FakeSlave('key-of-slave-c-0123456789').start();
    for (const s of [a, b]) expect((await ips.get({ do: 'verifySettings', key: MK, url: s.url, ourKey: s.key })).json().status).toBe('SUCCESS');
  }, 180_000);
  afterAll(async () => {
    for (const s of [a, b, moved, c, ...extra]) await s?.stop();
    await sys?.stop();
  }, 180_000);

  it('disable parks the slave\'s pending deliveries; enable sends them, each member\'s in order', async () => {
    const sa = (await slaveOf(a.url))!;
    const statusesAtA = async (member: string) =>
      ((await admin(`/admin/deliveries?slave_id=${sa.id}&member_id=${member}`)).json().items as { status: string }[]).map((d) => d.status);
    // A does not answer: its deliveries stay pending (in flight, then waiting for a retry).
    a.mode = 'hang';
    const first = await register(b);
    expect((await ips.get({ do: 'changeEmail', key: md5(MK + first), id: first, email: `changed${first}@example.test`, url: b.url })).json().status).toBe('SUCCESS');
    await waitFor(async () => (await statusesAtA(first)).length === 2, 15_000, 'deliveries to A created');
    const off = await admin(`/admin/slaves/${sa.id}/disable`, 'POST', { reason: 'maintenance' });
    expect(off.status).toBe(200);
    expect(off.json()).toMatchObject({ id: sa.id, enabled: false, disabled_reason: 'admin: maintenance', verified: true });
    await waitFor(async () => (await statusesAtA(first)).every((st) => st === 'parked'), 20_000, 'deliveries to A parked');
    // A change made while A is disabled is not for A (it is out of the network until enabled).
    const during = await register(b);
    // Disabling again changes nothing.
    expect((await admin(`/admin/slaves/${sa.id}/disable`, 'POST')).json()).toMatchObject({ enabled: false, disabled_reason: 'admin: maintenance' });
    a.mode = 'ok';
    const on = await admin(`/admin/slaves/${sa.id}/enable`, 'POST');
    expect(on.status).toBe(200);
    expect(on.json()).toMatchObject({ enabled: true, disabled_reason: null });
    await waitFor(() => a.got('register', first).length === 1 && a.got('changeEmail', first).length === 1, 30_000, 'parked changes delivered to A');
    // One member's changes reach a slave in the order they were made.
    expect(a.got('register', first)[0].at).toBeLessThanOrEqual(a.got('changeEmail', first)[0].at);
    expect(await statusesAtA(during)).toEqual([]);
    expect((await audit('slave_enabled')).some((e) => e.slave_id === sa.id)).toBe(true);
  }, 90_000);

  it('a slave that never registered its key cannot be enabled (409 not_verified)', async () => {
    const issued = await admin('/admin/slaves', 'POST', { url: 'http://127.0.0.1:9/never-verified.php' });
    expect(issued.status).toBe(201);
    const r = await admin(`/admin/slaves/${issued.json().id}/enable`, 'POST');
    expect(r.status).toBe(409);
    expect(r.json()).toMatchObject({ status: 409, code: 'not_verified' });
    // The list tells it apart from a slave an admin disabled: not verified yet.
    expect(await slaveOf('http://127.0.0.1:9/never-verified.php')).toMatchObject({ enabled: false, disabled_reason: null, verified: false });
    expect(await slaveOf(a.url)).toMatchObject({ verified: true });
  }, 30_000);

  it('re-posting a registered URL answers 409 and keeps its key; rotate: true replaces it', async () => {
    const url = 'http://127.0.0.1:9/rotate.php';
    const first = (await admin('/admin/slaves', 'POST', { url })).json();
    const again = await admin('/admin/slaves', 'POST', { url });
    expect(again.status).toBe(409);
    expect(again.json()).toMatchObject({ status: 409, code: 'slave_exists', detail: expect.stringContaining(`slave ${first.id}`) });
    expect(again.text).not.toContain(first.master_key);
    expect((await ips.get({ do: 'checkEmail', key: first.master_key, email: 'x@y', url })).json().status).toBe('SUCCESS');
    const rotated = await admin('/admin/slaves', 'POST', { url, rotate: true });
    expect(rotated.status).toBe(201);
    expect(rotated.json()).toMatchObject({ id: first.id, created: false });
    expect((await ips.get({ do: 'checkEmail', key: first.master_key, email: 'x@y', url })).json().status).toBe('BAD_KEY');
    expect((await ips.get({ do: 'checkEmail', key: rotated.json().master_key, email: 'x@y', url })).json().status).toBe('SUCCESS');
  }, 30_000);

  it('a URL typo is fixed in place: the next deliveries go to the new URL, checked under the outbound policy', async () => {
    const sa = (await slaveOf(a.url))!;
    expect((await admin(`/admin/slaves/${sa.id}`, 'PATCH', { url: b.url })).status).toBe(409);
    for (const url of ['ftp://127.0.0.1/x', 'http://user:pw@127.0.0.1:9/x.php']) {
      const refused = await admin(`/admin/slaves/${sa.id}`, 'PATCH', { url });
      expect(refused.status).toBe(400);
    }
    const r = await admin(`/admin/slaves/${sa.id}`, 'PATCH', { url: moved.url });
    expect(r.status).toBe(200);
    expect(r.json()).toMatchObject({ id: sa.id, url: moved.url, enabled: true });
    const id = await register(b);
    await waitFor(() => moved.got('register', id).length === 1, 30_000, 'register at the new URL');
    expect(moved.got('register', id)[0].keyOk).toBe(true);
    expect(a.got('register', id)).toHaveLength(0);
    expect((await audit('slave_updated')).some((e) => e.slave_id === sa.id && e.details['to'] === moved.url)).toBe(true);
    expect((await admin('/admin/slaves/999999/enable', 'POST')).status).toBe(404);
    expect((await admin('/admin/slaves/abc', 'PATCH', { url: moved.url })).status).toBe(404);
    expect((await admin(`/admin/slaves/${sa.id}/disable`, 'POST', { reason: 'a\nb' })).status).toBe(400);
  }, 60_000);

  it('a refused verifySettings says why, in the audit and the logs', async () => {
    expect((await ips.get({ do: 'verifySettings', key: MK, url: 'http://127.0.0.1:9/forgot-key.php' })).json().status).toBe('FAILURE');
    expect((await ips.get({ do: 'verifySettings', key: MK, url: 'not a url', ourKey: 'k' })).json().status).toBe('FAILURE');
    await waitFor(async () => (await audit('slave_verify_failed')).length >= 2, 15_000, 'slave_verify_failed in the audit');
    const reasons = (await audit('slave_verify_failed')).map((e) => e.details['reason']);
    expect(reasons).toEqual(expect.arrayContaining(['ourKey missing', 'url is not an http(s) URL']));
    expect(sys.logs.text).toMatch(/verifySettings refused: ourKey missing/);
  }, 30_000);

  it('retry now: the head of a line waiting out its backoff is sent at once; a change behind it is 409 saying why', async () => {
    const { own, id, deliveriesTo } = await failingLine();
    const [head] = (await deliveriesTo(id)).filter((d) => d.action === 'register');
    const [behind] = (await deliveriesTo(id)).filter((d) => d.action === 'changeEmail');
    expect(behind.status).toBe('waiting');
    const refused = await admin(`/admin/deliveries/${behind.id}/retry`, 'POST');
    expect(refused.status).toBe(409);
    expect(refused.json().detail).toMatch(/earlier change/);
    own.mode = 'ok';
    const r = await admin(`/admin/deliveries/${head.id}/retry`, 'POST');
    expect(r.status).toBe(202);
    expect(r.json()).toEqual({ retried: [head.id] });
    // The failed attempt, then the one retried now (far sooner than the minute of backoff), then the change behind it.
    await waitFor(() => own.got('register', id).length === 2 && own.got('changeEmail', id).length === 1, 20_000, 'both sent after retry now');
    expect(own.got('register', id)[1].at).toBeLessThanOrEqual(own.got('changeEmail', id)[0].at);
    await waitFor(async () => (await deliveriesTo(id)).every((d) => d.status === 'delivered'), 15_000, 'both delivered');
    expect((await admin(`/admin/deliveries/${head.id}/retry`, 'POST')).status).toBe(409);
  }, 90_000);

  it('discard: a delivery is never sent, the next change of its line moves up; an ended one is 409', async () => {
    const { own, id, deliveriesTo } = await failingLine();
    own.mode = 'ok';
    const [head] = (await deliveriesTo(id)).filter((d) => d.action === 'register');
    const tried = own.got('register', id).length;
    const r = await admin(`/admin/deliveries/${head.id}/discard`, 'POST');
    expect(r.status).toBe(200);
    expect(r.json()).toEqual({ discarded: head.id });
    await waitFor(() => own.got('changeEmail', id).length === 1, 20_000, 'the change behind it sent');
    // Only the failed attempt before the discard ever reached the slave.
    expect(own.got('register', id)).toHaveLength(tried);
    expect((await deliveriesTo(id)).find((d) => d.id === head.id)?.status).toBe('discarded');
    expect((await admin(`/admin/deliveries/${head.id}/discard`, 'POST')).status).toBe(409);
    expect((await admin('/admin/deliveries/99999999/discard', 'POST')).status).toBe(404);
    await waitFor(async () => (await audit('delivery_discarded')).length > 0, 15_000, 'delivery_discarded in the audit');
  }, 90_000);

  it('delete: the slave and its keys go at once, its pending deliveries are discarded, the audit keeps it', async () => {
    expect((await ips.get({ do: 'verifySettings', key: MK, url: c.url, ourKey: c.key })).json().status).toBe('SUCCESS');
    const sc = (await slaveOf(c.url))!;
    c.mode = 'http500';
    const id = await register(b);
    const pendingAtC = async () => (await admin(`/admin/deliveries?slave_id=${sc.id}&member_id=${id}`)).json().items as { status: string }[];
    await waitFor(async () => (await pendingAtC()).length === 1, 20_000, 'a delivery to C');
    expect((await admin(`/admin/slaves/${sc.id}`, 'DELETE')).status).toBe(204);
    expect(await slaveOf(c.url)).toBeUndefined();
    await waitFor(async () => (await pendingAtC())[0]?.status === 'discarded', 20_000, 'its delivery discarded');
    expect((await admin(`/admin/slaves/${sc.id}`, 'DELETE')).status).toBe(404);
    await waitFor(
      async () => (await audit('slave_deleted')).some((e) => e.slave_id === sc.id && e.details['url'] === c.url),
      15_000,
      'slave_deleted in the audit',
    ).catch(async (err) => {
      throw new Error(`${(err as Error).message}: ${(await admin('/admin/audit?type=slave_deleted')).text}`);
    });
  }, 90_000);
});
