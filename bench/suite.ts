/**
 * `npm run bench`: issue 11's benchmark suite on the built services (dist/apps/*), loopback only.
 *
 * Starts a private redis-server (free port), a private database `switchboard_bench_<pid>` (created and
 * migrated by the migrator, dropped at the end), the four services from their bundles at LOG_LEVEL
 * warn, the two baselines (bare Fastify route, one prepared `pg` query) in a child process of their
 * own, and stub slaves; measures every row with autocannon from this process; prints a table and
 * writes bench/results.json. The whole run is bounded by a hard deadline (BENCH_BUDGET_S, default
 * 300 s): when it passes, every process this run started is killed by its PID, the database dropped,
 * and what was measured so far is written with the rest marked as not measured.
 *
 * BENCH_ONLY=<regex>: measure only the rows whose names match (the others are listed as not selected);
 * such a partial run writes /tmp/switchboard-bench-partial.json (or BENCH_OUT), never bench/results.json.
 *
 * BENCH_CPU_PROF_DIR=<dir>: profile mode instead: the gateway and auth are started with
 * bench/cpu-profile.cjs preloaded; only the baselines and the request rows BENCH_ONLY selects run (the
 * fetchSalt row without BENCH_ONLY); both processes are profiled during each of those rows (its
 * warm-up included) and write `<row>.<service>.cpuprofile` to <dir> (summarise with
 * `node bench/profile-top.cjs <file>`); the figures go to <dir>/results.json.
 */
import { ChildProcess, spawn, execFileSync } from 'node:child_process';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { Client } from 'pg';
import { freePort, PrivateRedis } from '@switchboard/testing';
import { DELIVERY_QUEUE } from '@switchboard/propagation';
import { query } from '../e2e/src/support/ips';
import { ApiClient } from '../e2e/src/support/api-client';
import { Browser } from '../e2e/src/support/browser';
import { measure, LoadResult } from './load';
import { StubSlaves, median, startBaseline, stopChild } from './propagation-lib';

const ROOT = join(__dirname, '..');
const SERVICE_NODE_FLAGS = require('../scripts/service-node-flags.cjs') as string[];
const T0 = Date.now();
const BUDGET_MS = Number(process.env['BENCH_BUDGET_S'] ?? 300) * 1000;
/** Measurements stop here; the rest of the budget is for cleaning up. */
const STOP_AT = T0 + BUDGET_MS - 12_000;
const PROFILE_DIR = process.env['BENCH_CPU_PROF_DIR'];
const ONLY = process.env['BENCH_ONLY'] ? new RegExp(process.env['BENCH_ONLY']) : PROFILE_DIR ? /^IPS fetchSalt$/ : null;
/** Whether a row is measured in this run (BENCH_ONLY). */
const wanted = (name: string) => !ONLY || ONLY.test(name);
const OUT = process.env['BENCH_OUT'] ?? (ONLY ? '/tmp/switchboard-bench-partial.json' : join(__dirname, 'results.json'));
const PG_SERVER = 'postgres://postgres@127.0.0.1:5432';
const DB_NAME = `switchboard_bench_${process.pid}`;
const DATABASE_URL = `${PG_SERVER}/${DB_NAME}`;
const MK = 'bench-master-key-0123456789abcdef0123';
const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef0123';
const HASH = '$2a$13$0123456789abcdefghijke83qjoCb8ggnz2a4OYR7vO8WGClpIei.';
const WRONG_HASH = '$2a$13$0123456789abcdefghijke83qjoCb9ggnz2a4OYR7vO8WGClpIei.'; // HASH with one character changed
const SALT = '0123456789abcdefghijkl';
const MEMBERS = 1000;
const LOCKED = 100;
const C = 50;
const ROW_S = 5;
const CONCURRENCY = 64; // PROPAGATION_CONCURRENCY, as bench:propagation
const BACKLOG_MEMBERS = 30;
const BACKLOG_SLAVES = 100;
const MiB = 1024 * 1024;

const md5 = (s: string) => createHash('md5').update(s, 'utf8').digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (msg: string) => process.stderr.write(`[bench +${((Date.now() - T0) / 1000).toFixed(0)}s] ${msg}\n`);

// ---- rows ----------------------------------------------------------------------------------------
export interface Row {
  name: string;
  unit: string;
  value: number | null;
  /** What `value` is compared with (named in `baseline_of`). */
  baseline: number | null;
  ratio: number | null;
  p50_ms: number | null;
  p99_ms: number | null;
  baseline_of: string;
  /** The one-query limit route's figure and value / it, for request-path rows. */
  pg_baseline?: number | null;
  ratio_pg?: number | null;
  target?: string;
  met?: boolean | null;
  note?: string;
}

const rows: Row[] = [];
const REQUIRED: { name: string; unit: string }[] = [];
function plan(name: string, unit: string) {
  REQUIRED.push({ name, unit });
}
function add(row: Omit<Row, 'ratio'> & { ratio?: number | null }) {
  const ratio = row.ratio !== undefined ? row.ratio : row.value !== null && row.baseline ? row.value / row.baseline : null;
  const out: Row = { ...row, ratio: ratio === null ? null : Number(ratio.toFixed(4)) };
  const i = rows.findIndex((r) => r.name === row.name);
  if (i >= 0) rows[i] = out;
  else rows.push(out);
  log(`${row.name}: ${row.value === null ? 'not measured' : row.value.toFixed(1)} ${row.unit}${ratio !== null ? ` (${ratio.toFixed(3)} × ${row.baseline_of})` : ''}${row.note ? ` — ${row.note}` : ''}`);
}
function skip(name: string, unit: string, why: string) {
  add({ name, unit, value: null, baseline: null, ratio: null, p50_ms: null, p99_ms: null, baseline_of: '-', note: `NOT MEASURED: ${why}` });
}

