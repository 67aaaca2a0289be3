/**
 * `npm run bench:propagation`: commit → delivered-to-all latency for 10, 100 and 1000 stub slaves and
 * delivery throughput, next to a raw BullMQ + HTTP baseline measured in the same run (same Redis,
 * same stub server, same HTTP requests, same concurrency), reported as ratios. As in a deployment,
 * the propagator runs in a process of its own, and so does the baseline's worker; gateway, auth and
 * admin share this process with the stub slaves. Loopback only, bounded in time.
 *
 * BENCH_CPU_PROF_DIR=<dir> writes a CPU profile of both worker processes there (see cpu-profile.cjs).
 */
import { join } from 'node:path';
import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { Client } from 'pg';
import { freePort, waitFor } from '@switchboard/testing';
import { DELIVERY_QUEUE } from '@switchboard/propagation';
import { ipsClient } from '../e2e/src/support/ips';
import { spawnAppFromSource } from '../e2e/src/support/run-source';
import { cpuByProgram } from './proc-cpu';
import { StubSlaves, cpuDiff, median, startBaseline, stopChild } from './propagation-lib';
import { MASTER_KEY as MK, http as request, startSystem } from '../e2e/src/support/system';

const HASH = '$2a$13$0123456789abcdefghijke83qjoCb8ggnz2a4OYR7vO8WGClpIei.';
const CONCURRENCY = 64;
const ROUNDS = 5;
const BACKLOG_MEMBERS = 50;
const BACKLOG_SLAVES = 100;
const DEADLINE = Date.now() + 8 * 60_000;
const profiling: Record<string, string> = process.env['BENCH_CPU_PROF_DIR']
  ? { NODE_OPTIONS: `--require ${join(__dirname, 'cpu-profile.cjs')}`, BENCH_CPU_PROF_DIR: process.env['BENCH_CPU_PROF_DIR'] }
  : {};

