import net, { AddressInfo } from 'node:net';
import { Client } from 'pg';
import { SLAVE_KEY_PURPOSE, SecretBox } from '@switchboard/crypto';
import { waitFor } from '@switchboard/testing';
import { ipsClient, md5 } from './support/ips';
import { ADMIN_TOKEN, MASTER_KEY as MK, System, http, startSystem } from './support/system';

/**
 * Issue 10 §1, end to end with the outbound policy on (SLAVE_URL_ALLOW_PRIVATE=false): slave URLs
 * pointing at this machine are refused at verifySettings (FAILURE), at the admin API (400 naming
 * the rule) and by the propagator (a failed attempt naming the rule), each with an audit event and
 * a log line, and NO connection ever reaches the loopback listener they point at. Credentials in a
 * slave URL never reach a browser, a listing, the audit log, the outbox or a log line.
 * Non-loopback addresses appear only where they are refused before anything is sent.
 */
describe('outbound requests to slaves (SLAVE_URL_ALLOW_PRIVATE=false)', () => {
  let sys: System;
  let pg: Client;
  let ips: ReturnType<typeof ipsClient>;
  let listener: net.Server;
  let listener6: net.Server | null = null;
  let connections = 0;
  let port = 0;
  let port6 = 0;
  const SECRET = 'chain-s3cret-pw';
  const admin = (path: string, init: { method?: string; body?: unknown } = {}) =>
    http(sys.urls.admin + path, {
      method: init.method,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
    });
  const refusedEvents = async () => (await admin('/admin/audit?type=slave_url_refused&limit=500')).json().items as { details: Record<string, unknown> }[];
  /** Every loopback spelling of the listener (and ::1 when this machine has IPv6 loopback). */
  const spellings = () => {
    const list = [
      `http://127.0.0.1:${port}/ipsconnect.php`,
      `http://127.1:${port}/ipsconnect.php`,
      `http://2130706433:${port}/ipsconnect.php`,
      `http://0x7f000001:${port}/ipsconnect.php`,
      `http://0177.0.0.1:${port}/ipsconnect.php`,
      `http://localhost:${port}/ipsconnect.php`,
      `http://[::ffff:127.0.0.1]:${port}/ipsconnect.php`,
      `http://[::ffff:7f00:1]:${port}/ipsconnect.php`,
    ];
    if (listener6) list.push(`http://[::1]:${port6}/ipsconnect.php`);
    return list;
  };

  beforeAll(async () => {
    // A TCP listener that only counts: any connection at all is a failure of the policy.
    listener = net.createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', () => r()));
    port = (listener.address() as AddressInfo).port;
    listener6 = await new Promise<net.Server | null>((resolve) => {
      const s = net.createServer((socket) => {
        connections++;
        socket.destroy();
      });
      s.once('error', () => resolve(null));
      s.listen(0, '::1', () => resolve(s));
    });
    if (listener6) port6 = (listener6.address() as AddressInfo).port;
    // The policy on everywhere; crossLogin without the recent-login binding (chains tested below).
    sys = await startSystem({ SLAVE_URL_ALLOW_PRIVATE: 'false', CROSSLOGIN_RECENT_AUTH: '0' });
    ips = ipsClient(sys.urls.gateway);
    pg = new Client({ connectionString: sys.db.url });
    await pg.connect();
  }, 300_000);

  afterAll(async () => {
    await pg?.end();
    await sys?.stop();
    await new Promise((r) => listener?.close(r));
    if (listener6) await new Promise((r) => listener6!.close(r));
  }, 180_000);

  it('verifySettings answers FAILURE for every loopback spelling and for private, link-local, CGNAT and unspecified addresses, audited and logged', async () => {
    const urls = [
      ...spellings(),
      // Refused before anything is sent: never registered, never called.
      'http://10.0.0.1/ipsconnect.php',
      'http://169.254.169.254/latest/meta-data/',
      'http://100.64.0.1/ipsconnect.php',
      'http://0.0.0.0:80/ipsconnect.php',
      'http://[fd00::1]/ipsconnect.php',
    ];
    for (const url of urls) {
      const res = await ips.get({ do: 'verifySettings', key: MK, url, ourKey: 'slave-key-0123456789' });
      expect([url, res.status, res.text]).toEqual([url, 200, '{"status":"FAILURE"}']);
    }
    // Percent-encoded as IPS's http_build_query sends it: the same answer.
    expect((await ips.raw(`do=verifySettings&key=${MK}&url=${encodeURIComponent(`http://127.1:${port}/x`)}&ourKey=k`)).text).toBe('{"status":"FAILURE"}');
    expect((await pg.query('SELECT count(*)::int AS n FROM slaves')).rows[0].n).toBe(0);
    const events = await waitFor(async () => {
      const items = await refusedEvents();
      return items.length >= urls.length + 1 ? items : undefined;
    }, 90_000, 'slave_url_refused events');
    for (const url of urls) {
      const event = events.find((e) => e.details['url'] === url);
      expect([url, event?.details]).toEqual([url, expect.objectContaining({ via: 'verifySettings', rule: 'address', reason: expect.stringContaining('not a public address') })]);
    }
    expect(sys.logs.lines.filter((l) => l.includes('slave URL refused at verifySettings (rule address)')).length).toBeGreaterThanOrEqual(urls.length);
    expect(sys.logs.text).toContain('127.0.0.1 is not a public address (loopback)');
    // A wrong key is still BAD_KEY (the key is checked first: no DNS lookup, no event for strangers).
    expect((await ips.get({ do: 'verifySettings', key: 'wrong', url: spellings()[0], ourKey: 'k' })).text).toBe('{"status":"BAD_KEY"}');
    expect(connections).toBe(0);
  }, 300_000);

  it('POST /admin/slaves answers 400 naming the rule, audited, for every loopback spelling and private addresses', async () => {
    const before = (await refusedEvents()).length;
    const urls = [...spellings(), 'http://10.0.0.1/ipsconnect.php', 'http://169.254.169.254/', 'http://100.64.0.1/'];
    for (const url of urls) {
      const res = await admin('/admin/slaves', { method: 'POST', body: { url } });
      expect([url, res.status]).toEqual([url, 400]);
      const body = res.json();
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(body).toMatchObject({ status: 400, code: 'slave_url_refused', rule: 'address', errors: [{ field: 'url', message: expect.any(String) }] });
      expect(`url: ${body.errors[0].message}`).toMatch(/^url: refused by the outbound policy \(rule: address\): .*not a public address .*SLAVE_URL_ALLOW_PRIVATE=false/);
      expect(res.text).not.toContain('master_key');
    }
    const scheme = await admin('/admin/slaves', { method: 'POST', body: { url: `ftp://127.0.0.1:${port}/x` } });
    expect(scheme.status).toBe(400);
    expect((await admin('/admin/slaves')).json().items).toEqual([]);
    await waitFor(async () => ((await refusedEvents()).filter((e) => e.details['via'] === 'admin').length >= urls.length ? true : undefined), 90_000, 'admin refusals audited');
    expect((await refusedEvents()).length - before).toBe(urls.length);
    expect(sys.logs.text).toContain('slave URL refused at admin (rule address)');
    expect(connections).toBe(0);
  }, 300_000);

  it('refuses credentials in a slave URL, and they never reach the audit log, the outbox or a log line', async () => {
    const withCredentials = `http://chainuser:${SECRET}@127.0.0.1:${port}/ipsconnect.php`;
    expect((await ips.get({ do: 'verifySettings', key: MK, url: withCredentials, ourKey: 'k-0123456789' })).text).toBe('{"status":"FAILURE"}');
    expect((await ips.raw(`do=verifySettings&key=${MK}&url=${encodeURIComponent(withCredentials)}&ourKey=k`)).text).toBe('{"status":"FAILURE"}');
    // A wrong key with that URL: recorded as authn_key_fail, without the password.
    expect((await ips.raw(`do=verifySettings&key=wrong&url=${encodeURIComponent(withCredentials)}&ourKey=k`)).text).toBe('{"status":"BAD_KEY"}');
    const res = await admin('/admin/slaves', { method: 'POST', body: { url: withCredentials } });
    expect(res.status).toBe(400);
    expect(res.json()).toMatchObject({ code: 'slave_url_refused', rule: 'credentials' });
    expect(res.text).not.toContain(SECRET);
    const events = await waitFor(async () => {
      const items = (await refusedEvents()).filter((e) => e.details['rule'] === 'credentials');
      return items.length >= 3 ? items : undefined;
    }, 90_000, 'credential refusals audited');
    expect(events[0].details['url']).toBe(`http://127.0.0.1:${port}/ipsconnect.php`);
    await waitFor(async () => ((await admin('/admin/audit?type=authn_key_fail')).json().items.length ? true : undefined), 90_000, 'authn_key_fail');
    expect((await admin('/admin/audit?limit=500')).text).not.toContain(SECRET);
    expect(JSON.stringify((await pg.query('SELECT payload FROM outbox_events')).rows)).not.toContain(SECRET);
    expect(sys.logs.text).not.toContain(SECRET);
    expect(connections).toBe(0);
  }, 300_000);

  describe('slaves registered before the rule (or while their name resolved elsewhere)', () => {
    const box = () => new SecretBox(sys.env['SECRETS_KEY']);
    const ORIGIN = () => `http://127.0.0.1:${port}/origin/ipsconnect.php`;
    const legacy = () => {
      const list = [
        `http://127.0.0.1:${port}/a/ipsconnect.php`,
        `http://localhost:${port}/b/ipsconnect.php`,
        `http://2130706433:${port}/c/ipsconnect.php`,
        `http://[::ffff:127.0.0.1]:${port}/d/ipsconnect.php`,
        `http://chainuser:${SECRET}@127.0.0.1:${port}/e/ipsconnect.php`,
      ];
      if (listener6) list.push(`http://[::1]:${port6}/f/ipsconnect.php`);
      return list;
    };

    beforeAll(async () => {
      // Written as an older Switchboard (or a time when the names resolved publicly) would have.
      for (const [i, url] of [ORIGIN(), ...legacy()].entries()) {
        await pg.query(
          `INSERT INTO slaves (url, slave_key_sealed, enabled, registered_at, updated_at, last_access_at) VALUES ($1, $2, true, now(), now(), now())`,
          [url, box().seal(`legacy-slave-key-${i}`, SLAVE_KEY_PURPOSE)],
        );
      }
    }, 180_000);

    it('the propagator refuses every delivery attempt to them, naming the rule, logged and recorded, and never connects', async () => {
      const res = await ips.get({
        do: 'register',
        key: MK,
        name: 'outbound-member',
        email: 'outbound@example.test',
        pass_hash: '$2a$13$0123456789abcdefghijke83qjoCb8ggnz2a4OYR7vO8WGClpIei.',
        pass_salt: '0123456789abcdefghijkl',
        revalidateUrl: '',
        url: ORIGIN(),
      });
      const id = res.json().connect_id as number;
      expect(id).toBeGreaterThan(0);
      // Four attempts (0, 200 ms, 400 ms, 800 ms in tests), each refused: dead letters.
      const dead = await waitFor(async () => {
        const items = (await admin(`/admin/deliveries?status=dead&member_id=${id}`)).json().items;
        return items.length === legacy().length ? items : undefined;
      }, 180_000, 'every delivery dead').catch(async (err: Error) => {
        // What the deliveries and the propagator were doing, to tell a stalled machine from a bug.
        const rows = (await pg.query(`SELECT d.id, d.status, d.attempts, s.url, (SELECT string_agg(coalesce(a.error, a.outcome), ' | ') FROM delivery_attempts a WHERE a.delivery_id = d.id) AS errors FROM deliveries d JOIN slaves s ON s.id = d.slave_id`)).rows;
        const worker = sys.logs.lines.filter((l) => /"service":"propagator"/.test(l) && /"level":"(warn|error)"/.test(l) && !l.includes('refused by the outbound policy')).slice(-20);
        throw new Error(`${err.message}\ndeliveries: ${JSON.stringify(rows)}\npropagator warnings: ${worker.join('\n')}`);
      });
      for (const d of dead as { id: number }[]) {
        const detail = (await admin(`/admin/deliveries/${d.id}`)).json();
        expect(detail.attempts).toBe(4);
        expect(detail.last_error).toMatch(/^refused: /);
        for (const attempt of detail.attempt_log) {
          expect(attempt.http_status).toBeNull();
          expect(attempt.error).toMatch(/^refused: (.* is not a public address|a slave URL must not carry credentials)/);
        }
      }
      const errors = await Promise.all((dead as { id: number }[]).map(async (d) => (await admin(`/admin/deliveries/${d.id}`)).json().attempt_log[0].error as string));
      expect(errors.filter((e) => e.includes('credentials'))).toHaveLength(1);
      expect(sys.logs.lines.filter((l) => l.includes('refused by the outbound policy (address)')).length).toBeGreaterThanOrEqual(4 * (legacy().length - 1));
      expect(sys.logs.text).toContain('refused by the outbound policy (credentials)');
      await waitFor(async () => ((await admin(`/admin/audit?type=delivery_dead&member_id=${id}`)).json().items.length === legacy().length ? true : undefined), 90_000, 'delivery_dead audited');
      expect(connections).toBe(0);
    }, 300_000);

    it('credentials of such a slave never reach the browser chain, the admin listing, the audit log, the outbox or the logs', async () => {
      const slaves = await admin('/admin/slaves');
      expect(slaves.status).toBe(200);
      expect(slaves.text).not.toContain(SECRET);
      expect(slaves.json().items.map((s: { url: string }) => s.url)).toContain(`http://127.0.0.1:${port}/e/ipsconnect.php`);
      // A crossLogin from the origin walks the browser through every other slave.
      const [{ id }] = (await pg.query(`SELECT id FROM members WHERE name = 'outbound-member'`)).rows;
      const returnTo = `http://127.0.0.1:${port}/origin/?done=1`;
      let res = await ips.get({ do: 'crossLogin', key: md5(MK, String(id)), url: ORIGIN(), id: String(id), returnTo });
      const locations: string[] = [];
      while (res.status === 303 && !res.headers.get('location')!.startsWith(returnTo) && locations.length < 20) {
        const location = res.headers.get('location')!;
        locations.push(location);
        res = await http(new URL(location).searchParams.get('returnTo')!);
      }
      expect(res.status).toBe(303);
      expect(locations).toHaveLength(legacy().length);
      expect(locations.some((l) => l.startsWith(`http://127.0.0.1:${port}/e/ipsconnect.php?`))).toBe(true);
      for (const location of locations) expect(location).not.toContain(SECRET);
      expect((await admin('/admin/audit?limit=500')).text).not.toContain(SECRET);
      for (const row of (await pg.query('SELECT id FROM deliveries')).rows) {
        expect((await admin(`/admin/deliveries/${row.id}`)).text).not.toContain(SECRET);
      }
      expect(JSON.stringify((await pg.query('SELECT payload FROM outbox_events')).rows)).not.toContain(SECRET);
      expect(sys.logs.text).not.toContain(SECRET);
      expect(connections).toBe(0);
    }, 300_000);
  });
});
