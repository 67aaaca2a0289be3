/**
 * `npm run bench:propagation`: commit → delivered-to-all latency for 10, 100 and 1000 stub slaves and
 * delivery throughput, next to a raw BullMQ + HTTP baseline measured in the same run (same Redis,
 * same stub server, same concurrency), reported as ratios. Loopback only, bounded in time.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue, Worker } from 'bullmq';
import IORedis from 'ioredis';
import { ipsClient } from '../e2e/src/support/ips';
import { MASTER_KEY as MK, startSystem } from '../e2e/src/support/system';

const HASH = '$2a$13$0123456789abcdefghijke83qjoCb8ggnz2a4OYR7vO8WGClpIei.';
const CONCURRENCY = 64;
const DEADLINE = Date.now() + 8 * 60_000;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** One HTTP server standing in for any number of slaves (one path each), answering SUCCESS. */
class StubSlaves {
  private server = http.createServer((req, res) => this.handle(req, res));
  private waiters = new Map<string, { left: number; resolve: (t: number) => void }>();
  port = 0;
  received = 0;

  async start() {
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.address() as AddressInfo).port;
  }
  url(i: number) {
    return `http://127.0.0.1:${this.port}/s${i}/ipsconnect.php`;
  }
  /** Resolves with the time the `count`-th request tagged `tag` (member id or job tag) arrived. */
  expect(tag: string, count: number): Promise<number> {
    return new Promise((resolve) => this.waiters.set(tag, { left: count, resolve }));
  }
  private handle(req: http.IncomingMessage, res: http.ServerResponse) {
    this.received += 1;
    const q = new URL(req.url ?? '/', 'http://x').searchParams;
    const tag = q.get('id') ?? q.get('tag') ?? '';
    res.setHeader('content-type', 'application/json');
    res.end('{"status":"SUCCESS"}');
    const w = this.waiters.get(tag);
    if (w && --w.left === 0) {
      this.waiters.delete(tag);
      w.resolve(performance.now());
    }
  }
  async stop() {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

async function baseline(redisUrl: string, stub: StubSlaves, sizes: number[], throughputJobs: number) {
  const connection = new IORedis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue('bench-baseline', { connection });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const worker = new Worker(
    'bench-baseline',
    (job) =>
      new Promise<void>((resolve, reject) => {
        http.get(stub.url(job.data.slave) + `?tag=${job.data.tag}`, { agent }, (res) => {
          res.resume();
          res.on('end', () => resolve());
        }).on('error', reject);
      }),
    { connection: new IORedis(redisUrl, { maxRetriesPerRequest: null }), concurrency: CONCURRENCY },
  );
  const latency: Record<number, number> = {};
  let tag = 0;
  for (const n of sizes) {
    const times: number[] = [];
    for (let k = 0; k < 5; k++) {
      const t = `b${tag++}`;
      const done = stub.expect(t, n);
      const start = performance.now();
      await queue.addBulk(Array.from({ length: n }, (_, i) => ({ name: 'd', data: { slave: i, tag: t }, opts: { removeOnComplete: true } })));
      times.push((await done) - start);
    }
    latency[n] = median(times);
  }
  const t = `b${tag++}`;
  const done = stub.expect(t, throughputJobs);
  const start = performance.now();
  for (let i = 0; i < throughputJobs; i += 1000) {
    await queue.addBulk(Array.from({ length: Math.min(1000, throughputJobs - i) }, (_, j) => ({ name: 'd', data: { slave: (i + j) % 100, tag: t }, opts: { removeOnComplete: true } })));
  }
  const throughput = throughputJobs / (((await done) - start) / 1000);
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  await connection.quit();
  agent.destroy();
  return { latency, throughput };
}

async function main() {
  const stub = new StubSlaves();
  await stub.start();
  const sys = await startSystem({ LOG_LEVEL: 'warn', PROPAGATION_CONCURRENCY: String(CONCURRENCY), PROPAGATION_RETRY_SCHEDULE: '0,1s,5s' });
  const ips = ipsClient(sys.urls.gateway);
  const sizes = [10, 100, 1000];
  const results: { n: number; median: number; runs: number[] }[] = [];
  let registered = 0;
  let member = 0;
  try {
    for (const n of sizes) {
      while (registered < n) {
        const i = registered++;
        const r = await ips.get({ do: 'verifySettings', key: MK, url: stub.url(i), ourKey: `bench-key-${i}` });
        if (r.json().status !== 'SUCCESS') throw new Error('verifySettings failed');
      }
      const runs: number[] = [];
      for (let k = 0; k < 7 && Date.now() < DEADLINE; k++) {
        member++;
        // The master's answer to the originating slave arrives after the commit; deliveries start then.
        const start = performance.now();
        const res = await ips.get({ do: 'register', key: MK, name: `bench${member}`, email: `bench${member}@example.test`, pass_hash: HASH, pass_salt: '0123456789abcdefghijkl' });
        const id = String(res.json().connect_id);
        const done = stub.expect(id, n);
        runs.push((await done) - start);
      }
      results.push({ n, median: median(runs), runs });
    }

    // Throughput: 50 registrations at once to 100 slaves = 5000 deliveries.
    await Promise.all(
      Array.from({ length: 900 }, (_, j) =>
        ips.get({ do: 'disableSlave', key: MK, url: stub.url(100 + j) }),
      ),
    );
    const regs = 50;
    const start = performance.now();
    const waits: Promise<number>[] = [];
    await Promise.all(
      Array.from({ length: regs }, async () => {
        const m = ++member;
        const res = await ips.get({ do: 'register', key: MK, name: `tp${m}`, email: `tp${m}@example.test`, pass_hash: HASH, pass_salt: '0123456789abcdefghijkl' });
        waits.push(stub.expect(String(res.json().connect_id), 100));
      }),
    );
    const lastAt = Math.max(...(await Promise.all(waits)));
    const throughput = (regs * 100) / ((lastAt - start) / 1000);

    const base = await baseline(sys.redis.url.replace(/\/\d+$/, '/') + (Number(sys.redis.url.split('/').pop()) ), stub, sizes, regs * 100);

    const fmt = (ms: number) => `${ms.toFixed(0)} ms`;
    console.log('\nSwitchboard propagation benchmark (loopback, one stub server for all slaves, concurrency ' + CONCURRENCY + ')');
    console.log('commit → delivered to all slaves (median of 7 registrations; baseline: raw BullMQ addBulk + HTTP GET, median of 5)');
    for (const r of results) {
      const b = base.latency[r.n];
      console.log(`  ${String(r.n).padStart(4)} slaves: ${fmt(r.median).padStart(8)}   baseline ${fmt(b).padStart(8)}   ratio ${(r.median / b).toFixed(2)}×   (runs: ${r.runs.map((x) => x.toFixed(0)).join(', ')} ms)`);
    }
    console.log(`throughput (5000 deliveries to 100 slaves): ${throughput.toFixed(0)} deliveries/s   baseline ${base.throughput.toFixed(0)} jobs/s   ratio ${(throughput / base.throughput).toFixed(2)}`);
    console.log('targets (not enforced): 100 slaves ≤ 150 ms median, 1000 ≤ 1 s, throughput ≥ 0.8 × baseline');
  } finally {
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
