import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:net';
import { join } from 'node:path';
import { Client } from 'pg';
import { createTestRedis, freePort, TestRedis, waitFor } from '@switchboard/testing';
import { startNpm as startNpmIn } from './support/npm-start';
import { ROOT } from './support/run-source';

const PG_SERVER = process.env['TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432';

function processGroupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The environment a process was started with (Linux /proc): what a service really received. */
function environOf(pid: number): Record<string, string> {
  const entries = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);
  return Object.fromEntries(entries.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
}

/** Status of GET /health/ready, or the error's message when nothing answers. */
async function readiness(port: number): Promise<number | string> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/health/ready`, { signal: AbortSignal.timeout(15_000) });
    await res.body?.cancel();
    return res.status;
  } catch (err) {
    return (err as Error).message;
  }
}

const count = (text: string, needle: string) => text.split(needle).length - 1;

/** waitFor, whose error ends with the last lines `npm start` printed (what it was doing). */
async function waitShowing(probe: () => unknown, timeoutMs: number, what: string, output: () => string): Promise<void> {
  try {
    await waitFor(async () => Boolean(await probe()), timeoutMs, what);
  } catch (err) {
    throw new Error(`${(err as Error).message}\n--- npm start printed (last 40 lines) ---\n${output().split('\n').slice(-40).join('\n')}`);
  }
}

/** The PIDs of a service's processes (`dist/apps/<name>/main.js`) in process group `pgid` (Linux /proc). */
function servicePids(pgid: number, name: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const group = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (group === pgid && cmdline.includes(`dist/apps/${name}/main.js`)) pids.push(Number(entry));
    } catch {
      // the process ended meanwhile
    }
  }
  return pids;
}

/**
 * `npm start` as an operator runs it: generates secrets, builds, creates and migrates the database,
 * starts the four services, supervises them (a dead one is restarted, one that keeps dying is given
 * up alone, a configuration error is not retried), and stops them all on SIGTERM within 10 s.
 */
describe('npm start', () => {
  const dbName = `switchboard_start_${randomBytes(4).toString('hex')}`;
  const envFile = join(ROOT, 'tmp', `start-${dbName}.env`);
  const otherEnvFiles = [join(ROOT, 'tmp', `start-${dbName}-kill.env`), join(ROOT, 'tmp', `start-${dbName}-giveup.env`)];
  const running: ChildProcess[] = [];
  let child: ChildProcess | undefined;
  let output = '';
  let redis: TestRedis;

  beforeAll(async () => {
    redis = await createTestRedis();
  }, 180_000);

  afterAll(async () => {
    if (child?.pid && processGroupAlive(child.pid)) process.kill(-child.pid, 'SIGKILL');
    for (const c of running) if (c.pid && processGroupAlive(c.pid)) process.kill(-c.pid, 'SIGKILL');
    for (const file of [envFile, ...otherEnvFiles]) rmSync(file, { force: true });
    await redis?.close();
    const admin = new Client({ connectionString: `${PG_SERVER}/postgres` });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    await admin.end();
  }, 180_000);

  /** What an operator's shell would give `npm start`: free ports, our database and Redis DB. */
  const startEnv = async () => {
    const ports = { GATEWAY_PORT: await freePort(), AUTH_PORT: await freePort(), ADMIN_PORT: await freePort(), PROPAGATOR_PORT: await freePort() };
    const env: Record<string, string> = {
      PATH: process.env['PATH'] ?? '',
      HOME: process.env['HOME'] ?? '/tmp',
      ENV_FILE: envFile,
      DATABASE_URL: `${PG_SERVER}/${dbName}`,
      REDIS_URL: redis.url,
      ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
    };
    return { ports, env };
  };

  it('brings all four services to ready, then SIGTERM stops everything within 10 s', async () => {
    const { ports, env } = await startEnv();
    // An operator's file without a final newline: generated secrets must land on lines of their own.
    mkdirSync(join(ROOT, 'tmp'), { recursive: true });
    writeFileSync(envFile, `LOG_LEVEL=warn`);
    const started = Date.now();
    child = spawn('npm', ['start'], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (d) => (output += d));
    child.stderr?.on('data', (d) => (output += d));

    // The first start builds the bundles (no Nx cache in a fresh clone): minutes on a loaded 2-core machine.
    await waitFor(() => output.includes('Switchboard is up') || child?.exitCode !== null, 480_000, 'npm start to report the system up');
    expect(output).toContain('Switchboard is up');
    expect(Date.now() - started).toBeLessThan(180_000);
    // A healthy start logs no error (Nest's lookup of a provider a service does not have used to).
    expect(output.split('\n').filter((line) => /"level":"error"|could not find/.test(line))).toEqual([]);

    // Secrets were generated into the env file, and none of them was printed.
    const generated = readFileSync(envFile, 'utf8');
    expect(generated.split('\n')[0]).toBe('LOG_LEVEL=warn');
    for (const name of ['MASTER_KEY', 'SECRETS_KEY', 'ADMIN_TOKEN', 'INTERNAL_TOKEN']) {
      const value = new RegExp(`^${name}=(.+)$`, 'm').exec(generated)?.[1];
      expect(value?.length).toBeGreaterThanOrEqual(32);
      expect(output).not.toContain(value);
      expect(output).toContain(`${name} was not set: generated one`);
    }
    for (const port of Object.values(ports)) {
      const res = await fetch(`http://127.0.0.1:${port}/health/ready`);
      expect(res.status).toBe(200);
    }

    expect({ exited: child.exitCode, tail: child.exitCode === null ? '' : output.slice(-3000) }).toEqual({ exited: null, tail: '' });
    const stopAt = Date.now();
    process.kill(child.pid!, 'SIGTERM');
    await waitFor(() => !processGroupAlive(child!.pid!), 10_000, 'every process of npm start to exit');
    expect(Date.now() - stopAt).toBeLessThan(10_000);
    for (const port of Object.values(ports)) {
      await expect(fetch(`http://127.0.0.1:${port}/health/live`)).rejects.toThrow();
    }
    expect(existsSync(envFile)).toBe(true);
  }, 520_000);

  it('SIGTERM while it is still preparing (installing, building) stops it, and nothing starts', async () => {
    const { ports, env } = await startEnv();
    let out = '';
    const early = spawn('npm', ['start'], {
      cwd: ROOT,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    early.stdout?.on('data', (d) => (out += d));
    early.stderr?.on('data', (d) => (out += d));
    try {
      await waitFor(() => out.includes('building…'), 60_000, 'npm start to begin building');
      const stopAt = Date.now();
      process.kill(early.pid!, 'SIGTERM');
      await waitFor(() => !processGroupAlive(early.pid!), 10_000, 'npm start to stop while building');
      expect(Date.now() - stopAt).toBeLessThan(10_000);
      expect(out).not.toContain('Switchboard is up');
      for (const port of Object.values(ports)) {
        await expect(fetch(`http://127.0.0.1:${port}/health/live`)).rejects.toThrow();
      }
    } finally {
      if (processGroupAlive(early.pid!)) process.kill(-early.pid!, 'SIGKILL');
    }
  }, 90_000);
  const startNpm = (env: Record<string, string>) => startNpmIn(env, running);

  /** SIGTERM to `npm start`: every process of it is gone within 10 s. */
  const stopWithin10s = async (npm: ChildProcess) => {
    const stopAt = Date.now();
    process.kill(npm.pid!, 'SIGTERM');
    await waitFor(() => !processGroupAlive(npm.pid!), 10_000, 'every process of npm start to exit');
    expect(Date.now() - stopAt).toBeLessThan(10_000);
  };

  it('kill -9 of the propagator: gateway, auth and admin keep answering, the propagator is restarted and ready again', async () => {
    const { ports, env } = await startEnv();
    env['ENV_FILE'] = otherEnvFiles[0];
    const { npm, out } = startNpm(env);
    await waitShowing(() => out().includes('Switchboard is up') || npm.exitCode !== null, 480_000, 'npm start to report the system up', out);
    expect(out()).toContain('Switchboard is up:');
    const [first] = servicePids(npm.pid!, 'propagator');
    expect(first).toBeGreaterThan(0);

    process.kill(first, 'SIGKILL');
    // Until the propagator is back, the other three answer ready every time they are asked.
    const others = [ports.GATEWAY_PORT, ports.AUTH_PORT, ports.ADMIN_PORT];
    const failures: string[] = [];
    let rounds = 0;
    await waitShowing(
      async () => {
        const statuses = await Promise.all(others.map(readiness));
        rounds += 1;
        statuses.forEach((status, i) => status !== 200 && failures.push(`port ${others[i]}: ${status}`));
        return out().includes('[switchboard] propagator is ready again') || npm.exitCode !== null;
      },
      200_000,
      'the propagator to be restarted and ready again',
      out,
    );
    expect({ failures, exited: npm.exitCode }).toEqual({ failures: [], exited: null });
    expect(rounds).toBeGreaterThan(0);
    expect(out()).toMatch(new RegExp(`\\[switchboard\\] propagator \\(pid ${first}\\) died \\(SIGKILL\\) after [\\d.]+ s: restarting it in 1\\.0 s`));
    const second = Number(/\[switchboard\] propagator is ready again \(pid (\d+)\)/.exec(out())?.[1]);
    expect(servicePids(npm.pid!, 'propagator')).toEqual([second]);
    expect(second).not.toBe(first);

    // Local development: slaves on private addresses allowed, said once, and passed to every run.
    expect(count(out(), '[switchboard] SLAVE_URL_ALLOW_PRIVATE=true (local development')).toBe(1);
    expect(environOf(second)['SLAVE_URL_ALLOW_PRIVATE']).toBe('true');
    expect(environOf(servicePids(npm.pid!, 'gateway')[0])['SLAVE_URL_ALLOW_PRIVATE']).toBe('true');
    for (const port of Object.values(ports)) expect(await readiness(port)).toBe(200);

    await stopWithin10s(npm);
    for (const port of Object.values(ports)) {
      await expect(fetch(`http://127.0.0.1:${port}/health/live`)).rejects.toThrow();
    }
  }, 780_000);

  it('a configuration error (exit 78) is not restarted; a service that keeps dying is given up after 5 deaths; the others keep serving', async () => {
    const { ports, env } = await startEnv();
    env['ENV_FILE'] = otherEnvFiles[1];
    // The operator's file decides SLAVE_URL_ALLOW_PRIVATE: npm start keeps it and says nothing.
    writeFileSync(otherEnvFiles[1], 'LOG_LEVEL=warn\nSLAVE_URL_ALLOW_PRIVATE=false\n');
    // A setting only admin reads is invalid: admin exits 78 with its one line.
    env['ADMIN_TOKEN'] = 'too-short';
    // Another program holds the propagator's port: it dies on every start (exit 1, EADDRINUSE).
    const blocker: Server = createServer((socket) => socket.destroy());
    await new Promise<void>((r) => blocker.listen(ports.PROPAGATOR_PORT, '127.0.0.1', r));
    try {
      const { npm, out } = startNpm(env);
      await waitShowing(
        () => (out().includes('Switchboard is up') && out().includes('GIVING UP')) || npm.exitCode !== null,
        600_000,
        'npm start to report the rest up and give up on the propagator',
        out,
      );
      const text = out();
      expect(text).toContain('[switchboard] Switchboard is up WITHOUT admin');
      expect(npm.exitCode).toBeNull();

      // admin: its reason once, the supervisor's notice once, never restarted.
      expect(count(text, 'switchboard admin: configuration error: ADMIN_TOKEN must be at least 32 characters')).toBe(1);
      expect(count(text, '[switchboard] !!! admin stopped on a configuration error (exit 78')).toBe(1);
      expect(count(text, '[switchboard] admin restarted')).toBe(0);
      // propagator: restarted after 1, 2, 4 and 8 s, then given up on its 5th death.
      const delays = [...text.matchAll(/\[switchboard\] propagator \(pid \d+\) died \(exit 1\) after [\d.]+ s: restarting it in ([\d.]+) s/g)].map((m) => m[1]);
      expect(delays).toEqual(['1.0', '2.0', '4.0', '8.0']);
      expect(count(text, '[switchboard] propagator restarted (pid')).toBe(4);
      expect(count(text, '[switchboard] !!! propagator died 5 times in a row without staying ready for 60 s (last: exit 1): GIVING UP on it')).toBe(1);
      expect(text).not.toContain('[switchboard] SLAVE_URL_ALLOW_PRIVATE=true');
      expect(environOf(servicePids(npm.pid!, 'auth')[0])['SLAVE_URL_ALLOW_PRIVATE']).toBe('false');
      expect(servicePids(npm.pid!, 'admin')).toEqual([]);
      expect(servicePids(npm.pid!, 'propagator')).toEqual([]);

      // gateway and auth serve on; admin is down.
      expect(await readiness(ports.GATEWAY_PORT)).toBe(200);
      expect(await readiness(ports.AUTH_PORT)).toBe(200);
      expect(await readiness(ports.ADMIN_PORT)).not.toBe(200);

      await stopWithin10s(npm);
      expect(count(out(), '[switchboard] propagator restarted (pid')).toBe(4);
      for (const port of [ports.GATEWAY_PORT, ports.AUTH_PORT]) {
        await expect(fetch(`http://127.0.0.1:${port}/health/live`)).rejects.toThrow();
      }
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  }, 800_000);
});
