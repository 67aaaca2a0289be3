// PostgreSQL and Redis for `npm start` (scripts/start.mjs): the servers at DATABASE_URL and REDIS_URL
// are used when they answer; otherwise, when the URL names this machine, npm start runs its own,
// from Debian's packages (installed first by scripts/services.sh when absent and running as root),
// with their data in a git-ignored folder of the project (.switchboard/, or SWITCHBOARD_DATA_DIR)
// kept between runs. They are children of npm start: they stop after the services when it stops.
// When none of that is possible, it says the one command to run. Uses only Node built-ins and pg.
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);
const START_WAIT_MS = 60_000;

/** Whether a Redis server answers at `url` (any reply to PING counts: +PONG, -NOAUTH, -LOADING…). */
export function redisAnswers(url, timeoutMs = 2000) {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 6379) });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => done(/^[+-]/.test(d.toString('latin1'))));
  });
}

/** Whether a PostgreSQL server answers at `url`: connected, or refused by the server itself (no such database, wrong password). */
export async function postgresAnswers(url, root) {
  const { default: pg } = await import(join(root, 'node_modules', 'pg', 'lib', 'index.js'));
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return true;
  } catch (err) {
    // A SQLSTATE (3D000 no such database, 28P01 password…) comes from a server that answers.
    return typeof err?.code === 'string' && /^[0-9A-Z]{5}$/.test(err.code);
  } finally {
    await client.end().catch(() => undefined);
  }
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;
const onPath = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim() || undefined;

/** The directory of PostgreSQL's server binaries (initdb, postgres): on PATH, else Debian's newest. */
function postgresBin() {
  const initdb = onPath('initdb');
  if (initdb) {
    const dir = dirname(realpathSync(initdb));
    if (existsSync(join(dir, 'postgres'))) return dir;
  }
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base).filter((v) => existsSync(join(base, v, 'bin', 'initdb'))).sort((a, b) => Number(a) - Number(b));
  return versions.length ? join(base, versions.at(-1), 'bin') : undefined;
}

/** uid and gid of a system user (Debian's `postgres`, which initdb needs when we are root). */
function systemUser(name) {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  if (!line) return undefined;
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/** A server process of ours: output to `<data>/<name>.log`, as `user` when given (root only). */
function spawnServer(cmd, args, logFile, user) {
  const out = openSync(logFile, 'a');
  return spawn(cmd, args, { stdio: ['ignore', out, out], ...(user ? { uid: user.uid, gid: user.gid } : {}) });
}

async function waitUntil(probe, ms) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await probe()) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

/**
 * Makes sure PostgreSQL (DATABASE_URL) and Redis (REDIS_URL) answer. Returns the servers it started
 * ([{ name, child, log }]), or `{ error }`: a message naming the one command to run.
 * `say` prints a line; `run(name, cmd, args)` runs a step to completion (npm start's runner);
 * `onStart({ name, child, log })` is told of each server as soon as it is spawned.
 */
