import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import IORedis from 'ioredis';
import { Client } from 'pg';
import { freePort, waitFor } from '@switchboard/testing';
import { startNpm as startNpmIn } from './support/npm-start';
import { ROOT } from './support/run-source';

/**
 * `npm start` on a machine where nothing answers at DATABASE_URL and REDIS_URL (free ports here, as
 * on a fresh machine where both are stopped): it runs its own PostgreSQL and Redis there, from
 * Debian's packages, with their data in a folder it keeps; or, when it cannot, it says the one
 * command to run. The shared servers on 5432/6379 are never touched.
 */

const havePostgres = existsSync('/usr/lib/postgresql') || spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' }).status === 0;
const haveRedis = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).status === 0;

function processGroupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The PIDs of processes whose command line contains `needle` (Linux /proc). */
function pidsOf(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ').includes(needle)) pids.push(Number(entry));
    } catch {
      // ended meanwhile
    }
  }
  return pids;
}

describe('npm start without PostgreSQL and Redis answering', () => {
  const id = `${process.pid}-${Date.now().toString(36)}`;
  // Outside the clone: initdb runs as the postgres user, which must be able to reach the folder (a
  // clone under a private directory, e.g. one made by mktemp, is not reachable by it).
  const dataDir = join(tmpdir(), `switchboard-start-stores-${id}`);
  const envFile = join(ROOT, 'tmp', `start-stores-${id}.env`);
  const running: ChildProcess[] = [];

  afterAll(async () => {
    for (const c of running) if (c.pid && processGroupAlive(c.pid)) process.kill(-c.pid, 'SIGKILL');
    // Our servers, should a run have been killed before it stopped them (by PID, found by data folder).
    for (const pid of pidsOf(dataDir)) process.kill(pid, 'SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(envFile, { force: true });
  }, 60_000);

  const startNpm = (env: Record<string, string>) => startNpmIn(env, running);

  const waitShowing = async (probe: () => boolean, ms: number, what: string, out: () => string) => {
    try {
      await waitFor(probe, ms, what);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- npm start printed (last 40 lines) ---\n${out().split('\n').slice(-40).join('\n')}`);
    }
  };

  (havePostgres && haveRedis ? it : it.skip)(
    'starts its own PostgreSQL and Redis at the URLs, serves, stops them with itself, and keeps their data for the next run',
    async () => {
      mkdirSync(join(ROOT, 'tmp'), { recursive: true });
      const pgPort = await freePort();
      const redisPort = await freePort();
      const ports = { GATEWAY_PORT: await freePort(), AUTH_PORT: await freePort(), ADMIN_PORT: await freePort(), PROPAGATOR_PORT: await freePort() };
      const env: Record<string, string> = {
        PATH: process.env['PATH'] ?? '',
        HOME: process.env['HOME'] ?? '/tmp',
        ENV_FILE: envFile,
        SWITCHBOARD_DATA_DIR: dataDir,
        DATABASE_URL: `postgres://postgres@127.0.0.1:${pgPort}/switchboard`,
        REDIS_URL: `redis://127.0.0.1:${redisPort}/0`,
        LOG_LEVEL: 'warn',
        ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
      };

      // First run: nothing answers; npm start creates both servers' data and starts them.
      const first = startNpm(env);
      // Generous: the first run builds (a few minutes on a busy machine; Nx's cache makes it quick after that).
      await waitShowing(() => first.out().includes('Switchboard is up') || first.npm.exitCode !== null, 900_000, 'npm start to report the system up', first.out);
      expect(first.out()).toContain(`Redis does not answer at 127.0.0.1:${redisPort}: starting redis-server there, data in ${join(dataDir, 'redis')}`);
      expect(first.out()).toContain(`PostgreSQL does not answer at 127.0.0.1:${pgPort}: creating a database cluster in ${join(dataDir, 'postgres')}`);
      expect(first.out()).toMatch(/Switchboard is up:/);
      for (const port of Object.values(ports)) expect((await fetch(`http://127.0.0.1:${port}/health/ready`)).status).toBe(200);

      // Something to find again: a key in Redis, the migrated database in PostgreSQL.
      const redis = new IORedis(env['REDIS_URL']);
      await redis.set('switchboard:test:kept', 'yes');
      await redis.quit();
      const pg = new Client({ connectionString: env['DATABASE_URL'] });
      await pg.connect();
      const migrations = Number((await pg.query('SELECT count(*)::int AS n FROM migrations')).rows[0].n);
      await pg.end();
      expect(migrations).toBeGreaterThan(0);

      // Stopped by its PID: the services and both servers go, the data stays.
      const stopAt = Date.now();
      process.kill(first.npm.pid!, 'SIGTERM');
      await waitShowing(() => !processGroupAlive(first.npm.pid!), 30_000, 'every process of npm start (servers included) to exit', first.out);
      expect(Date.now() - stopAt).toBeLessThan(30_000);
      expect(pidsOf(dataDir)).toEqual([]);
      expect(existsSync(join(dataDir, 'postgres', 'PG_VERSION'))).toBe(true);
      expect(existsSync(join(dataDir, 'redis'))).toBe(true);
      await expect(fetch(`http://127.0.0.1:${ports.GATEWAY_PORT}/health/live`)).rejects.toThrow();

      // Second run on the same data: started again, nothing recreated, nothing lost.
      const second = startNpm({ ...env, SWITCHBOARD_SKIP_BUILD: '1' });
      await waitShowing(() => second.out().includes('Switchboard is up') || second.npm.exitCode !== null, 300_000, 'the second npm start to report the system up', second.out);
      expect(second.out()).toContain(`PostgreSQL does not answer at 127.0.0.1:${pgPort}: starting it on the cluster kept in ${join(dataDir, 'postgres')}`);
      expect(second.out()).not.toContain('creating a database cluster');
      const again = new IORedis(env['REDIS_URL']);
      expect(await again.get('switchboard:test:kept')).toBe('yes');
      await again.quit();
      const pg2 = new Client({ connectionString: env['DATABASE_URL'] });
      await pg2.connect();
      expect(Number((await pg2.query('SELECT count(*)::int AS n FROM migrations')).rows[0].n)).toBe(migrations);
      await pg2.end();
      process.kill(second.npm.pid!, 'SIGTERM');
      await waitShowing(() => !processGroupAlive(second.npm.pid!), 30_000, 'the second npm start to exit', second.out);
      expect(pidsOf(dataDir)).toEqual([]);
    },
    1_500_000,
  );

  it('says the one command to run when it cannot start them (a remote DATABASE_URL that does not answer)', async () => {
    const out: string[] = [];
    const npm = spawn('npm', ['start'], {
      cwd: ROOT,
      env: {
        PATH: process.env['PATH'] ?? '',
        HOME: process.env['HOME'] ?? '/tmp',
        ENV_FILE: envFile,
        SWITCHBOARD_DATA_DIR: dataDir,
        // TEST-NET-1 (RFC 5737): never answers, and is not this machine.
        DATABASE_URL: 'postgres://postgres@192.0.2.1:5432/switchboard',
        REDIS_URL: `redis://127.0.0.1:${await freePort()}/0`,
      },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.push(npm);
    npm.stdout?.on('data', (d) => out.push(String(d)));
    npm.stderr?.on('data', (d) => out.push(String(d)));
    const code = await new Promise<number | null>((r) => npm.on('exit', r));
    expect(code).toBe(1);
    expect(out.join('')).toContain(
      'PostgreSQL does not answer at 192.0.2.1:5432 (DATABASE_URL), which is not this machine: start it there, or unset DATABASE_URL to have npm start run one here',
    );
    expect(out.join('')).not.toContain('building');
  }, 120_000);
});
