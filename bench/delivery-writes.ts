/**
 * `npm run bench:delivery-writes`: what PostgreSQL pays to record deliveries as the deliveries table
 * grows. Each round fans out 50 changes to 100 slaves (5000 deliveries), promotes them and records
 * them as delivered in group writes of 200, one at a time (about what the propagator gathers in its
 * 20 ms at 10 000 deliveries/s). A flat line is the expectation; a growing one means a query walks
 * dead row versions (see docs/propagation.md).
 */
import { DataSource } from 'typeorm';
import { createTestDatabase } from '@switchboard/testing';
import { dataSourceOptions } from '@switchboard/db';
import { DeliveredRecord, DeliveryAttempts, DeliveryLines } from '@switchboard/propagation';
import { cpuByProgram } from './proc-cpu';

/** CPU time (ms) used so far by every PostgreSQL process of the machine. */
const postgresCpu = () => cpuByProgram().get('postgres') ?? 0;

async function main() {
  const db = await createTestDatabase({ migrate: true });
  const ds = new DataSource(dataSourceOptions(db.url, 'bench-delivery-writes', 10));
  await ds.initialize();
  try {
    await ds.query(`INSERT INTO slaves (url, enabled, slave_key_sealed) SELECT 'http://127.0.0.1/' || g, true, 'k' FROM generate_series(1, 100) g`);
    const attempts = new DeliveryAttempts(ds, { schedule: [0] } as never);
    const lines = new DeliveryLines(ds, { schedule: [0] } as never);
    for (let round = 0; round < 6; round++) {
      const base = round * 50;
      await ds.query(
        `INSERT INTO deliveries (event_id, seq, slave_id, member_id, action, fields, status, created_at, updated_at)
         SELECT md5((m + $1)::text)::uuid, m + $1, s, m + $1, 'register', '{name,email}', 'waiting', now(), now()
           FROM generate_series(1, 50) m, generate_series(1, 100) s`,
        [base],
      );
      const promoteStart = performance.now();
      await lines.promote({ members: Array.from({ length: 50 }, (_, i) => base + i + 1) });
      const promoteMs = performance.now() - promoteStart;
      const rows: { id: string; slave_id: number; member_id: number }[] = await ds.query(`SELECT id, slave_id, member_id FROM deliveries WHERE status = 'ready' ORDER BY id`);
      const groups: DeliveredRecord[][] = [];
      for (let i = 0; i < rows.length; i += 200) {
        groups.push(rows.slice(i, i + 200).map((r) => ({ id: String(r.id), attemptedAt: new Date(), durationMs: 1, httpStatus: 200, ipsStatus: 'SUCCESS', slaveId: r.slave_id, memberId: r.member_id })));
      }
      const cpu = postgresCpu();
      const start = performance.now();
      let next = 0;
      while (next < groups.length) await attempts.recordDelivered(groups[next++]);
      console.log(`round ${round + 1} (table ${(round + 1) * 5000} rows): promote ${promoteMs.toFixed(0)} ms; ${rows.length} recorded in ${(performance.now() - start).toFixed(0)} ms, PostgreSQL CPU ${postgresCpu() - cpu} ms`);
    }
  } finally {
    await ds.destroy();
    await db.drop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