export async function ensureStores(env, { root, say, run, onStart }) {
  const dataDir = env.SWITCHBOARD_DATA_DIR || join(root, '.switchboard');
  const db = new URL(env.DATABASE_URL);
  const redis = new URL(env.REDIS_URL);
  const needPg = !(await postgresAnswers(env.DATABASE_URL, root));
  const needRedis = !(await redisAnswers(env.REDIS_URL));
  if (!needPg && !needRedis) return { started: [] };

  const install = 'sudo bash scripts/services.sh packages   (or: sudo apt-get install -y postgresql redis-server)';
  for (const [need, url, what, variable] of [[needPg, db, 'PostgreSQL', 'DATABASE_URL'], [needRedis, redis, 'Redis', 'REDIS_URL']]) {
    if (need && !LOCAL_HOSTS.has(url.hostname)) {
      return { error: `${what} does not answer at ${url.hostname}:${url.port || (what === 'Redis' ? 6379 : 5432)} (${variable}), which is not this machine: start it there, or unset ${variable} to have npm start run one here` };
    }
  }

  // The packages, when a server is missing: installed as root (scripts/services.sh), else the command.
  const missing = [];
  if (needPg && !postgresBin()) missing.push('postgresql');
  if (needRedis && !onPath('redis-server')) missing.push('redis-server');
  if (missing.length) {
    if (!isRoot() || !onPath('apt-get')) {
      return { error: `${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not installed and npm start cannot install ${missing.length > 1 ? 'them' : 'it'} (${isRoot() ? 'no apt-get' : 'not root'}). Run once: ${install}; then npm start again` };
    }
    say(`${missing.join(' and ')} not installed: installing from Debian's packages (scripts/services.sh packages)…`);
    await run('install PostgreSQL/Redis', 'bash', [join(root, 'scripts', 'services.sh'), 'packages']);
  }

  mkdirSync(dataDir, { recursive: true });
  const started = [];
  if (needRedis && !(await redisAnswers(env.REDIS_URL))) {
    const dir = join(dataDir, 'redis');
    mkdirSync(dir, { recursive: true });
    const port = redis.port || '6379';
    const args = ['--port', port, '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '', '--maxmemory-policy', 'noeviction', '--daemonize', 'no'];
    if (redis.password) args.push('--requirepass', decodeURIComponent(redis.password));
    const log = join(dataDir, 'redis.log');
    say(`Redis does not answer at 127.0.0.1:${port}: starting redis-server there, data in ${dir} (log ${log})`);
    const child = spawnServer(onPath('redis-server'), args, log);
    started.push({ name: 'Redis', child, log });
    onStart({ name: 'Redis', child, log });
    if (!(await waitUntil(() => child.exitCode === null && redisAnswers(env.REDIS_URL), START_WAIT_MS))) {
      return { started, error: `redis-server did not start on 127.0.0.1:${port}; see ${log}` };
    }
  }

  if (needPg && !(await postgresAnswers(env.DATABASE_URL, root))) {
    const bin = postgresBin();
    const dir = join(dataDir, 'postgres');
    const log = join(dataDir, 'postgres.log');
    const port = db.port || '5432';
    const user = decodeURIComponent(db.username || 'postgres');
    // initdb and postgres refuse to run as root: as Debian's postgres user, owning the data folder.
    const runAs = isRoot() ? systemUser('postgres') : undefined;
    if (isRoot() && !runAs) return { started, error: 'running as root, but there is no postgres user to run PostgreSQL as. Run once: ' + install };
    if (!existsSync(join(dir, 'PG_VERSION'))) {
      say(`PostgreSQL does not answer at 127.0.0.1:${port}: creating a database cluster in ${dir} (superuser ${user}${db.password ? ', password from DATABASE_URL' : ', trusted on 127.0.0.1 only'})`);
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const pwfile = join(dataDir, '.pwfile');
      const args = ['-D', dir, '-U', user, '-E', 'UTF8', '--locale=C', '--auth-local=trust', `--auth-host=${db.password ? 'scram-sha-256' : 'trust'}`];
      if (db.password) {
        writeFileSync(pwfile, decodeURIComponent(db.password) + '\n', { mode: 0o600 });
        args.push(`--pwfile=${pwfile}`);
      }
      if (runAs) {
        for (const path of [dataDir, dir, ...(db.password ? [pwfile] : [])]) chownSync(path, runAs.uid, runAs.gid);
      }
      const init = spawnSync(join(bin, 'initdb'), args, { encoding: 'utf8', ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}) });
      rmSync(pwfile, { force: true });
      writeFileSync(log, `${init.stdout ?? ''}${init.stderr ?? ''}`, { flag: 'a' });
      if (init.status !== 0) {
        const why = `${init.error?.message ?? ''}${init.stderr ?? ''}`.trim().split('\n').slice(-2).join(' ');
        return { started, error: `initdb failed (${why}); see ${log}. Or use the machine's PostgreSQL: ${install.replace('packages', 'install')}` };
      }
    } else {
      say(`PostgreSQL does not answer at 127.0.0.1:${port}: starting it on the cluster kept in ${dir} (log ${log})`);
    }
    if (runAs && existsSync(log)) chownSync(log, runAs.uid, runAs.gid);
    const child = spawnServer(join(bin, 'postgres'), ['-D', dir, '-p', port, '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='], log, runAs);
    started.push({ name: 'PostgreSQL', child, log });
    onStart({ name: 'PostgreSQL', child, log });
    if (!(await waitUntil(() => child.exitCode === null && postgresAnswers(env.DATABASE_URL, root), START_WAIT_MS))) {
      return { started, error: `PostgreSQL did not start on 127.0.0.1:${port}; see ${log}` };
    }
  }
  for (const s of started) say(`${s.name} started (pid ${s.child.pid}); it stops with npm start, its data stays in ${dataDir}`);
  return { started };
}
