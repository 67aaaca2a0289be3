#!/usr/bin/env node
// `npm start`: the whole system on this machine, no Docker. Installs dependencies if missing,
// generates missing secrets once into a git-ignored .env, builds, creates and migrates the database,
// starts gateway, auth, admin and propagator, prints their URLs, and stops everything on
// Ctrl-C / SIGTERM (at any moment, including during install and build).
// It supervises the four services: one that dies is restarted with backoff while the others keep
// serving; one that keeps dying is given up (alone); one that exits with status 78 (configuration
// error, its reason already printed) is not restarted. See docs/operations.md.
// PostgreSQL and Redis: the servers at DATABASE_URL/REDIS_URL when they answer, else its own
// (scripts/stores.mjs), stopped after the services.
// Uses only Node built-ins until dependencies are installed.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { applyLocalDefaults, envFilePath, readEnvFile } from './env-file.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ENV_FILE = envFilePath(ROOT);
const SERVICES = ['auth', 'gateway', 'admin', 'propagator'];
const SECRETS = ['MASTER_KEY', 'SECRETS_KEY', 'ADMIN_TOKEN', 'INTERNAL_TOKEN'];
const STOP_GRACE_MS = 8000;
// Supervision of the four services (docs/operations.md).
const EX_CONFIG = 78; // the service printed why its configuration is invalid: restarting cannot help
const RESTART_FIRST_MS = 1000; // first restart after 1 s, doubling for each further death in a row
const HEALTHY_RUN_MS = 60_000; // ready this long: a death after that starts counting again from 0
const GIVE_UP_DEATHS = 5; // this many deaths in a row without a healthy run: the service is given up
const READY_WAIT_MS = 120_000;

