import { Client } from 'pg';
import { PrivateRedis, freePort, waitFor } from '@switchboard/testing';
import { FakeSlave } from './support/fake-slave';
import { ipsClient } from './support/ips';
import { spawnAppFromSource } from './support/run-source';
import { MASTER_KEY as MK, System, http, startSystem } from './support/system';

const HASH = '$2a$13$0123456789abcdefghijke83qjoCb8ggnz2a4OYR7vO8WGClpIei.';

/**
 * Faults (issue #4): Redis restarted mid-run (losing every queued job) and the worker killed with
 * SIGKILL mid-run. Each test uses a private redis-server; every delivery must still arrive.
 */
describe('propagation survives faults', () => {
  let redis: PrivateRedis;
  let sys: System;
  let pg: Client;
  let slaves: FakeSlave[];
  let ips: ReturnType<typeof ipsClient>;

  const allDelivered = async (members: number[]) => {
    const { rows } = await pg.query(
      `SELECT count(*) FILTER (WHERE status = 'delivered')::int AS delivered, count(*)::int AS total FROM deliveries WHERE member_id = ANY($1)`,
      [members],
    );
    return rows[0].total === members.length * slaves.length && rows[0].delivered === rows[0].total;
  };
  const everySlaveGotEveryone = (members: number[]) =>
    slaves.every((s) => members.every((id) => s.got('register', String(id)).some((r) => r.keyOk)));
  const registerMany = async (prefix: string, count: number) => {
    const ids: number[] = [];
    for (let i = 0; i < count; i++) {
      const res = await ips.get({ do: 'register', key: MK, name: `${prefix}${i}`, email: `${prefix}${i}@example.test`, pass_hash: HASH, pass_salt: '0123456789abcdefghijkl' });
      ids.push(res.json().connect_id);
    }
    return ids;
  };

  async function setUp(withoutPropagator: boolean) {
    redis = await new PrivateRedis().start();
    // Retries every 2 s for 20 s, so that delayed retry jobs sit in Redis when it restarts.
    sys = await startSystem({ REDIS_URL: redis.url, PROPAGATION_RETRY_SCHEDULE: '0,2s,2s,2s,2s,2s,2s,2s,2s,2s' }, { withoutPropagator });
    pg = new Client({ connectionString: sys.db.url });
    await pg.connect();
    ips = ipsClient(sys.urls.gateway);
    slaves = [];
    for (let i = 0; i < 3; i++) {
      const s = await new FakeSlave(`fault-slave-${i}-0123456789`).start();
      s.delayMs = 150; // deliveries are in flight when the fault hits
      slaves.push(s);
      expect((await ips.get({ do: 'verifySettings', key: MK, url: s.url, ourKey: s.key })).json().status).toBe('SUCCESS');
    }
  }

  async function tearDown() {
    for (const s of slaves ?? []) await s.stop();
    await pg?.end();
    await sys?.stop();
    await redis?.dispose();
  }

  describe('Redis restarted mid-run without its data', () => {
    beforeAll(() => setUp(false));
    afterAll(() => tearDown());

    it('delivers everything after Redis comes back (the repair pass re-creates lost jobs)', async () => {
      slaves[2].mode = 'http500'; // its deliveries wait in Redis as delayed retries
      const members = await registerMany('r', 20);
      await waitFor(() => slaves.some((s) => s.received.length > 3), 10_000, 'deliveries under way');
      await waitFor(() => slaves[2].received.length >= 20, 10_000, 'a failed attempt at the third slave');
      await redis.restart(1000); // every queued, delayed and active job is gone
      slaves[2].mode = 'ok';
      await waitFor(() => everySlaveGotEveryone(members), 60_000, 'every slave to receive every register');
      await waitFor(() => allDelivered(members), 20_000, 'every delivery marked delivered');
      // Later changes keep flowing on the restarted server.
      const more = await registerMany('after', 3);
      await waitFor(() => everySlaveGotEveryone(more), 20_000, 'deliveries after the restart');
      expect((await http(`${sys.urls.propagator}/health/ready`)).status).toBe(200);
    }, 120_000);
  });

  describe('worker killed with SIGKILL mid-run', () => {
    beforeAll(() => setUp(true));
    afterAll(() => tearDown());

    it('loses nothing: stalled jobs come back to the next worker', async () => {
      const env = { ...sys.env, PROPAGATOR_PORT: String(await freePort()), LOG_LEVEL: 'warn' };
      const first = spawnAppFromSource('propagator', env);
      await waitFor(async () => (await http(`http://127.0.0.1:${env.PROPAGATOR_PORT}/health/ready`).catch(() => ({ status: 0 }))).status === 200, 30_000, 'first worker ready');
      const members = await registerMany('k', 20);
      await waitFor(() => slaves.some((s) => s.received.length > 5), 15_000, 'deliveries under way');
      first.child.kill('SIGKILL');
      await new Promise((r) => first.child.once('exit', r));
      const second = spawnAppFromSource('propagator', env);
      try {
        await waitFor(() => everySlaveGotEveryone(members), 90_000, 'every slave to receive every register');
        // A job whose worker died mid-delivery returns after its lock expires and the stalled check runs.
        await waitFor(() => allDelivered(members), 90_000, 'every delivery marked delivered');
      } finally {
        second.child.kill('SIGTERM');
        await new Promise((r) => second.child.once('exit', r));
      }
    }, 240_000);
  });
});
