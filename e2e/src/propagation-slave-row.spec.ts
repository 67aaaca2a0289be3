import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '@switchboard/db';
import { ChangeRelay, DeliveryAttempts, FailedAttempt, PropagationOptions, ReadyDelivery } from '@switchboard/propagation';
import { waitFor } from '@switchboard/testing';
import { ipsClient } from './support/ips';
import { MASTER_KEY as MK, System, startSystem } from './support/system';

const HASH = '$2a$13$0123456789abcdefghijke83qjoCb8ggnz2a4OYR7vO8WGClpIei.';

/**
 * Found by the soak (issue 10 §6): while a slave was down, every failed attempt to it wrote the
 * slave's row (`failing_since = coalesce(failing_since, now)`) inside its transaction, so all of
 * them queued on that one row lock, holding pooled connections meanwhile; the propagator's pool
 * ran dry and deliveries to the healthy slaves stalled. A failed attempt now writes the slave's
 * row only when it starts a failing period. (That row is now the propagator's own,
 * slave_delivery_health; the slave's row is auth's.)
 */
describe('a failing slave does not serialize failed attempts on its row', () => {
  let sys: System;
  let ds: DataSource;
  let store: DeliveryAttempts;
  let locker: Client;
  let ready: ReadyDelivery[];
  let slaveId: number;

  beforeAll(async () => {
    sys = await startSystem({}, { withoutPropagator: true });
    const ips = ipsClient(sys.urls.gateway);
    // A slave that is never called (this test records attempts by hand), and an originator.
    for (const [url, key] of [['http://127.0.0.1:9/a/ipsconnect.php', 'row-slave-a-0123456789'], ['http://127.0.0.1:9/b/ipsconnect.php', 'row-slave-b-0123456789']]) {
      expect((await ips.get({ do: 'verifySettings', key: MK, url, ourKey: key })).json().status).toBe('SUCCESS');
    }
    for (let i = 0; i < 3; i++) {
      const res = await ips.get({ do: 'register', key: MK, name: `row${i}`, email: `row${i}@example.test`, pass_hash: HASH, pass_salt: '0123456789abcdefghijkl', url: 'http://127.0.0.1:9/b/ipsconnect.php' });
      expect(res.json().status).toBe('SUCCESS');
    }
    ds = await new DataSource(dataSourceOptions(sys.db.url, 'row-test', 4)).initialize();
    const options: PropagationOptions = { databaseUrl: sys.db.url, redisUrl: sys.redis.url, schedule: [0, 1000, 1000], timeoutMs: 1000, concurrency: 4, autoDisableAfterMs: 0, repairIntervalMs: 1000 };
    store = new DeliveryAttempts(ds, options);
    ready = (await new ChangeRelay(ds, options).relayBatch()).ready;
    expect(ready).toHaveLength(3); // one register per member, to slave a only
    slaveId = (await ds.query(`SELECT slave_id FROM deliveries WHERE id = $1`, [ready[0].id]))[0].slave_id;
    locker = new Client({ connectionString: sys.db.url });
    await locker.connect();
  }, 180_000);

  afterAll(async () => {
    await locker?.end();
    await ds?.destroy();
    await sys?.stop();
  }, 180_000);

  const failure = (d: ReadyDelivery, at: Date): FailedAttempt => ({
    delivery: { id: d.id, slave_id: slaveId, member_id: 0, series: d.series },
    action: 'register',
    attempt: 1,
    last: false,
    attemptedAt: at,
    durationMs: 1,
    answer: { outcome: 'retry', httpStatus: null, ipsStatus: null, error: 'connect ECONNREFUSED' },
    outcome: 'retry',
  });

  it('the first failure marks the slave failing', async () => {
    const at = new Date(Date.now() - 60_000);
    expect((await store.recordFailure(failure(ready[0], at))).stale).toBe(false);
    const [row] = await ds.query(`SELECT failing_since FROM slave_delivery_health WHERE slave_id = $1`, [slaveId]);
    expect(new Date(row.failing_since).getTime()).toBe(at.getTime());
  }, 30_000);

  it('later failures are recorded while another transaction holds the slave row, and keep the first failure time', async () => {
    const [{ failing_since: before }] = await ds.query(`SELECT failing_since FROM slave_delivery_health WHERE slave_id = $1`, [slaveId]);
    await locker.query('BEGIN');
    // What every other failed attempt of an outage did: write the slave's (health) row and hold it until commit.
    await locker.query(`SELECT slave_id FROM slave_delivery_health WHERE slave_id = $1 FOR UPDATE`, [slaveId]);
    try {
      let done = 0;
      const attempts = ready.slice(1).map((d) => store.recordFailure(failure(d, new Date())).then(() => done++));
      // Before the fix each of these waited for the lock (here: until the ROLLBACK below).
      await waitFor(() => done === attempts.length, 20_000, 'failed attempts recorded while the slave row is locked');
      await Promise.all(attempts);
    } finally {
      await locker.query('ROLLBACK');
    }
    const [{ failing_since: after }] = await ds.query(`SELECT failing_since FROM slave_delivery_health WHERE slave_id = $1`, [slaveId]);
    expect(new Date(after).getTime()).toBe(new Date(before).getTime());
    const attempts = await ds.query(`SELECT count(*)::int AS n FROM delivery_attempts WHERE outcome = 'retry'`);
    expect(attempts[0].n).toBe(3);
  }, 60_000);
});
