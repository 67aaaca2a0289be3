/**
 * What `npm run bench:propagation` (propagation.ts) and `npm run bench` (suite.ts) share: the stub
 * slaves (one loopback HTTP server answering SUCCESS for any number of slave paths, in a process of
 * its own, bench/stub-slaves.ts) and the raw BullMQ + HTTP baseline (its own worker process,
 * bench/baseline-worker.ts).
 */
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { ROOT } from '../e2e/src/support/run-source';
import { cpuByProgram } from './proc-cpu';
import { monotonicMs } from './stub-server';

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * The stub slaves, run in a child process (bench/stub-slaves.ts) so that answering the deliveries
 * does not take the event loop of the bench process, which measures answer times (the origin rows)
 * with the same loop. Times returned by `expect` are in this process's `performance.now()` terms.
 */
export class StubSlaves {
  child?: ChildProcess;
  port = 0;
  private seq = 0;
  private replies = new Map<number, (msg: StubReply) => void>();

  async start() {
    const child = spawn(process.execPath, ['-r', '@swc-node/register', join('bench', 'stub-slaves.ts')], {
      cwd: ROOT,
      env: { PATH: process.env['PATH'] ?? '', SWC_NODE_PROJECT: 'tsconfig.base.json' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child = child;
    child.on('message', (msg: StubReply) => {
      const reply = this.replies.get(msg.id);
      if (reply) {
        this.replies.delete(msg.id);
        reply(msg);
      }
    });
    this.port = await new Promise<number>((resolve, reject) => {
      this.replies.set(0, (msg) => resolve(msg.port!));
      child.once('exit', (code) => reject(new Error(`stub slaves exited (${code})`)));
    });
  }
  url(i: number) {
    return `http://127.0.0.1:${this.port}/s${i}/ipsconnect.php`;
  }
  private ask(msg: Record<string, unknown>): Promise<StubReply> {
    const id = ++this.seq;
    return new Promise((resolve) => {
      this.replies.set(id, resolve);
      this.child!.send({ ...msg, id });
    });
  }
  /** See StubServer.expect; the time in this process's performance.now() terms. */
  async expect(tag: string, count: number): Promise<number> {
    const at = (await this.ask({ type: 'expect', tag, count })).at!;
    return at - (monotonicMs() - performance.now());
  }
  /** The last request each slave path received (path → path and query). */
  async lastRequests(): Promise<Map<string, string>> {
    const entries = (await this.ask({ type: 'last' })).entries!;
    return new Map(entries);
  }
  async stop() {
    if (this.child) await stopChild(this.child);
  }
}

type StubReply = { id: number; port?: number; at?: number; entries?: [string, string][] };

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
  const last = await stub.lastRequests();
  const urls = Array.from({ length: slaves }, (_, i) => {
    const path = new URL(stub.url(i)).pathname;
    return `http://127.0.0.1:${stub.port}` + (last.get(path) ?? `${path}?x=1`);
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

