import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { createTestRedis, freePort, TestRedis, waitFor } from '@switchboard/testing';
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

/**
 * `npm start` as an operator runs it: generates secrets, builds, creates and migrates the database,
 * starts the four services, and stops them all on SIGTERM within 10 s.
 */
describe('npm start', () => {
  const dbName = `switchboard_start_${randomBytes(4).toString('hex')}`;
  const envFile = join(ROOT, 'tmp', `start-${dbName}.env`);
  let child: ChildProcess | undefined;
  let output = '';
  let redis: TestRedis;

  beforeAll(async () => {
    redis = await createTestRedis();
  });

  afterAll(async () => {
    if (child?.pid && processGroupAlive(child.pid)) process.kill(-child.pid, 'SIGKILL');
    rmSync(envFile, { force: true });
    await redis?.close();
    const admin = new Client({ connectionString: `${PG_SERVER}/postgres` });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    await admin.end();
  });

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

    await waitFor(() => output.includes('Switchboard is up') || child?.exitCode !== null, 170_000, 'npm start to report the system up');
    expect(output).toContain('Switchboard is up');
    expect(Date.now() - started).toBeLessThan(180_000);

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
  }, 200_000);

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
});