const say = (msg) => process.stdout.write(`[switchboard] ${msg}\n`);
/** For what must not be missed in a scrolling terminal: a service given up or not restarted. */
const shout = (msg) => process.stderr.write(`[switchboard] !!! ${msg}\n`);
const seconds = (ms) => (ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`);

// ---- stopping: set up first, so a signal at any moment stops whatever runs ----------------------
/** Every child we started and that still runs: a preparation step, or a service. */
const children = new Map();
/** Each service's supervision state, by name (filled when the services start). */
const supervised = new Map();
/** The PostgreSQL and Redis servers npm start runs itself (scripts/stores.mjs): stopped last. */
const stores = new Map();
let stopping = false;

function stopAll(code) {
  if (stopping) return;
  stopping = true;
  for (const s of supervised.values()) clearTimeout(s.restartTimer);
  if (children.size || stores.size) say('stopping…');
  for (const child of children.values()) child.kill('SIGTERM');
  const deadline = setTimeout(() => {
    for (const [name, child] of children) {
      say(`${name} did not stop in ${STOP_GRACE_MS / 1000} s: killing it`);
      child.kill('SIGKILL');
    }
  }, STOP_GRACE_MS);
  const check = setInterval(() => {
    if (children.size === 0) {
      clearInterval(check);
      clearTimeout(deadline);
      stopStores(() => {
        say('stopped');
        process.exit(code);
      });
    }
  }, 50);
}

/** Our own servers, once no service uses them: PostgreSQL's fast shutdown (SIGINT), Redis' SIGTERM (AOF flushed). */
function stopStores(then) {
  if (stores.size === 0) return then();
  for (const [name, child] of stores) child.kill(name === 'PostgreSQL' ? 'SIGINT' : 'SIGTERM');
  const deadline = setTimeout(() => {
    for (const [name, child] of stores) {
      say(`${name} did not stop in ${STOP_GRACE_MS / 1000} s: killing it`);
      child.kill('SIGKILL');
    }
  }, STOP_GRACE_MS);
  const check = setInterval(() => {
    if (stores.size === 0) {
      clearInterval(check);
      clearTimeout(deadline);
      then();
    }
  }, 50);
}

process.on('SIGINT', () => stopAll(130));
process.on('SIGTERM', () => stopAll(0));
process.on('SIGHUP', () => stopAll(0));
// npm does not pass SIGTERM on to the script it runs (its `sh -c` dies and we are orphaned): notice
// that our parent went away and stop as if we had been signalled.
const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid !== parentPid) stopAll(0);
}, 200).unref();

function startChild(name, cmd, args, env) {
  const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'inherit', 'inherit'] });
  children.set(name, child);
  return child;
}

/** Runs a preparation step to completion; a failure (or a stop) ends `npm start`. */
function run(name, cmd, args, env = process.env) {
  return new Promise((resolveRun) => {
    if (stopping) return;
    const child = startChild(name, cmd, args, env);
    child.on('exit', (code, signal) => {
      children.delete(name);
      if (stopping) return;
      if (code !== 0) {
        say(`${name} failed (${signal ?? `exit ${code}`})`);
        stopAll(1);
        return;
      }
      resolveRun();
    });
  });
}

// ---- configuration -------------------------------------------------------------------------------
/** Appends `NAME=value` on a line of its own, whatever the file ends with. */
function appendVar(name, value) {
  if (!existsSync(ENV_FILE)) {
    mkdirSync(dirname(ENV_FILE), { recursive: true });
    writeFileSync(
      ENV_FILE,
      '# Generated by `npm start`. Keep this file secret; see .env.example.\n' +
        '# SLAVE_URL_ALLOW_PRIVATE is left unset on purpose: `npm start` then allows slaves on private and\n' +
        '# loopback addresses (local development) and Docker compose refuses them. Set it to false here to\n' +
        '# try the production rule with npm start; never set it to true in a file compose reads.\n',
      { mode: 0o600 },
    );
  }
  const current = readFileSync(ENV_FILE, 'utf8');
  appendFileSync(ENV_FILE, `${current.length && !current.endsWith('\n') ? '\n' : ''}${name}=${value}\n`);
}

// 1. Dependencies.
if (!existsSync(join(ROOT, 'node_modules', '.package-lock.json'))) {
  say('node_modules is missing: installing dependencies from package-lock.json…');
  await run('npm ci', 'npm', ['ci', '--no-audit', '--no-fund']);
}

// 2. Secrets: generated once, kept in the env file (mode 600, git-ignored). An empty variable in the
//    environment counts as unset, here and in the services.
const processEnv = Object.fromEntries(Object.entries(process.env).filter(([, v]) => v !== ''));
const fileVars = readEnvFile(ENV_FILE);
for (const name of SECRETS) {
  if (processEnv[name] || fileVars[name]) continue;
  fileVars[name] = randomBytes(32).toString('base64url');
  appendVar(name, fileVars[name]);
  say(`${name} was not set: generated one into ${ENV_FILE}`);
}

const env = applyLocalDefaults({ ...fileVars, ...processEnv });
const local = env.HOST === '0.0.0.0' || env.HOST === '::' ? '127.0.0.1' : env.HOST;
// Local development: slaves usually run on this machine or the LAN, which the production rule
// refuses (docs/operations.md). Only when neither the environment nor the env file decides.
if (!env.SLAVE_URL_ALLOW_PRIVATE) {
  env.SLAVE_URL_ALLOW_PRIVATE = 'true';
  say(`SLAVE_URL_ALLOW_PRIVATE=true (local development: slaves on private addresses allowed; set SLAVE_URL_ALLOW_PRIVATE=false in ${ENV_FILE} to refuse them as production does)`);
}
const port = { gateway: env.GATEWAY_PORT, auth: env.AUTH_PORT, admin: env.ADMIN_PORT, propagator: env.PROPAGATOR_PORT };

// 3. PostgreSQL and Redis: the ones at DATABASE_URL/REDIS_URL, or our own (scripts/stores.mjs).
{
  const { ensureStores } = await import('./stores.mjs');
  const onStart = ({ name, child, log }) => {
    stores.set(name, child);
    child.on('exit', (code, signal) => {
      stores.delete(name);
      if (!stopping) shout(`${name} (pid ${child.pid}) stopped (${signal ?? `exit ${code}`}); see ${log}`);
    });
    if (stopping) child.kill('SIGTERM'); // stopped while it was being started
  };
  const result = await ensureStores(env, { root: ROOT, say, run, onStart });
  if (result.error) {
    shout(result.error);
    stopAll(1);
    await new Promise(() => undefined); // stopAll exits
  }
}

// 4. Build (Nx caches: a second start rebuilds nothing), then the one-shot migrator.
if (env.SWITCHBOARD_SKIP_BUILD !== '1') {
  say('building…');
  await run('build', 'npx', ['nx', 'run-many', '-t', 'build', '--projects=gateway,auth,admin,propagator,migrator', '--output-style=stream'], {
    ...process.env,
    NX_DAEMON: 'false',
    NX_NO_CLOUD: 'true',
    NX_TUI: 'false',
  });
}
await run('migrator', process.execPath, [join(ROOT, 'dist/apps/migrator/main.js')], env);

// 5. The four services, supervised.
// The Node flags of every service (source maps, heap limit): one list, shared with the bench and
// mirrored in docker/Dockerfile's NODE_OPTIONS.
const SERVICE_NODE_FLAGS = createRequire(import.meta.url)('./service-node-flags.cjs');
const serviceArgs = (name) => [...SERVICE_NODE_FLAGS, join(ROOT, `dist/apps/${name}/main.js`)];

function startService(name) {
  const s = supervised.get(name);
  const child = startChild(name, process.execPath, serviceArgs(name), env);
  s.pid = child.pid;
  s.startedAt = Date.now();
  s.state = 'running';
  s.readyAt = 0;
  child.on('exit', (code, signal) => {
    children.delete(name);
    const at = Date.now();
    // Decided a moment later: Ctrl-C reaches the services and us together, and a service that
    // stopped on it must not be taken for a crash.
    setTimeout(() => onServiceExit(name, child.pid, at, code, signal), 200);
  });
  return child;
}

function onServiceExit(name, pid, now, code, signal) {
  const s = supervised.get(name);
  if (stopping || s.pid !== pid) return;
  const ran = now - s.startedAt;
  const how = signal ?? `exit ${code}`;
  const healthy = s.readyAt > 0 && now - s.readyAt >= HEALTHY_RUN_MS;
  s.readyAt = 0;
  if (code === EX_CONFIG) {
    s.state = 'given up';
    s.reason = 'configuration error (exit 78)';
    shout(`${name} stopped on a configuration error (exit 78, reason printed above): not restarting it; the other services keep running. Fix the setting, then restart npm start.`);
  } else {
    s.deaths = healthy ? 1 : s.deaths + 1;
    if (s.deaths >= GIVE_UP_DEATHS) {
      s.state = 'given up';
      s.reason = `died ${s.deaths} times in a row`;
      shout(`${name} died ${s.deaths} times in a row without staying ready for ${HEALTHY_RUN_MS / 1000} s (last: ${how}): GIVING UP on it; the other services keep running. See its output above, fix the cause, then restart npm start.`);
    } else {
      const delay = RESTART_FIRST_MS * 2 ** (s.deaths - 1); // 1, 2, 4, 8 s
      s.state = 'restarting';
      say(`${name} (pid ${pid}) died (${how}) after ${seconds(ran)}: restarting it in ${seconds(delay)} (death ${s.deaths} in a row; given up at ${GIVE_UP_DEATHS})`);
      s.restartTimer = setTimeout(() => {
        if (stopping) return;
        const child = startService(name);
        say(`${name} restarted (pid ${child.pid})`);
        void watchReady(name, child.pid);
      }, delay);
      return;
    }
  }
  const left = [...supervised.values()].filter((x) => x.state !== 'given up');
  if (left.length === 0) {
    shout('no service is left running: stopping');
    stopAll(1);
  }
}

/** Whether a service answers 200 on /health/ready now. */
async function isReady(name) {
  try {
    const res = await fetch(`http://${local}:${port[name]}/health/ready`, { signal: AbortSignal.timeout(2000) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

/** After a restart: says when that run of the service is ready (or that it is not, after a while). */
async function watchReady(name, pid) {
  const s = supervised.get(name);
  const until = Date.now() + READY_WAIT_MS;
  while (!stopping && s.pid === pid && s.state === 'running' && Date.now() < until) {
    if (await isReady(name)) {
      if (stopping || s.pid !== pid || s.state !== 'running') return;
      s.readyAt = Date.now();
      say(`${name} is ready again (pid ${pid})`);
      return;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  if (!stopping && s.pid === pid && s.state === 'running') say(`${name} (pid ${pid}) is still not ready ${READY_WAIT_MS / 1000} s after its restart`);
}

for (const name of SERVICES) {
  supervised.set(name, { pid: undefined, startedAt: 0, readyAt: 0, state: 'running', deaths: 0, restartTimer: undefined, reason: '' });
  if (!stopping) startService(name);
}

// 6. Wait until every service is ready (or given up), then show where they are.
const deadline = Date.now() + READY_WAIT_MS;
const waiting = () => SERVICES.filter((name) => supervised.get(name).state !== 'given up' && !supervised.get(name).readyAt);
while (waiting().length && !stopping && Date.now() < deadline) {
  for (const name of waiting()) {
    const s = supervised.get(name);
    const pid = s.pid;
    if (s.state === 'running' && (await isReady(name)) && s.pid === pid && s.state === 'running') s.readyAt ||= Date.now();
  }
  if (waiting().length) await new Promise((r) => setTimeout(r, 250));
}
if (!stopping) {
  if (waiting().length) say(`not ready after ${READY_WAIT_MS / 1000} s: ${waiting().join(', ')} (still supervised; see their output above)`);
  const status = (name) => {
    const s = supervised.get(name);
    if (s.state === 'given up') return `NOT RUNNING: ${s.reason}`;
    return `pid ${s.pid}${s.readyAt ? '' : ', not ready yet'}`;
  };
  const down = SERVICES.filter((name) => supervised.get(name).state === 'given up');
  say(down.length ? `Switchboard is up WITHOUT ${down.join(', ')}:` : 'Switchboard is up:');
  say(`  gateway     ${env.PUBLIC_URL}  (IPS Connect: ${env.PUBLIC_URL}/ipsconnect; ${status('gateway')})`);
  say(`  admin API   http://${local}:${port.admin}/admin  (Bearer ADMIN_TOKEN from ${ENV_FILE}; docs: /docs; ${status('admin')})`);
  say(`  console     http://${local}:${port.admin}/admin/console  (sign in with ADMIN_TOKEN from ${ENV_FILE}; queues: /admin/queues; CLI: npm run --silent cli -- --help)`);
  say(`  auth        http://${local}:${port.auth}  (internal; ${status('auth')})`);
  say(`  propagator  http://${local}:${port.propagator}/health/ready  (internal; ${status('propagator')})`);
  say('A service that dies is restarted; Ctrl-C stops everything.');
}
