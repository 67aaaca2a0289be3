import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { waitFor } from '@switchboard/testing';
import { spawnAppFromSource } from '../run-source';

const CLOCK_TICKS = 100;

/** Children still running, and other processes to end (the private redis-server), by PID. */
const running = new Set<ChildProcess>();
const others = new Set<() => number | undefined>();

/** Also ended by killEverythingNow (e.g. the private redis-server, whose PID changes on restart). */
export function trackPid(pid: () => number | undefined): () => void {
  others.add(pid);
  return () => others.delete(pid);
}

/**
 * Last resort when the soak's own process ends abnormally (an exception, Ctrl-C twice, a Jest
 * timeout): SIGKILL, by PID, every process it started that still runs. Synchronous.
 */
export function killEverythingNow(): void {
  const pids = [...[...running].map((c) => c.pid), ...[...others].map((f) => f())];
  for (const pid of pids) {
    if (!pid) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  running.clear();
}

/** CPU time (user + system, ms) a process has used so far, from /proc; 0 once it is gone. */
export function cpuOfPid(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** CPU time (ms) used so far by every process of the machine running `program` (e.g. postgres). */
export function cpuOfProgram(program: string): number {
  let total = 0;
  for (const pid of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (raw.slice(raw.indexOf('(') + 1, raw.lastIndexOf(')')) === program) total += cpuOfPid(Number(pid));
    } catch {
      /* ended meanwhile */
    }
  }
  return total;
}

async function ready(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

/**
 * One service process run from source (SWC), on its own loopback port. Ended by its PID only:
 * SIGKILL for the soak's faults, SIGTERM (then SIGKILL after a bound) at the end. CPU is summed
 * over every incarnation.
 */
export class ServiceProcess {
  private child?: ChildProcess;
  private output?: () => string;
  private cpuBefore = 0;
  incarnations = 0;

  constructor(
    readonly name: string,
    readonly app: 'gateway' | 'auth' | 'admin' | 'propagator',
    readonly port: number,
    private readonly env: Record<string, string>,
  ) {}

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid() {
    return this.child?.pid;
  }

  /** Spawns the process and waits (bounded) until its /health/ready answers 200. */
  async start(timeoutMs = 120_000): Promise<void> {
    const portVar = `${this.app.toUpperCase()}_PORT`;
    const { child, output } = spawnAppFromSource(this.app, { ...this.env, [portVar]: String(this.port) });
    this.child = child;
    this.output = output;
    this.incarnations++;
    running.add(child);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    void exited.then(() => running.delete(child));
    let dead = false;
    void exited.then(() => (dead = true));
    await waitFor(
      async () => {
        if (dead) throw new Error(`${this.name} exited during start: ${this.tail()}`);
        return ready(`${this.url}/health/ready`);
      },
      timeoutMs,
      `${this.name} ready`,
    ).catch((err) => {
      throw new Error(`${(err as Error).message}\n${this.tail()}`);
    });
  }

  /** kill -9 by PID, waiting for the exit. */
  async kill9(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.cpuBefore += cpuOfPid(child.pid);
    const exited = new Promise((r) => child.once('exit', r));
    process.kill(child.pid!, 'SIGKILL');
    await exited;
  }

  /** SIGTERM by PID; SIGKILL after `graceMs` if it has not ended. */
  async stop(graceMs = 10_000): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.cpuBefore += cpuOfPid(child.pid);
    const exited = new Promise((r) => child.once('exit', r));
    process.kill(child.pid!, 'SIGTERM');
    const timer = setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL');
    }, graceMs);
    await exited;
    clearTimeout(timer);
  }

  /** CPU ms over every incarnation so far. */
  cpuMs(): number {
    const live = this.child && this.child.exitCode === null && this.child.signalCode === null ? cpuOfPid(this.child.pid) : 0;
    return this.cpuBefore + live;
  }

  /** The end of its output (for a failure report; services log JSON lines, secrets redacted). */
  tail(chars = 3000): string {
    const out = this.output?.() ?? '';
    return out.length > chars ? out.slice(-chars) : out;
  }

  /** Its output lines at level error or fatal (pino 50, 60). */
  errorLines(): string[] {
    return (this.output?.() ?? '').split('\n').filter((l) => /"level":(50|60)\b/.test(l));
  }
}