// ---- processes we started (killed by PID, whatever happens) --------------------------------------
const children = new Set<ChildProcess>();
const outputs = new Map<ChildProcess, string>();
function track(child: ChildProcess, name: string) {
  children.add(child);
  outputs.set(child, '');
  const keep = (d: Buffer) => outputs.set(child, (outputs.get(child)! + d.toString()).slice(-4000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.once('exit', (code, signal) => {
    children.delete(child);
    if (!stopping) log(`${name} (pid ${child.pid}) exited (${signal ?? code})${code ? `: ${outputs.get(child)?.slice(-600)}` : ''}`);
  });
  return child;
}
let stopping = false;
const redis = new PrivateRedis();

async function dropDatabase() {
  const admin = new Client({ connectionString: `${PG_SERVER}/postgres` });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${DB_NAME}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

/** Databases left by a bench run that was killed outright (its PID no longer runs). */
async function dropStaleDatabases() {
  const admin = new Client({ connectionString: `${PG_SERVER}/postgres` });
  await admin.connect();
  try {
    const { rows: dbs } = await admin.query(`SELECT datname FROM pg_database WHERE datname ~ '^switchboard_bench_[0-9]+$'`);
    for (const { datname } of dbs) {
      const pid = Number(String(datname).slice('switchboard_bench_'.length));
      let alive = true;
      try {
        process.kill(pid, 0);
      } catch {
        alive = false;
      }
      if (!alive) {
        await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
        log(`dropped ${datname}, left by a bench run that no longer runs`);
      }
    }
  } finally {
    await admin.end();
  }
}

async function cleanup() {
  stopping = true;
  for (const child of [...children]) {
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      try {
        process.kill(child.pid, 'SIGTERM');
      } catch {
        /* gone */
      }
    }
  }
  const until = Date.now() + 4000;
  while ([...children].some((c) => c.exitCode === null && c.signalCode === null) && Date.now() < until) await sleep(100);
  for (const child of [...children]) {
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
  await redis.dispose().catch(() => undefined);
  await dropDatabase().catch((err) => log(`could not drop ${DB_NAME}: ${(err as Error).message}`));
}

// ---- the system ----------------------------------------------------------------------------------
function node(args: string[], env: Record<string, string>, name: string) {
  return track(spawn(process.execPath, args, { cwd: ROOT, env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] }), name);
}

async function get(url: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}) {
  const res = await fetch(url, { method: init.method ?? 'GET', body: init.body, headers: init.headers, redirect: 'manual', signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  return { status: res.status, text, json: () => JSON.parse(text) };
}

async function waitFor(probe: () => Promise<boolean>, ms: number, what: string) {
  const until = Date.now() + ms;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const ready = (port: number) => waitFor(async () => (await get(`http://127.0.0.1:${port}/health/ready`)).status === 200, 90_000, `service on ${port} ready`);

function procStatusMiB(pid: number | undefined, field: 'VmHWM' | 'VmRSS'): number | null {
  if (!pid) return null;
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}
const vmHwmMiB = (pid: number | undefined) => procStatusMiB(pid, 'VmHWM');

/**
 * Where each service's peak happens: VmRSS sampled every 100 ms, the highest kept per phase of the
 * run (boot, seeding, warm-up, each request row, the consent setup…); printed with the peak RSS rows.
 */
const rssByPhase = new Map<string, Map<string, number>>();
let rssPhase = 'boot';
function sampleRss(pids: Record<string, number | undefined>) {
  const timer = setInterval(() => {
    let phase = rssByPhase.get(rssPhase);
    if (!phase) rssByPhase.set(rssPhase, (phase = new Map()));
    for (const [name, pid] of Object.entries(pids)) {
      const v = procStatusMiB(pid, 'VmRSS');
      if (v !== null && v > (phase.get(name) ?? 0)) phase.set(name, v);
    }
  }, 100);
  timer.unref();
  return timer;
}
/** The phase in which `name`'s sampled VmRSS was highest, and that figure. */
function peakPhase(name: string): { phase: string; mib: number } | null {
  let best: { phase: string; mib: number } | null = null;
  for (const [phase, m] of rssByPhase) {
    const v = m.get(name);
    if (v !== undefined && (!best || v > best.mib)) best = { phase, mib: v };
  }
  return best;
}

/** Runs `fn` over `items` with at most `n` at a time. */
async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<void>) {
  let i = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (i < items.length) await fn(items[i++]);
  }));
}

function timeLeft(needS: number): boolean {
  return Date.now() + needS * 1000 < STOP_AT;
}

// ---- main ----------------------------------------------------------------------------------------
let facts: Record<string, unknown> | undefined;

