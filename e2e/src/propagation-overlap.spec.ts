import { Client } from 'pg';
import { waitFor } from '@switchboard/testing';
import { FakeSlave } from './support/fake-slave';
import { ipsClient } from './support/ips';
import { adminApi, MASTER_KEY as MK, startSystem, System } from './support/system';

const HASH = '$2a$13$0123456789abcdefghijke83qjoCb8ggnz2a4OYR7vO8WGClpIei.';
const SALT = '0123456789abcdefghijkl';

/**
 * Two runs of one delivery (docs/propagation.md, "What survives what"): a run that may overlap
 * another waits for a connection slot, and meanwhile the other run finishes the delivery. Once it
 * has its slot it must see that and not call the slave: the next change of the line may already
 * have gone out after the first run's success.
 */
describe('propagation: a run whose delivery was finished by another run meanwhile sends nothing', () => {
  let sys: System;
  const slaves: FakeSlave[] = [];
  const admin = adminApi(() => sys);

  beforeAll(async () => {
    // Two connection slots (and two jobs at a time); a slow slave answers within the timeout.
    sys = await startSystem({ PROPAGATION_CONCURRENCY: '2', PROPAGATION_RETRY_SCHEDULE: '0,60s,60s', PROPAGATION_TIMEOUT: '15s' });
    for (const key of ['overlap-origin-0123456789', 'overlap-target-0123456789', 'overlap-slow-1-0123456789', 'overlap-slow-2-0123456789']) slaves.push(await new FakeSlave(key).start());
    const ips = ipsClient(sys.urls.gateway);
    for (const s of slaves) expect((await ips.get({ do: 'verifySettings', key: MK, url: s.url, ourKey: s.key })).json().status).toBe('SUCCESS');
  }, 180_000);
  afterAll(async () => {
    for (const s of slaves) await s.stop();
    await sys?.stop();
  }, 60_000);

  it('re-checks the delivery once it has its slot', async () => {
    const [origin, target, slow1, slow2] = slaves;
    const ips = ipsClient(sys.urls.gateway);
    const targetId = ((await admin('/admin/slaves?limit=100')).json().items as { id: number; url: string }[]).find((s) => s.url === target.url)!.id;
    // 1. A registration the target refuses once: its delivery waits a minute for its next attempt.
    target.mode = 'http500';
    const first = await ips.get({ do: 'register', key: MK, name: 'overlap1', email: 'overlap1@example.test', pass_hash: HASH, pass_salt: SALT, url: origin.url });
    const memberId = String(first.json().connect_id);
    const delivery = await waitFor(
      async () => ((await admin(`/admin/deliveries?slave_id=${targetId}&member_id=${memberId}`)).json().items as { id: string; status: string; attempts: number }[]).find((d) => d.status === 'ready' && d.attempts === 1),
      30_000,
      'the first attempt failed, the next one a minute away',
    );
    target.mode = 'ok';
    // 2. Both slots taken for 4 s: a change that the two slow slaves take their time to apply.
    slow1.delayMs = slow2.delayMs = 4000;
    expect((await ips.get({ do: 'register', key: MK, name: 'overlap2', email: 'overlap2@example.test', pass_hash: HASH, pass_salt: SALT, url: origin.url })).json().status).toBe('SUCCESS');
    await waitFor(async () => slow1.received.length + slow2.received.length >= 4, 20_000, 'both slow slaves called');
    // 3. "Retry now": a job of its own, which loads the delivery (still ready) and waits for a slot…
    const before = target.received.length;
    expect((await admin(`/admin/deliveries/${delivery.id}/retry`, 'POST')).status).toBe(202);
    await new Promise((r) => setTimeout(r, 700));
    // 4. …while another run finishes the delivery (as a stalled run's success would).
    const pg = new Client({ connectionString: sys.db.url });
    await pg.connect();
    try {
      const updated = await pg.query(`UPDATE deliveries SET status = 'delivered', updated_at = now() WHERE id = $1 AND status = 'ready'`, [delivery.id]);
      expect(updated.rowCount).toBe(1);
    } finally {
      await pg.end();
    }
    // 5. The slow slaves answer and free the slots (every delivery of the second registration
    // final); then the retry's run has had its slot: it must not have called the target with the
    // first registration again.
    const secondId = String((await admin('/admin/members?q=overlap2@example.test')).json().items[0].id);
    await waitFor(
      async () => ((await admin(`/admin/deliveries?member_id=${secondId}`)).json().items as { status: string }[]).filter((d) => d.status === 'delivered').length === 3,
      30_000,
      'the second registration delivered to the three other slaves',
    );
    await new Promise((r) => setTimeout(r, 1500));
    const again = target.received.slice(before).filter((r) => r.params['do'] === 'register' && r.params['id'] === memberId);
    expect(again).toEqual([]);
  }, 120_000);
});
