/**
 * What `npm run bench:propagation` (propagation.ts) and `npm run bench` (suite.ts) share: the stub
 * slaves (one loopback HTTP server answering SUCCESS for any number of slave paths) and the raw
 * BullMQ + HTTP baseline (its own worker process, bench/baseline-worker.ts).
 */
import http from 'node:http';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { ROOT } from '../e2e/src/support/run-source';
import { cpuByProgram } from './proc-cpu';

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** One HTTP server standing in for any number of slaves (one path each), answering SUCCESS. */
export class StubSlaves {
  private server = http.createServer((req, res) => this.handle(req, res));
  private waiters = new Map<string, { left: number; resolve: (t: number) => void }>();
  /** Arrival times of tagged requests nobody waited for yet. */
  private early = new Map<string, number[]>();
  port = 0;
  /** The last request each slave path received (the baseline sends the same bytes). */
  lastRequest = new Map<string, string>();

  async start() {
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.address() as AddressInfo).port;
  }
  url(i: number) {
    return `http://127.0.0.1:${this.port}/s${i}/ipsconnect.php`;
  }
  /**
   * Resolves with the time the `count`-th request tagged `tag` (member id or job tag) arrived,
   * counting those that arrived before the call (a delivery can beat the answer to `register`).
   */
  expect(tag: string, count: number): Promise<number> {
    const early = this.early.get(tag) ?? [];
    this.early.delete(tag);
    if (early.length >= count) return Promise.resolve(early[count - 1]);
    return new Promise((resolve) => this.waiters.set(tag, { left: count - early.length, resolve }));
  }
  private handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = req.url ?? '/';
    const q = new URL(url, 'http://x').searchParams;
    const tag = q.get('tag') ?? q.get('id') ?? '';
    if (!q.has('tag')) this.lastRequest.set(url.split('?')[0], url);
    res.setHeader('content-type', 'application/json');
    res.end('{"status":"SUCCESS"}');
    const w = this.waiters.get(tag);
    if (!w) {
      if (tag) {
        const times = this.early.get(tag) ?? [];
        times.push(performance.now());
        this.early.set(tag, times);
      }
    } else if (--w.left === 0) {
      this.waiters.delete(tag);
      w.resolve(performance.now());
    }
  }
  async stop() {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

export function cpuDiff(before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of ['worker', 'node', 'postgres', 'redis-server']) out[name] = (after.get(name) ?? 0) - (before.get(name) ?? 0);
  return out;
}

/** A child process that ends on SIGTERM (so that a CPU profile is written). */
export async function stopChild(child: ReturnType<typeof spawn>) {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** The raw BullMQ + HTTP baseline: its own queue and worker process, the same requests. */
export async function startBaseline(redisUrl: string, stub: StubSlaves, slaves: number, concurrency: number, extraEnv: Record<string, string> = {}) {
  const connection = new IORedis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue('bench-baseline', { connection });
  const file = join(mkdtempSync(join(tmpdir(), 'sb-bench-')), 'urls.json');
  const urls = Array.from({ length: slaves }, (_, i) => {
    const path = new URL(stub.url(i)).pathname;
    return `http://127.0.0.1:${stub.port}` + (stub.lastRequest.get(path) ?? `${path}?x=1`);
  });
  writeFileSync(file, JSON.stringify(urls));
  const child = spawn(process.execPath, ['-r', '@swc-node/register', join('bench', 'baseline-worker.ts'), redisUrl, 'bench-baseline', file, String(concurrency)], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'] ?? '', SWC_NODE_PROJECT: 'tsconfig.base.json', ...extraEnv },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (d) => String(d).includes('ready') && resolve());
    child.once('exit', (code) => reject(new Error(`baseline worker exited (${code})`)));
  });
  let tag = 0;
  const add = (n: number, t: string) =>
    queue.addBulk(Array.from({ length: n }, (_, i) => ({ name: 'd', data: { slave: i % slaves, tag: t }, opts: { removeOnComplete: true } })));
  return {
    child,
    /** addBulk of one job per slave → the last one answered. */
    async latency(n: number) {
      const t = `b${tag++}`;
      const done = stub.expect(t, n);
      const start = performance.now();
      await add(n, t);
      return (await done) - start;
    },
    /** A backlog of `n` jobs queued while the queue is paused, then drained. */
    async drain(n: number) {
      const t = `b${tag++}`;
      await queue.pause();
      for (let i = 0; i < n; i += 1000) await add(Math.min(1000, n - i), t);
      const done = stub.expect(t, n);
      const start = performance.now();
      const cpu0 = cpuByProgram(child.pid);
      await queue.resume();
      const end = await done;
      return { rate: n / ((end - start) / 1000), cpu: cpuDiff(cpu0, cpuByProgram(child.pid)) };
    },
    async stop() {
      await stopChild(child);
      await queue.obliterate({ force: true });
      await queue.close();
      connection.disconnect(); // BullMQ leaves a connection it was given open
    },
  };
}