async function main() {
  facts = {
    cores: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    loadavg_at_start: os.loadavg().map((x) => Number(x.toFixed(2))),
    memory_gib: Number((os.totalmem() / 1024 ** 3).toFixed(1)),
    node: process.version,
    date: new Date().toISOString(),
    commit: (() => {
      try {
        return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT }).toString().trim();
      } catch {
        return 'unknown';
      }
    })(),
  };
  log(`machine: ${facts['cores']} cores (${facts['cpu']}), load average ${(facts['loadavg_at_start'] as number[]).join(' ')}, ${facts['memory_gib']} GiB, node ${facts['node']}`);
  for (const app of ['gateway', 'auth', 'admin', 'propagator', 'migrator']) {
    try {
      readFileSync(join(ROOT, `dist/apps/${app}/main.js`));
    } catch {
      throw new Error(`dist/apps/${app}/main.js is missing: run npm run build first`);
    }
  }
  // Planned rows (all of them appear in the table and in results.json, measured or not).
  for (const n of ['fetchSalt', 'checkEmail', 'fetchId']) plan(`IPS ${n}`, 'req/s');
  plan('IPS login, correct hash, 1000 members', 'req/s');
  plan('IPS login, wrong hash, 1000 members', 'req/s');
  plan('IPS login, locked account', 'req/s');
  plan('API test.echo, md5-signed', 'req/s');
  plan('API account.get, auth_token, md5', 'req/s');
  plan('API account.get, auth_token, hmac-sha256', 'req/s');
  for (const a of ['register', 'changeEmail']) for (const n of [0, 10, 100]) plan(`origin ${a} answer, ${n} slaves`, 'ms');
  for (const n of [10, 100, 1000]) plan(`propagation ${n} slaves, commit to all delivered`, 'ms');
  plan('propagation throughput, 1 propagator', 'deliveries/s');
  plan('propagation throughput, 2 propagators', 'deliveries/s');
  plan('consent sign-ins, bcrypt cost 13', 'sign-ins/s');
  for (const s of ['gateway', 'auth', 'admin', 'propagator']) plan(`peak RSS ${s}`, 'MiB');
  plan('gateway fetchSalt, 1 gateway', 'req/s');
  plan('gateway fetchSalt, 2 gateways', 'req/s');

  await dropStaleDatabases();
  await redis.start();
  if (redis.pid) log(`private redis-server pid ${redis.pid} on port ${redis.port}`);
  const mig = node([join(ROOT, 'dist/apps/migrator/main.js')], { DATABASE_URL, LOG_LEVEL: 'warn' }, 'migrator');
  const migCode = await new Promise((r) => mig.once('exit', r));
  if (migCode !== 0) throw new Error(`migrator failed: ${outputs.get(mig)}`);

  const ports = { gateway: await freePort(), auth: await freePort(), admin: await freePort(), propagator: await freePort(), gateway2: await freePort() };
  const env: Record<string, string> = {
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    DATABASE_URL,
    REDIS_URL: redis.url,
    PUBLIC_URL: `http://127.0.0.1:${ports.gateway}`,
    AUTH_URL: `http://127.0.0.1:${ports.auth}`,
    MASTER_KEY: MK,
    SECRETS_KEY: 'bench-secrets-key-0123456789abcdef0123456789',
    ADMIN_TOKEN,
    INTERNAL_TOKEN: 'bench-internal-token-0123456789abcdef012',
    GATEWAY_PORT: String(ports.gateway),
    AUTH_PORT: String(ports.auth),
    ADMIN_PORT: String(ports.admin),
    PROPAGATOR_PORT: String(ports.propagator),
    // Measured, not locked: failures never lock and the per-caller limit never trips (the locked-account
    // row locks its accounts in the database).
    LOGIN_LOCK_THRESHOLD: '999999999',
    LOGIN_CALLER_LIMIT: '999999999',
    API_CLIENT_LIMIT: '999999999',
    // Stub slaves listen on 127.0.0.1.
    SLAVE_URL_ALLOW_PRIVATE: 'true',
    PROPAGATION_CONCURRENCY: String(CONCURRENCY),
    PROPAGATION_RETRY_SCHEDULE: '0,1s,5s',
    PROPAGATION_REPAIR_INTERVAL: '30s',
    PROPAGATION_TIMEOUT: '15s',
  };
  const profiled: Record<string, string> = PROFILE_DIR ? { NODE_OPTIONS: `--require ${join(__dirname, 'cpu-profile.cjs')}`, BENCH_CPU_PROF_DIR: PROFILE_DIR, BENCH_CPU_PROF_DEFER: '1' } : {};
  // BENCH_SERVICE_NODE_OPTIONS: NODE_OPTIONS for the services (diagnostics: a memory sampler preloaded, --trace-gc…).
  const diag: Record<string, string> = process.env['BENCH_SERVICE_NODE_OPTIONS'] ? { NODE_OPTIONS: process.env['BENCH_SERVICE_NODE_OPTIONS'] } : {};
  // The services' Node flags as `npm start` passes them (scripts/service-node-flags.cjs: source maps,
  // heap limit); BENCH_SERVICE_FLAGS=<flags> replaces them (e.g. '--enable-source-maps' alone, to
  // measure without the heap limit).
  const serviceFlags = process.env['BENCH_SERVICE_FLAGS'] !== undefined ? process.env['BENCH_SERVICE_FLAGS'].split(/\s+/).filter(Boolean) : SERVICE_NODE_FLAGS;
  const service = (name: string, extra: Record<string, string> = {}) => node([...serviceFlags, join(ROOT, `dist/apps/${name}/main.js`)], { ...env, ...diag, ...extra }, name);
  const svc = {
    auth: service('auth', profiled),
    gateway: service('gateway', profiled),
    admin: service('admin'),
    propagator: service('propagator'),
  };
  const rssTimer = sampleRss({ gateway: svc.gateway.pid, auth: svc.auth.pid, admin: svc.admin.pid, propagator: svc.propagator.pid });
  const base = node(['-r', '@swc-node/register', join('bench', 'baselines-server.ts'), DATABASE_URL], { SWC_NODE_PROJECT: 'tsconfig.base.json' }, 'baselines');
  const basePort = await new Promise<number>((resolve, reject) => {
    base.stdout!.on('data', (d) => {
      const m = /"port":(\d+)/.exec(String(d));
      if (m) resolve(Number(m[1]));
    });
    base.once('exit', () => reject(new Error(`baselines server exited: ${outputs.get(base)}`)));
  });
  await Promise.all([ready(ports.auth), ready(ports.gateway), ready(ports.admin), ready(ports.propagator)]);
  /** Profile mode: the first SIGWINCH starts both profiles, the second writes them; renamed after the row. */
  const profile = async (step: 'start' | 'stop', row = '') => {
    for (const c of [svc.gateway, svc.auth]) c.kill('SIGWINCH');
    await sleep(step === 'start' ? 200 : 3000);
    if (step === 'start') return;
    const slug = row.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '');
    for (const [s, c] of [['gateway', svc.gateway], ['auth', svc.auth]] as const) renameSync(join(PROFILE_DIR!, `${c.pid}.cpuprofile`), join(PROFILE_DIR!, `${slug}.${s}.cpuprofile`));
    log(`CPU profiles of gateway (${svc.gateway.pid}) and auth (${svc.auth.pid}) during "${row}" written to ${PROFILE_DIR}/${slug}.*.cpuprofile`);
  };
  log(`services ready: gateway ${svc.gateway.pid}, auth ${svc.auth.pid}, admin ${svc.admin.pid}, propagator ${svc.propagator.pid}; baselines ${base.pid}`);

  const gw = `http://127.0.0.1:${ports.gateway}`;
  const adminApi = (path: string, method = 'GET', body?: unknown) =>
    get(`http://127.0.0.1:${ports.admin}${path}`, {
      method,
      body: body === undefined ? undefined : JSON.stringify(body),
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    });
  const db = new Client({ connectionString: DATABASE_URL });
  // Dropping the database at the deadline ends this connection: not a crash.
  db.on('error', (err) => log(`bench database connection: ${err.message}`));
  await db.connect();

  const count = async (sql: string) => Number((await db.query(sql)).rows[0].n);
  const quiet = (ms = 60_000) =>
    waitFor(async () => (await count(`SELECT count(*) AS n FROM deliveries WHERE status IN ('waiting', 'ready')`)) === 0 && (await count(`SELECT count(*) AS n FROM outbox_events o WHERE o.published_at IS NULL OR NOT EXISTS (SELECT 1 FROM propagation_changes c WHERE c.event_id = o.event_id)`)) === 0, ms, 'propagation drained');
  /** Before a request row: the outbox events of the previous rows (logins, registrations) relayed. */
  const settle = async () => {
    const t = Date.now();
    await quiet(15_000).catch(() => log('outbox not drained after 15 s: measuring anyway'));
    if (Date.now() - t > 500) log(`waited ${((Date.now() - t) / 1000).toFixed(1)} s for the outbox to drain`);
  };
  // ---- seed: 1000 members through IPS register (0 slaves yet) ----------------------------------
  const email = (i: number) => `bm${i}@bench.test`;
  const ids: number[] = [];
  rssPhase = 'seeding';
  await pool(
    Array.from({ length: MEMBERS }, (_, i) => i),
    16,
    async (i) => {
      const r = await get(`${gw}/ipsconnect?${query({ do: 'register', key: MK, name: `bm${i}`, email: email(i), pass_hash: HASH, pass_salt: SALT })}`);
      const j = r.json();
      if (j.status !== 'SUCCESS') throw new Error(`register bm${i}: ${r.text}`);
      ids[i] = Number(j.connect_id);
    },
  );
  log(`seeded ${MEMBERS} members`);

  const spread = (make: (i: number) => string, n = MEMBERS) => {
    const paths = Array.from({ length: n }, (_, i) => make(i));
    let k = 0;
    return () => paths[k++ % paths.length];
  };
  const ips = (params: Record<string, string>) => `/ipsconnect?${query(params)}`;
  const measureBaselines = async (tag: string) => {
    const bare = await measure({ base: `http://127.0.0.1:${basePort}`, path: () => '/bare', expect: 'world', connections: C, durationS: ROW_S });
    const pg = await measure({ base: `http://127.0.0.1:${basePort}`, path: spread((i) => `/pg?email=${encodeURIComponent(email(i))}`), expect: 'SUCCESS', connections: C, durationS: ROW_S });
    log(`baselines (${tag}): bare Fastify ${bare.rps.toFixed(0)} req/s (p99 ${bare.p99} ms), one pg query ${pg.rps.toFixed(0)} req/s (p99 ${pg.p99} ms)`);
    return { bare, pg };
  };
  rssPhase = 'settle';
  await settle();
  rssPhase = 'warm-up';
  // Warm-up (JIT, connection pools, prepared statements) of every path measured below, discarded.
  await measure({ base: gw, path: spread((i) => ips({ do: 'fetchSalt', key: md5(MK + email(i)), idType: '2', id: email(i) })), connections: C, durationS: 3, warmupS: 0 });
  await measure({ base: gw, path: spread((i) => ips({ do: 'login', key: md5(MK + email(i)), idType: '2', id: email(i), password: HASH })), connections: C, durationS: 2, warmupS: 0 });
  await measure({ base: `http://127.0.0.1:${basePort}`, path: spread((i) => `/pg?email=${encodeURIComponent(email(i))}`), connections: C, durationS: 1, warmupS: 0 });
  const before = await measureBaselines('before');
  let bareRps = before.bare.rps;
  let pgRps = before.pg.rps;
  const requestRows: { name: string; r: LoadResult; target: string; minRatio?: number }[] = [];
  const gatewayRow = async (name: string, path: () => string, expect: string, target: string, minRatio?: number, baseUrl = gw) => {
    if (!wanted(name)) return skip(name, 'req/s', 'not selected (BENCH_ONLY)');
    if (!timeLeft(ROW_S + 2)) return skip(name, 'req/s', 'the 5-minute deadline came first');
    rssPhase = `settle before ${name}`;
    await settle();
    if (PROFILE_DIR) await profile('start');
    rssPhase = name;
    const r = await measure({ base: baseUrl, path, expect, connections: C, durationS: ROW_S });
    rssPhase = `after ${name}`;
    if (PROFILE_DIR) await profile('stop', name);
    requestRows.push({ name, r, target, minRatio });
    add({ name, unit: 'req/s', value: r.rps, baseline: bareRps, p50_ms: r.p50, p99_ms: r.p99, baseline_of: 'bare Fastify', note: r.bad ? `${r.bad} of ${r.total} answers wrong or failed, e.g. ${r.sample}` : undefined });
    return r;
  };
  const READ_TARGET = '≥ 0.30 × bare, p99 ≤ 20 ms';

  // ---- IPS reads --------------------------------------------------------------------------------
  await gatewayRow('IPS fetchSalt', spread((i) => ips({ do: 'fetchSalt', key: md5(MK + email(i)), idType: '2', id: email(i) })), `"pass_salt":"${SALT}"`, READ_TARGET, 0.3);
  await gatewayRow('IPS checkEmail', spread((i) => ips({ do: 'checkEmail', key: MK, email: email(i) })), '"used":1', READ_TARGET, 0.3);
  await gatewayRow('IPS fetchId', spread((i) => ips({ do: 'fetchId', key: md5(MK + email(i)), idType: '2', id: email(i) })), '"connect_id"', READ_TARGET, 0.3);
  const loginOk = await gatewayRow(
    'IPS login, correct hash, 1000 members',
    spread((i) => ips({ do: 'login', key: md5(MK + email(i)), idType: '2', id: email(i), password: HASH })),
    '"connect_status":"SUCCESS"',
    '≥ 0.15 × bare',
    0.15,
  );
  const loginWrong = await gatewayRow(
    'IPS login, wrong hash, 1000 members',
    spread((i) => ips({ do: 'login', key: md5(MK + email(i)), idType: '2', id: email(i), password: WRONG_HASH })),
    'WRONG_AUTH',
    'at least as fast as correct-hash login',
  );
  // The gateway's lockout records (login_lockouts), written here directly to lock without 5 failures each.
  await db.query(
    `INSERT INTO login_lockouts (member_id, locked_until, lock_count, updated_at) SELECT unnest($1::int[]), now() + interval '1 hour', 1, clock_timestamp()
     ON CONFLICT (member_id) DO UPDATE SET locked_until = EXCLUDED.locked_until, updated_at = EXCLUDED.updated_at`,
    [ids.slice(MEMBERS - LOCKED)],
  );
  const loginLocked = await gatewayRow(
    'IPS login, locked account',
    spread((i) => ips({ do: 'login', key: md5(MK + email(MEMBERS - LOCKED + i)), idType: '2', id: email(MEMBERS - LOCKED + i), password: HASH }), LOCKED),
    'ACCOUNT_LOCKED',
    'at least as fast as correct-hash login',
  );
  await db.query(`DELETE FROM login_lockouts WHERE member_id = ANY($1)`, [ids.slice(MEMBERS - LOCKED)]);

  // ---- application API --------------------------------------------------------------------------
  const consentName = 'BenchConsent';
  const consentPassword = 'correct horse battery';
  rssPhase = 'API setup (members, apps, consent flow)';
  try {
    const created = await adminApi('/admin/members', 'POST', { name: consentName, email: 'consent@bench.test', password: consentPassword, pass_salt: 'abcdefghijklmnopqrstuv' });
    if (created.status !== 201) throw new Error(`admin member: ${created.status} ${created.text}`);
    const newApp = async (title: string) => {
      const r = await adminApi('/admin/apps', 'POST', { title, type: 'desktop' });
      if (r.status !== 201) throw new Error(`admin app: ${r.status} ${r.text}`);
      return new ApiClient(gw, r.json().api_key, r.json().secret);
    };
    const tokenFor = async (client: ApiClient, address: string) => {
      const frob = (await client.call('auth.getFrob')).json().auth.frob as string;
      const params = { api_key: client.apiKey, frob, perm_profile: 'read' };
      const url = `${gw}/apps/authorize?${new URLSearchParams({ ...params, api_sig: client.sign('', params) })}`;
      const b = new Browser(address);
      const form = await b.go(url);
      const consent = await b.go(url, Browser.fields(form.html, { action: 'login', login: consentName, password: consentPassword }));
      const done = await b.go(url, Browser.fields(consent.html, { action: 'approve' }));
      b.close();
      if (!done.html.includes('class="ok"')) throw new Error(`consent approval failed (${done.status})`);
      return (await client.call('auth.getToken', { frob })).json().auth.token as string;
    };
    const md5App = await newApp('Bench md5');
    const hmacApp = await newApp('Bench hmac');
    const md5Token = await tokenFor(md5App, '127.0.0.2');
    const hmacToken = await tokenFor(hmacApp, '127.0.0.3');
    const patched = await adminApi(`/admin/apps/${hmacApp.apiKey}`, 'PATCH', { signature_mode: 'hmac-sha256' });
    if (patched.status !== 200) throw new Error(`PATCH hmac: ${patched.status} ${patched.text}`);
    const signedPath = (client: ApiClient, method: string, params: Record<string, string>) => {
      const all = { api_key: client.apiKey, ...params };
      return `/api/${method}?${new URLSearchParams({ ...all, api_sig: client.sign(method, all) })}`;
    };
    const echo = signedPath(md5App, 'test.echo', { echo: 'hello' });
    await gatewayRow('API test.echo, md5-signed', () => echo, '"echo":"hello"', READ_TARGET, 0.3);
    const acct = signedPath(md5App, 'account.get', { auth_token: md5Token });
    await gatewayRow('API account.get, auth_token, md5', () => acct, `"username":"${consentName}"`, READ_TARGET, 0.3);
    let nonce = 0;
    const prefix = randomBytes(4).toString('hex');
    const hmacPath = () => {
      const all: Record<string, string> = { api_key: hmacApp.apiKey, auth_token: hmacToken, ts: String(Math.floor(Date.now() / 1000)), nonce: `${prefix}-${nonce++}` };
      const q = Object.keys(all)
        .sort()
        .map((k) => `${encodeURIComponent(k)}=${encodeURIComponent(all[k])}`)
        .join('&');
      return `/api/account.get?${q}&api_sig=${createHmac('sha256', hmacApp.secret).update(`account.get\n${q}`, 'utf8').digest('hex')}`;
    };
    await gatewayRow('API account.get, auth_token, hmac-sha256', hmacPath, `"username":"${consentName}"`, READ_TARGET, 0.3);
  } catch (err) {
    for (const n of ['API test.echo, md5-signed', 'API account.get, auth_token, md5', 'API account.get, auth_token, hmac-sha256']) {
      if (!rows.some((r) => r.name === n)) skip(n, 'req/s', `setup failed: ${(err as Error).message}`);
    }
  }

  if (PROFILE_DIR) {
    await db.end();
    return;
  }
  // Baselines again: the request rows are compared with the mean of both runs.
  if (timeLeft(2 * ROW_S + 4)) {
    rssPhase = 'baselines (after)';
    const after = await measureBaselines('after');
    bareRps = (before.bare.rps + after.bare.rps) / 2;
    pgRps = (before.pg.rps + after.pg.rps) / 2;
  }
  for (const { name, r, target, minRatio } of requestRows) {
    const ratio = r.rps / bareRps;
    let met: boolean | null = null;
    if (minRatio !== undefined) met = ratio >= minRatio && (target.includes('p99') ? r.p99 <= 20 : true);
    if (name.startsWith('IPS login, wrong') || name.startsWith('IPS login, locked')) met = loginOk ? r.rps >= loginOk.rps : null;
    const old = rows.find((x) => x.name === name)!;
    add({ ...old, baseline: bareRps, ratio, pg_baseline: Number(pgRps.toFixed(1)), ratio_pg: Number((r.rps / pgRps).toFixed(4)), target, met });
  }
  void loginWrong;
  void loginLocked;

  // ---- peak RSS during the gateway rows -----------------------------------------------------------
  clearInterval(rssTimer);
  const baseRss = vmHwmMiB(base.pid);
  for (const [s, child] of Object.entries(svc)) {
    const v = vmHwmMiB(child.pid);
    const at = peakPhase(s);
    const where = at ? `; highest VmRSS sampled (every 100 ms) ${at.mib.toFixed(1)} MiB, during ${at.phase}` : '';
    if (v === null) skip(`peak RSS ${s}`, 'MiB', `no /proc/${child.pid}/status`);
    else add({ name: `peak RSS ${s}`, unit: 'MiB', value: Number(v.toFixed(1)), baseline: baseRss === null ? null : Number(baseRss.toFixed(1)), p50_ms: null, p99_ms: null, baseline_of: 'baselines process (bare Fastify + pg pool)', target: '≤ 200 MiB', met: v <= 200, note: `VmHWM since start, read after the request rows${where}` });
  }
  log(`gateway VmRSS by phase (highest sample, MiB): ${[...rssByPhase].map(([phase, m]) => `${phase} ${m.get('gateway')?.toFixed(0) ?? '-'}`).join('; ')}`);

  // ---- consent sign-ins at bcrypt cost 13 ---------------------------------------------------------
  if (!wanted('consent sign-ins, bcrypt cost 13')) skip('consent sign-ins, bcrypt cost 13', 'sign-ins/s', 'not selected (BENCH_ONLY)');
  else if (timeLeft(15)) {
    try {
      const bcrypt = require('bcrypt') as { hash: (p: string, s: string) => Promise<string>; genSalt: (r: number) => Promise<string> };
      const salt = await bcrypt.genSalt(13);
      const times: number[] = [];
      for (let i = 0; i < 3; i++) {
        const t = performance.now();
        await bcrypt.hash('correct horse battery', salt);
        times.push(performance.now() - t);
      }
      const crypt = median(times);
      const app = await adminApi('/admin/apps', 'POST', { title: 'Bench consent', type: 'web', callback_url: 'http://127.0.0.1:9/callback' });
      const web = new ApiClient(gw, app.json().api_key, app.json().secret);
      const params = { api_key: web.apiKey, perm_profile: 'read' };
      const url = `${gw}/apps/authorize?${new URLSearchParams({ ...params, api_sig: web.sign('', params) })}`;
      // Hash pool on 2 cores: min(4, cores − 1) in flight + a queue of twice that; 3 clients keep it
      // full without being turned away. Each attempt from its own loopback address (20 a minute each).
      const clients = Math.max(1, Math.min(4, os.cpus().length - 1)) * 3;
      const latencies: number[] = [];
      let ok = 0;
      let busy = 0;
      let other = 0;
      let addr = 10;
      const durationMs = 6000;
      const start = performance.now();
      await Promise.all(
        Array.from({ length: clients }, async () => {
          while (performance.now() - start < durationMs) {
            const b = new Browser(`127.0.${Math.floor(addr / 250)}.${(addr++ % 250) + 2}`);
            try {
              const form = await b.go(url);
              const t = performance.now();
              const res = await b.go(url, Browser.fields(form.html, { action: 'login', login: consentName, password: consentPassword }));
              if (res.html.includes(`Signed in as <strong>${consentName}</strong>`)) {
                ok++;
                latencies.push(performance.now() - t);
              } else if (res.status === 503) busy++;
              else other++;
            } finally {
              b.close();
            }
          }
        }),
      );
      const elapsed = (performance.now() - start) / 1000;
      latencies.sort((a, b) => a - b);
      add({
        name: 'consent sign-ins, bcrypt cost 13',
        unit: 'sign-ins/s',
        value: ok / elapsed,
        baseline: 1000 / crypt,
        p50_ms: latencies.length ? latencies[Math.floor(latencies.length * 0.5)] : null,
        p99_ms: latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))] : null,
        baseline_of: `one bcrypt cost-13 hash on this machine (${crypt.toFixed(0)} ms → hashes/s)`,
        note: `${clients} clients, ${ok} signed in, ${busy} answered 503 (pool full), ${other} other, in ${elapsed.toFixed(1)} s; the pool hashes min(4, cores − 1) at once`,
      });
    } catch (err) {
      skip('consent sign-ins, bcrypt cost 13', 'sign-ins/s', `failed: ${(err as Error).message}`);
    }
  } else skip('consent sign-ins, bcrypt cost 13', 'sign-ins/s', 'the 5-minute deadline came first');

  // ---- one gateway vs two -------------------------------------------------------------------------
  if (!wanted('gateway fetchSalt, 2 gateways')) {
    skip('gateway fetchSalt, 1 gateway', 'req/s', 'not selected (BENCH_ONLY)');
    skip('gateway fetchSalt, 2 gateways', 'req/s', 'not selected (BENCH_ONLY)');
  } else if (timeLeft(4 * (ROW_S + 1) + 15)) {
    const gw2 = service('gateway', { GATEWAY_PORT: String(ports.gateway2) });
    await ready(ports.gateway2);
    const fs = (i: number) => ips({ do: 'fetchSalt', key: md5(MK + email(i)), idType: '2', id: email(i) });
    const one = await measure({ base: gw, path: spread(fs), expect: SALT, connections: C, durationS: ROW_S });
    const [a, b] = await Promise.all([
      measure({ base: gw, path: spread(fs), expect: SALT, connections: C / 2, durationS: ROW_S }),
      measure({ base: `http://127.0.0.1:${ports.gateway2}`, path: spread(fs), expect: SALT, connections: C / 2, durationS: ROW_S }),
    ]);
    add({ name: 'gateway fetchSalt, 1 gateway', unit: 'req/s', value: one.rps, baseline: bareRps, p50_ms: one.p50, p99_ms: one.p99, baseline_of: 'bare Fastify', pg_baseline: Number(pgRps.toFixed(1)), ratio_pg: Number((one.rps / pgRps).toFixed(4)) });
    add({
      name: 'gateway fetchSalt, 2 gateways',
      unit: 'req/s',
      value: a.rps + b.rps,
      baseline: one.rps,
      p50_ms: Math.max(a.p50, b.p50),
      p99_ms: Math.max(a.p99, b.p99),
      baseline_of: '1 gateway (row above)',
      target: '≥ 1.6 × one gateway',
      met: (a.rps + b.rps) / one.rps >= 1.6,
      note: `two gateway processes, one auth; autocannon split c=${C / 2} + ${C / 2} over the two ports (${a.rps.toFixed(0)} + ${b.rps.toFixed(0)}); p50/p99 the worse of the two`,
    });
    await stopChild(gw2);
  } else {
    skip('gateway fetchSalt, 1 gateway', 'req/s', 'the 5-minute deadline came first');
    skip('gateway fetchSalt, 2 gateways', 'req/s', 'the 5-minute deadline came first');
  }

  // ---- origin answer time and propagation latency, slave by slave --------------------------------
  const stub = new StubSlaves();
  await stub.start();
  if (stub.child) track(stub.child, 'stub slaves');
  let registered = 0;
  const deliveriesConnection = new IORedis(redis.url, { maxRetriesPerRequest: null });
  deliveriesConnection.on('error', () => undefined);
  const deliveries = new Queue(DELIVERY_QUEUE, { connection: deliveriesConnection });
  const addSlaves = async (n: number) => {
    const todo = Array.from({ length: n - registered }, (_, k) => registered + k);
    await pool(todo, 16, async (i) => {
      const r = await get(`${gw}/ipsconnect?${query({ do: 'verifySettings', key: MK, url: stub.url(i), ourKey: `bench-key-${i}` })}`);
      if (r.json().status !== 'SUCCESS') throw new Error(`verifySettings: ${r.text}`);
    });
    registered = n;
  };
  let member = 0;
  let changed = 0;
  const originRows = async (n: number, zero: Record<string, number>) => {
    for (const action of ['register', 'changeEmail'] as const) {
      const name = `origin ${action} answer, ${n} slaves`;
      if (!wanted(name)) {
        skip(name, 'ms', 'not selected (BENCH_ONLY)');
        continue;
      }
      if (!timeLeft(12)) {
        skip(name, 'ms', 'the 5-minute deadline came first');
        continue;
      }
      await quiet();
      const path =
        action === 'register'
          ? () => {
              const m = `or${n}x${member++}`;
              return ips({ do: 'register', key: MK, name: m, email: `${m}@bench.test`, pass_hash: HASH, pass_salt: SALT });
            }
          : () => {
              const i = changed++ % (MEMBERS - LOCKED);
              return ips({ do: 'changeEmail', key: md5(MK + String(ids[i])), id: String(ids[i]), email: `ch${changed}x${n}@bench.test` });
            };
      const r = await measure({ base: gw, path, expect: '"status":"SUCCESS"', connections: 1, amount: 40, warmupS: 0 });
      if (n === 0) zero[action] = r.p50;
      add({
        name,
        unit: 'ms',
        value: r.p50,
        baseline: zero[action] ?? null,
        p50_ms: r.p50,
        p99_ms: r.p99,
        baseline_of: `the same with 0 slaves`,
        target: n === 100 ? '≤ 1.2 × with 0 slaves' : undefined,
        met: n === 100 && zero[action] ? r.p50 / zero[action] <= 1.2 : null,
        note: `c=1, 40 requests (value = p50); each answer's deliveries run meanwhile${r.bad ? `; ${r.bad} wrong, e.g. ${r.sample}` : ''}`,
      });
    }
  };
  const latency = new Map<number, number[]>();
  const latencyFromCall = new Map<number, number[]>();
  const propagationLatency = async (n: number) => {
    const runs: number[] = [];
    const fromCall: number[] = [];
    for (let k = 0; k < 5 && timeLeft(10); k++) {
      await quiet();
      const m = `pl${n}x${k}`;
      const start = performance.now();
      const res = await get(`${gw}/ipsconnect?${query({ do: 'register', key: MK, name: m, email: `${m}@bench.test`, pass_hash: HASH, pass_salt: SALT })}`);
      // The answer is sent once the change committed: "commit" is measured from its arrival (the
      // commit itself is a little earlier, so this slightly flatters us); from the call is noted too.
      const committed = performance.now();
      const at = await stub.expect(String(res.json().connect_id), n);
      runs.push(at - committed);
      fromCall.push(at - start);
    }
    latency.set(n, runs);
    latencyFromCall.set(n, fromCall);
  };
  const zero: Record<string, number> = {};
  let baseline: Awaited<ReturnType<typeof startBaseline>> | undefined;
  try {
    await originRows(0, zero);
    const needs = (n: number) =>
      [10, 100, 1000].some((m) => m >= n && (wanted(`propagation ${m} slaves, commit to all delivered`) || (m <= 100 && ['register', 'changeEmail'].some((a) => wanted(`origin ${a} answer, ${m} slaves`))))) ||
      wanted('propagation throughput, 1 propagator') ||
      wanted('propagation throughput, 2 propagators');
    for (const n of [10, 100, 1000]) {
      if (!timeLeft(20) || !needs(n)) break;
      await addSlaves(n);
      log(`${n} slaves registered`);
      if (n <= 100) await originRows(n, zero);
      if (timeLeft(15) && wanted(`propagation ${n} slaves, commit to all delivered`)) await propagationLatency(n);
    }
    for (const n of [0, 10, 100]) for (const a of ['register', 'changeEmail']) if (!rows.some((r) => r.name === `origin ${a} answer, ${n} slaves`)) skip(`origin ${a} answer, ${n} slaves`, 'ms', wanted(`origin ${a} answer, ${n} slaves`) ? 'the 5-minute deadline came first' : 'not selected (BENCH_ONLY)');

    // Raw BullMQ + HTTP baseline: same stub, same requests, same concurrency, its own process.
    if (timeLeft(20) && registered >= 10) {
      await quiet();
      baseline = await startBaseline(redis.url, stub, registered, CONCURRENCY);
      track(baseline.child, 'raw BullMQ worker');
    }
    for (const n of [10, 100, 1000]) {
      const name = `propagation ${n} slaves, commit to all delivered`;
      const runs = latency.get(n);
      if (!wanted(name)) {
        skip(name, 'ms', 'not selected (BENCH_ONLY)');
        continue;
      }
      if (!runs?.length || !baseline) {
        skip(name, 'ms', runs?.length ? 'no time left for the raw BullMQ baseline' : 'the 5-minute deadline came first');
        continue;
      }
      const base: number[] = [];
      for (let k = 0; k < 5; k++) base.push(await baseline.latency(n));
      const m = median(runs);
      const b = median(base);
      const target = n === 10 ? '≤ 2 × raw BullMQ' : n === 100 ? '≤ 150 ms' : '≤ 1000 ms';
      const met = n === 10 ? m / b <= 2 : n === 100 ? m <= 150 : m <= 1000;
      add({ name, unit: 'ms', value: m, baseline: b, p50_ms: m, p99_ms: Math.max(...runs), baseline_of: 'raw BullMQ addBulk + HTTP GET', target, met, note: `from the register answer (commit acknowledged) to the last slave's arrival, median of ${runs.length} registrations (${runs.map((x) => x.toFixed(1)).join(', ')} ms); from the register call: ${median(latencyFromCall.get(n) ?? []).toFixed(1)} ms; p99 = slowest; baseline: addBulk to the last arrival, median of 5` });
    }

    // Throughput: a backlog of 30 registrations × 100 slaves, queued while the delivery queue is
    // paused, then drained; 1 propagator, then 2; the raw baseline drains as many jobs after each round.
    const throughput = async (label: string) => {
      const ours: number[] = [];
      const base: number[] = [];
      for (let round = 0; round < 3 && timeLeft(15); round++) {
        await quiet();
        await deliveries.pause();
        const waits = await Promise.all(
          Array.from({ length: BACKLOG_MEMBERS }, async (_, k) => {
            const m = `tp${label}x${round}x${k}`;
            const res = await get(`${gw}/ipsconnect?${query({ do: 'register', key: MK, name: m, email: `${m}@bench.test`, pass_hash: HASH, pass_salt: SALT })}`);
            return { delivered: stub.expect(String(res.json().connect_id), BACKLOG_SLAVES) };
          }),
        );
        const total = BACKLOG_MEMBERS * BACKLOG_SLAVES;
        await waitFor(async () => (await count(`SELECT count(*) AS n FROM deliveries WHERE status = 'ready'`)) >= total, 60_000, 'backlog queued');
        const start = performance.now();
        await deliveries.resume();
        const lastAt = Math.max(...(await Promise.all(waits.map((w) => w.delivered))));
        ours.push(total / ((lastAt - start) / 1000));
        if (baseline) base.push((await baseline.drain(total)).rate);
      }
      return { ours, base };
    };
    const thrRow = (name: string, t: { ours: number[]; base: number[] }, why: string) => {
      if (!t.ours.length || !t.base.length) return skip(name, 'deliveries/s', why);
      const o = median(t.ours);
      const b = median(t.base);
      add({ name, unit: 'deliveries/s', value: o, baseline: b, p50_ms: null, p99_ms: null, baseline_of: 'raw BullMQ worker draining as many jobs', target: '≥ 0.9 × raw BullMQ', met: o / b >= 0.9, note: `backlog of ${BACKLOG_MEMBERS * BACKLOG_SLAVES} deliveries to ${BACKLOG_SLAVES} slaves, median of ${t.ours.length} rounds (${t.ours.map((x, i) => `${x.toFixed(0)}/${t.base[i].toFixed(0)}`).join(', ')})` });
    };
    if (!wanted('propagation throughput, 1 propagator') && !wanted('propagation throughput, 2 propagators')) {
      skip('propagation throughput, 1 propagator', 'deliveries/s', 'not selected (BENCH_ONLY)');
      skip('propagation throughput, 2 propagators', 'deliveries/s', 'not selected (BENCH_ONLY)');
    } else if (registered >= 1000 && baseline && timeLeft(40)) {
      const slaves = Array.from({ length: 1000 - BACKLOG_SLAVES }, (_, k) => BACKLOG_SLAVES + k);
      await pool(slaves, 25, async (i) => void (await get(`${gw}/ipsconnect?${query({ do: 'disableSlave', key: MK, url: stub.url(i) })}`)));
      const one = await throughput('a');
      thrRow('propagation throughput, 1 propagator', one, 'the 5-minute deadline came first');
      if (timeLeft(30)) {
        const p2port = await freePort();
        const p2 = service('propagator', { PROPAGATOR_PORT: String(p2port) });
        await ready(p2port);
        await sleep(2000); // its worker connected
        const two = await throughput('b');
        thrRow('propagation throughput, 2 propagators', two, 'the 5-minute deadline came first');
        await stopChild(p2);
      } else skip('propagation throughput, 2 propagators', 'deliveries/s', 'the 5-minute deadline came first');
    } else {
      skip('propagation throughput, 1 propagator', 'deliveries/s', 'the 5-minute deadline came first');
      skip('propagation throughput, 2 propagators', 'deliveries/s', 'the 5-minute deadline came first');
    }
  } finally {
    if (baseline) await Promise.race([baseline.stop(), sleep(5000)]).catch(() => undefined);
    await deliveries.close().catch(() => undefined);
    deliveriesConnection.disconnect(); // BullMQ leaves a connection it was given open
    await stub.stop().catch(() => undefined);
    await db.end().catch(() => undefined);
  }
}

