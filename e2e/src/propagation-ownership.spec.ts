import { Client } from 'pg';
import { LEGACY_EVENT_STREAM, eventStream } from '@switchboard/events';
import { waitFor } from '@switchboard/testing';
import { FakeSlave } from './support/fake-slave';
import { TestClock, ipsClient } from './support/ips';
import { ADMIN_TOKEN, MASTER_KEY as MK, System, http, startSystem } from './support/system';
import { installWriterAudit, writersByTable } from './support/writer-audit';

const HASH = '$2a$13$0123456789abcdefghijke83qjoCb8ggnz2a4OYR7vO8WGClpIei.';
const SALT = '0123456789abcdefghijkl';

/**
 * Issue 11: one writing service per table. A propagation with a slave answering DISABLED, one
 * failing until dead (retried by the admin) and then auto-disabled: the propagator writes only its
 * own tables; slaves and outbox_events are written by auth alone. Plus the internal routes' token.
 */
describe('table ownership of the propagator and admin', () => {
  const clock = new TestClock();
  let sys: System;
  let pg: Client;
  let ips: ReturnType<typeof ipsClient>;
  const slaves: FakeSlave[] = [];
  const admin = (path: string, method = 'GET') => http(sys.urls.admin + path, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });

  beforeAll(async () => {
    clock.sync();
    sys = await startSystem({}, { propagatorClock: clock });
    await installWriterAudit(sys.db.url);
    ips = ipsClient(sys.urls.gateway);
    pg = new Client({ connectionString: sys.db.url });
    await pg.connect();
    for (const key of ['own-slave-a-0123456789', 'own-slave-b-0123456789', 'own-slave-c-0123456789', 'own-slave-d-0123456789']) {
      const s = await new FakeSlave(key).start();
      slaves.push(s);
      expect((await ips.get({ do: 'verifySettings', key: MK, url: s.url, ourKey: s.key })).json().status).toBe('SUCCESS');
    }
  }, 180_000);

  afterAll(async () => {
    for (const s of slaves) await s.stop();
    await pg?.end();
    await sys?.stop();
  }, 180_000);

  it('internal routes of the propagator and auth refuse calls without the internal token', async () => {
    for (const url of [`${sys.urls.propagator}/internal/deliveries/1/retry`, `${sys.urls.propagator}/internal/slaves/1/retry`, `${sys.urls.auth}/internal/slaves/1/disable`]) {
      expect((await http(url, { method: 'POST' })).status).toBe(401);
      expect((await http(url, { method: 'POST', headers: { 'x-internal-token': 'wrong-token-0123456789abcdef0123456789' } })).status).toBe(401);
    }
    const ok = await http(`${sys.urls.propagator}/internal/deliveries/999999/retry`, { method: 'POST', headers: { 'x-internal-token': sys.env['INTERNAL_TOKEN'] } });
    expect(ok.status).toBe(404);
  }, 30_000);

  it('DISABLED, dead letters, an admin retry and auto-disable: each table written by its one service', async () => {
    const [a, b, c, d] = slaves;
    c.mode = 'http500';
    d.mode = 'DISABLED';
    const res = await ips.get({ do: 'register', key: MK, name: 'owner1', email: 'owner1@example.test', pass_hash: HASH, pass_salt: SALT, revalidateUrl: '', url: a.url });
    const id = String(res.json().connect_id);
    await waitFor(() => b.got('register', id).length > 0, 10_000, 'delivered to B');
    const idOf = async (s: FakeSlave) => (await pg.query('SELECT id FROM slaves WHERE url = $1', [s.url])).rows[0].id as number;
    const [cid, did] = [await idOf(c), await idOf(d)];
    // D answered DISABLED: disabled by auth, its delivery parked by the propagator.
    await waitFor(async () => (await pg.query('SELECT enabled FROM slaves WHERE id = $1', [did])).rows[0].enabled === false, 10_000, 'D disabled');
    await waitFor(async () => (await admin(`/admin/deliveries?slave_id=${did}&status=parked`)).json().items.length === 1, 10_000, 'D parked');
    // C dead after its attempts; the admin's retry goes through the propagator.
    await waitFor(async () => (await admin(`/admin/deliveries?slave_id=${cid}&status=dead`)).json().items.length === 1, 10_000, 'C dead');
    const dead = (await admin(`/admin/deliveries?slave_id=${cid}&status=dead`)).json().items[0].id;
    const retried = await admin(`/admin/deliveries/${dead}/retry`, 'POST');
    expect(retried.status).toBe(202);
    expect(retried.json()).toEqual({ retried: [dead] });
    // (A second retry at once may find it in flight (409) or waiting out a backoff (tried now, 202):
    // both are covered where they can be told apart, admin-slaves.spec and propagation.spec.)
    await waitFor(async () => (await admin(`/admin/deliveries/${dead}`)).json().status === 'dead', 10_000, 'C dead again');
    expect((await admin(`/admin/slaves/${cid}/retry`, 'POST')).json()).toEqual({ retried: [dead] });
    expect((await admin('/admin/slaves/999999/retry', 'POST')).status).toBe(404);
    await waitFor(async () => (await admin(`/admin/deliveries/${dead}`)).json().status === 'dead', 10_000, 'C dead a third time');
    // Auto-disable after 5 days of failures: asked of auth.
    clock.advance(5 * 86_400_000 + 60_000);
    await waitFor(async () => (await pg.query('SELECT enabled FROM slaves WHERE id = $1', [cid])).rows[0].enabled === false, 10_000, 'C auto-disabled');
    // The audit log gets the propagator's own events (from its outbox) and auth's slave_disabled.
    await waitFor(async () => {
      const types = (await admin('/admin/audit?limit=500')).json().items.map((e: { type: string }) => e.type);
      return ['delivery_dead', 'delivery_retried', 'slave_disabled'].every((t) => types.includes(t));
    }, 15_000, 'audit events recorded');
    const disabled = (await admin(`/admin/audit?type=slave_disabled`)).json().items.map((e: { slave_id: number; source: string }) => [e.slave_id, e.source]);
    expect(disabled).toEqual(expect.arrayContaining([[cid, 'auth'], [did, 'auth']]));

    const writers = await writersByTable(sys.db.url);
    expect(writers['slaves']).toEqual(['switchboard-auth']);
    expect(writers['outbox_events']).toEqual(['switchboard-auth']);
    for (const t of ['deliveries', 'delivery_attempts', 'propagation_changes', 'slave_delivery_health', 'propagator_outbox']) {
      expect([t, writers[t]]).toEqual([t, ['switchboard-propagator']]);
    }
    expect(writers['audit_events']).toEqual(['switchboard-admin']);

    // Likewise each event stream has one writer: auth relays the change outbox to its own, the
    // propagator its outbox to its own; nothing writes the former single stream.
    const typesIn = async (stream: string) =>
      [...new Set((await sys.redis.client.xrange(stream, '-', '+')).map(([, f]) => (JSON.parse(f[f.indexOf('event') + 1]) as { type: string }).type))].sort();
    expect(await typesIn(eventStream('propagator'))).toEqual(['delivery_dead', 'delivery_retried']);
    const authTypes = await typesIn(eventStream('auth'));
    expect(authTypes).toEqual(expect.arrayContaining(['slave_registered', 'slave_disabled', 'user_created']));
    expect(authTypes.filter((t) => t.startsWith('delivery_'))).toEqual([]);
    expect(await typesIn(eventStream('gateway'))).toEqual([]);
    expect(await sys.redis.client.exists(LEGACY_EVENT_STREAM)).toBe(0);
  }, 90_000);
});