async function main() {
  const stub = new StubSlaves();
  await stub.start();
  // Production defaults except a short retry schedule (nothing fails here).
  const sys = await startSystem(
    // The stub slaves listen on 127.0.0.1: the outbound address rule is lifted.
    { LOG_LEVEL: 'warn', SLAVE_URL_ALLOW_PRIVATE: 'true', PROPAGATION_CONCURRENCY: String(CONCURRENCY), PROPAGATION_RETRY_SCHEDULE: '0,1s,5s', PROPAGATION_REPAIR_INTERVAL: '30s', PROPAGATION_TIMEOUT: '15s' },
    { withoutPropagator: true },
  );
  const propagatorPort = await freePort();
  const propagator = spawnAppFromSource('propagator', { ...sys.env, PROPAGATOR_PORT: String(propagatorPort), ...profiling });
  const db = new Client({ connectionString: sys.env['DATABASE_URL'] });
  await db.connect();
  const deliveries = new Queue(DELIVERY_QUEUE, { connection: new IORedis(sys.redis.url, { maxRetriesPerRequest: null }) });
  const ips = ipsClient(sys.urls.gateway);
  let baseline: Awaited<ReturnType<typeof startBaseline>> | undefined;
  let member = 0;
  const register = async (slaves: number) => {
    const m = ++member;
    const res = await ips.get({ do: 'register', key: MK, name: `bench${m}`, email: `bench${m}@example.test`, pass_hash: HASH, pass_salt: '0123456789abcdefghijkl' });
    // Wrapped: an async function returning the promise itself would wait for the deliveries.
    return { delivered: stub.expect(String(res.json().connect_id), slaves) };
  };
  try {
    await waitFor(async () => (await request(`http://127.0.0.1:${propagatorPort}/health/ready`).catch(() => ({ status: 0 }))).status === 200, 60_000, 'propagator ready');
    const sizes = [10, 100, 1000];
    const latency: { n: number; runs: number[] }[] = [];
    let registered = 0;
    for (const n of sizes) {
      while (registered < n) {
        const i = registered++;
        const r = await ips.get({ do: 'verifySettings', key: MK, url: stub.url(i), ourKey: `bench-key-${i}` });
        if (r.json().status !== 'SUCCESS') throw new Error('verifySettings failed');
      }
      const runs: number[] = [];
      for (let k = 0; k < 7 && Date.now() < DEADLINE; k++) {
        // Measured from the originating slave's call: the master answers after the commit.
        const start = performance.now();
        const { delivered } = await register(n);
        runs.push((await delivered) - start);
      }
      latency.push({ n, runs });
      console.error(`[bench] ${n} slaves: done`);
    }
    baseline = await startBaseline(sys.redis.url, stub, 1000, CONCURRENCY, profiling);
    const baseLatency = new Map<number, number[]>();
    for (const n of sizes) {
      const runs: number[] = [];
      for (let k = 0; k < 5; k++) runs.push(await baseline.latency(n));
      baseLatency.set(n, runs);
    }

    // Throughput: a backlog of 50 registrations × 100 slaves = 5000 deliveries, committed, relayed
    // and queued while the delivery queue is paused, then drained; the baseline drains 5000 jobs
    // the same way. Rounds alternate so that both see the same machine.
    // 50 at a time: 900 requests at once can be reset by a loaded machine (ECONNRESET).
    for (let j = BACKLOG_SLAVES; j < 1000; j += 50) {
      await Promise.all(Array.from({ length: Math.min(50, 1000 - j) }, (_, k) => ips.get({ do: 'disableSlave', key: MK, url: stub.url(j + k) })));
    }
    // The rounds start on a quiet system: the events of those 900 calls published and relayed.
    await waitFor(async () => Number((await db.query(`SELECT count(*) AS n FROM outbox_events o WHERE o.published_at IS NULL OR NOT EXISTS (SELECT 1 FROM propagation_changes c WHERE c.seq = o.id)`)).rows[0].n) === 0, 60_000, 'outbox drained');
    await new Promise((r) => setTimeout(r, 1000));
    const total = BACKLOG_MEMBERS * BACKLOG_SLAVES;
    const ours: number[] = [];
    const recorded: number[] = [];
    const base: number[] = [];
    const ourCpu: Record<string, number>[] = [];
    const baseCpu: Record<string, number>[] = [];
    for (let round = 0; round < ROUNDS && Date.now() < DEADLINE; round++) {
      await deliveries.pause();
      const waits = await Promise.all(Array.from({ length: BACKLOG_MEMBERS }, () => register(BACKLOG_SLAVES)));
      const ready = async () => Number((await db.query(`SELECT count(*) AS n FROM deliveries WHERE status = 'ready'`)).rows[0].n);
      await waitFor(async () => (await ready()) >= total, 60_000, 'backlog queued');
      const start = performance.now();
      const startWall = Date.now();
      const cpu0 = cpuByProgram(propagator.child.pid);
      await deliveries.resume();
      const lastAt = Math.max(...(await Promise.all(waits.map((w) => w.delivered))));
      ourCpu.push(cpuDiff(cpu0, cpuByProgram(propagator.child.pid)));
      ours.push(total / ((lastAt - start) / 1000));
      // When the last of them was recorded as delivered (read afterwards: polling would load PostgreSQL).
      await waitFor(async () => Number((await db.query(`SELECT count(*) AS n FROM deliveries WHERE status <> 'delivered'`)).rows[0].n) === 0, 60_000, 'all recorded');
      const last = (await db.query(`SELECT max(finished_at) AS last FROM deliveries`)).rows[0].last as Date;
      recorded.push(total / ((last.getTime() - startWall) / 1000));
      const drained = await baseline.drain(total);
      base.push(drained.rate);
      baseCpu.push(drained.cpu);
      console.error(`[bench] throughput round ${round + 1}: ${ours[round].toFixed(0)} vs ${base[round].toFixed(0)}`);
    }

    if (process.env['BENCH_CPU_PROF_DIR']) {
      propagator.child.kill('SIGUSR2');
      baseline.child.kill('SIGUSR2');
      await new Promise((r) => setTimeout(r, 3000));
    }

    const fmt = (ms: number) => `${ms.toFixed(0)} ms`;
    console.log(`\nSwitchboard propagation benchmark (loopback, one stub server for all slaves, concurrency ${CONCURRENCY})`);
    console.log('commit → delivered to all slaves (median of 7 registrations; baseline: raw BullMQ addBulk + HTTP GET, median of 5)');
    for (const r of latency) {
      const b = median(baseLatency.get(r.n) ?? [NaN]);
      const m = median(r.runs);
      console.log(`  ${String(r.n).padStart(4)} slaves: ${fmt(m).padStart(8)}   baseline ${fmt(b).padStart(8)}   ratio ${(m / b).toFixed(2)}×   (runs: ${r.runs.map((x) => x.toFixed(0)).join(', ')} ms)`);
    }
    const o = median(ours);
    const b = median(base);
    console.log(`throughput, backlog of ${total} deliveries to ${BACKLOG_SLAVES} slaves drained (median of ${ours.length} rounds): ${o.toFixed(0)} deliveries/s   baseline ${b.toFixed(0)} jobs/s   ratio ${(o / b).toFixed(2)}`);
    console.log(`  rounds: ${ours.map((x, i) => `${x.toFixed(0)}/${base[i].toFixed(0)}`).join(', ')}; all recorded as delivered in PostgreSQL: ${median(recorded).toFixed(0)} deliveries/s`);
    const cpuLine = (runs: Record<string, number>[]) => ['worker', 'node', 'postgres', 'redis-server'].map((p) => `${p} ${median(runs.map((r) => r[p])).toFixed(0)}`).join(', ');
    console.log(`  CPU ms per drain (median; 2 cores; "worker" is the propagator / the baseline's worker, "node" all node processes):`);
    console.log(`    Switchboard ${cpuLine(ourCpu)}; baseline ${cpuLine(baseCpu)}`);
    console.log('targets (not enforced): 100 slaves ≤ 150 ms median, 1000 ≤ 1 s, throughput ≥ 0.8 × baseline');
  } catch (err) {
    console.error(`propagator output:\n${propagator.output().slice(-3000)}`);
    console.error((await db.query(`SELECT status, count(*) FROM deliveries GROUP BY 1`)).rows, (await db.query(`SELECT count(*) FROM outbox_events o WHERE NOT EXISTS (SELECT 1 FROM propagation_changes c WHERE c.seq = o.id)`)).rows);
    throw err;
  } finally {
    await baseline?.stop();
    await stopChild(propagator.child);
    await deliveries.close();
    await db.end();
    await sys.stop();
    await stub.stop();
  }
}

const timer = setTimeout(() => {
  console.error('benchmark did not finish within 9 minutes');
  process.exit(1);
}, 9 * 60_000);
timer.unref();
main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