// ---- report ----------------------------------------------------------------------------------------
function report(error?: string) {
  for (const r of REQUIRED) if (!rows.some((x) => x.name === r.name)) skip(r.name, r.unit, error ? `the run stopped first: ${error}` : 'not reached');
  const order = new Map(REQUIRED.map((r, i) => [r.name, i]));
  rows.sort((a, b) => (order.get(a.name) ?? 99) - (order.get(b.name) ?? 99));
  const f = (v: number | null | undefined, d = 1) => (v === null || v === undefined ? '-' : v.toFixed(d));
  const lines = [
    `Switchboard benchmark — ${facts?.['date'] ?? new Date().toISOString()}, commit ${facts?.['commit'] ?? '?'}`,
    `machine: ${facts?.['cores'] ?? os.cpus().length} cores (${facts?.['cpu'] ?? os.cpus()[0]?.model}), load average at start ${(facts?.['loadavg_at_start'] as number[] | undefined)?.join(' ') ?? '?'}, ${facts?.['memory_gib'] ?? '?'} GiB, node ${process.version}`,
    `loopback; autocannon c=${C}, ${ROW_S} s per row after 1 s warm-up unless noted; ratio = value / baseline`,
    '',
    ['row'.padEnd(48), 'value'.padStart(10), 'unit'.padEnd(13), 'baseline'.padStart(10), 'ratio'.padStart(7), 'p50 ms'.padStart(8), 'p99 ms'.padStart(8), ' ×pg'.padStart(6), ' target'.padEnd(30), 'met'].join(' '),
  ];
  for (const r of rows) {
    lines.push(
      [
        r.name.padEnd(48),
        f(r.value).padStart(10),
        r.unit.padEnd(13),
        f(r.baseline).padStart(10),
        f(r.ratio, 3).padStart(7),
        f(r.p50_ms).padStart(8),
        f(r.p99_ms).padStart(8),
        f(r.ratio_pg, 2).padStart(6),
        ` ${r.target ?? ''}`.padEnd(30),
        r.met === undefined || r.met === null ? '' : r.met ? 'met' : 'NOT MET',
      ].join(' '),
    );
  }
  lines.push('', 'baselines: ' + [...new Set(rows.map((r) => r.baseline_of))].join('; '));
  lines.push('notes:');
  for (const r of rows) if (r.note) lines.push(`  ${r.name}: ${r.note}`);
  if (error) lines.push(`RUN STOPPED: ${error}`);
  process.stdout.write(lines.join('\n') + '\n');
  const out = { machine: { ...facts, node: process.version }, method: `autocannon 9 (programmatic), c=${C}, ${ROW_S} s per row after 1 s warm-up; services from dist bundles, LOG_LEVEL=warn; private database and redis-server`, duration_s: Number(((Date.now() - T0) / 1000).toFixed(1)), error: error ?? null, rows };
  writeFileSync(PROFILE_DIR ? join(PROFILE_DIR, 'results.json') : OUT, JSON.stringify(out, null, 2) + '\n');
}

let finished = false;
const deadline = setTimeout(() => {
  if (finished) return;
  finished = true;
  log(`hard deadline (${BUDGET_MS / 1000} s) reached: killing what this run started`);
  void cleanup().finally(() => {
    report('hard deadline reached');
    process.exit(2);
  });
}, BUDGET_MS - 6000);
deadline.unref();
process.on('uncaughtException', (err) => {
  log(`uncaught: ${err.stack ?? err}`);
  if (finished) return; // the deadline or a signal is already cleaning up
  finished = true;
  void cleanup().finally(() => {
    report(`uncaught error: ${err.message}`);
    process.exit(1);
  });
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (finished) return;
    finished = true;
    log(`${sig}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}

main().then(
  async () => {
    if (finished) return;
    await cleanup();
    finished = true;
    report();
    process.exit(0);
  },
  async (err) => {
    if (finished) return;
    log(`failed: ${(err as Error).stack ?? err}`);
    await cleanup();
    finished = true;
    report((err as Error).message);
    process.exit(1);
  },
);
