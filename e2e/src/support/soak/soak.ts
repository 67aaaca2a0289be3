/**
 * The soak under faults (issue 10 §6): member changes from several slaves to every other slave,
 * while slaves misbehave, propagators are killed with SIGKILL and Redis is restarted without its
 * data; then every slave's record is compared with the master's. `npm run soak` runs the full size
 * (soak/main.ts); e2e/src/soak.spec.ts runs a short one in `npm test`.
 *
 * Everything runs on loopback: a private redis-server on a free port (the restart touches nothing
 * else), a PostgreSQL database of its own, each service a process of its own (two gateways, two
 * propagators, auth, admin), the slaves HTTP servers in this process. Processes are ended by PID.
 */
import { Pool } from 'pg';
import { PrivateRedis, TestDatabase, createTestDatabase, freePort } from '@switchboard/testing';
import { md5, query } from '../ips';
import { cpuOfPid, cpuOfProgram, ServiceProcess, trackPid } from './services';
import { Behaviour, SoakSlave } from './slave';
import { CommittedChange, MemberState, SoakAction, percentile, signatureOf, stateMismatches, verify } from './verify';

export interface SoakOptions {
  /** Member changes to commit. */
  changes: number;
  /** Slaves registered with the master (the originators and the misbehaving ones among them). */
  slaves: number;
  /** How many of them (the first ones) make the changes. */
  originators: number;
  /** The misbehaving slaves (the last ones), in the order their windows open. */
  misbehaving: Exclude<Behaviour, 'ok'>[];
  /** How long each misbehaves. */
  faultMs: number;
  propagatorKills: number;
  redisRestarts: number;
  /** The changes are spread over about this long (the faults happen inside it). */
  driveSeconds: number;
  /** Originating calls in flight at once. */
  concurrency: number;
  /**
   * Back-pressure: no new change while this many deliveries to the well-behaved slaves are still
   * outstanding (a loaded machine gets less load, and the run still converges within its bound).
   */
  maxBacklog: number;
  /**
   * PROPAGATION_CONCURRENCY of each propagator (its PostgreSQL pool is half of it): below the
   * default 64 so that the soak's processes stay well under a shared server's max_connections.
   */
  propagationConcurrency: number;
  /** The whole run, start-up and clean-up included, ends by then. */
  deadlineMs: number;
  log?: (line: string) => void;
  seed?: number;
  signal?: AbortSignal;
}

export interface SoakResult {
  lost: number;
  outOfOrder: number;
  duplicated: number;
  changes: number;
  deliveries: number;
  seconds: number;
  /** `lost=N out_of_order=N duplicated=N changes=N deliveries=N seconds=N` */
  line: string;
  /** The load figures and the secondary checks, one line each. */
  details: string[];
  /** Further checks that must be 0: slave records ≠ master, master ≠ the soak's model, refused requests, changes not accepted. */
  stateMismatched: number;
  masterMismatched: number;
  slaveRefusals: number;
  /** Slaves the admin API shows disabled, with pending deliveries or dead letters at the end (-1: it did not answer). */
  adminUnhealthy: number;
  callErrors: number;
  /** Faults actually applied, e.g. "kill -9 propagator-1". */
  faults: string[];
  converged: boolean;
  /** Whether every planned change was made (a loaded machine may make fewer within the bound). */
  complete: boolean;
  examples: string[];
}

export const FULL: Omit<SoakOptions, 'log' | 'signal'> = {
  changes: 10_000,
  slaves: 20,
  originators: 4,
  misbehaving: ['down', 'slow', 'garbage'],
  faultMs: 25_000,
  propagatorKills: 2,
  redisRestarts: 1,
  driveSeconds: 150,
  concurrency: 24,
  maxBacklog: 8000,
  propagationConcurrency: 32,
  deadlineMs: 10 * 60_000,
};

export const SHORT: Omit<SoakOptions, 'log' | 'signal'> = {
  changes: 1000,
  slaves: 6,
  originators: 2,
  misbehaving: ['down'],
  faultMs: 8000,
  propagatorKills: 1,
  redisRestarts: 1,
  driveSeconds: 20,
  concurrency: 12,
  maxBacklog: 600,
  propagationConcurrency: 16,
  deadlineMs: 280_000,
};

const MASTER_KEY = 'soak-master-key-0123456789abcdef0123456789';
const TIMEOUT_MS = 2000;
/** Quick retries, enough of them (about 80 s) to outlast every fault of the soak. */
const RETRY_SCHEDULE = ['0', '200ms', '500ms', '1s', ...Array.from({ length: 40 }, () => '2s')].join(',');

/** mulberry32: the soak's choices are reproducible for a seed. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface DriverChange {
  action: SoakAction;
  member: number;
  remove?: number;
  origin: number;
  /** The parameters every other slave must receive (the IPS request minus do/key/slaveCall). */
  params: Record<string, string>;
  sig: string;
  committedAt: number;
}

interface LiveMember {
  state: MemberState;
  /** 0: never banned, 1: banned, 2: banned and unbanned (no further ban: signatures stay unique). */
  banState: number;
  busy: boolean;
  lastOrigin: number;
}

const WEIGHTS: [SoakAction, number][] = [
  ['register', 20],
  ['changeEmail', 18],
  ['changeName', 17],
  ['changePassword', 17],
  ['ban', 14],
  ['delete', 7],
  ['merge', 7],
];

/** A 22-character IPS salt and a bcrypt-shaped hash, unique for `n`. */
function credentials(n: number) {
  const tag = n.toString(36);
  const salt = ('S' + tag).padEnd(22, 'x');
  const hash = '$2a$13$' + (salt.slice(0, 21) + 'e') + ('H' + tag).padEnd(31, 'q');
  return { salt, hash };
}

async function ipsCall(gateway: string, params: Record<string, string>): Promise<{ status: number; body: string } | { error: string }> {
  try {
    const res = await fetch(`${gateway}/ipsconnect?${query(params)}`, { signal: AbortSignal.timeout(30_000) });
    return { status: res.status, body: await res.text() };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

function fmt(n: number, digits = 0) {
  return Number.isFinite(n) ? n.toFixed(digits) : '-';
}

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const log = options.log ?? (() => undefined);
  const t0 = Date.now();
  const hardDeadline = t0 + options.deadlineMs;
  const since = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;
  const random = rng(options.seed ?? 20261124);
  const aborted = () => options.signal?.aborted === true;
  const cleanup: { what: string; run: () => Promise<unknown> }[] = [];
  const halt = new AbortController();
  const faults: string[] = [];
  const postgresCpu0 = cpuOfProgram('postgres');
  const selfCpu0 = process.cpuUsage();
  let redisCpuBefore = 0;

  let redis: PrivateRedis | undefined;
  let db: TestDatabase | undefined;
  const slaves: SoakSlave[] = [];
  const services: ServiceProcess[] = [];
  let pg: Pool | undefined;
  try {
    // --- the stores: a private redis-server, a database of its own ---
    redis = await new PrivateRedis().start();
    const r = redis;
    const untrack = trackPid(() => r.pid);
    cleanup.push({ what: 'redis-server', run: () => r.dispose().finally(untrack) });
    db = await createTestDatabase();
    const d = db;
    cleanup.push({ what: 'database', run: () => d.drop() });
    log(`[soak ${since()}] redis-server pid ${redis.pid} on ${redis.port}, database ${db.name}`);

    // --- the slaves ---
    for (let i = 0; i < options.slaves; i++) slaves.push(await new SoakSlave(i, `soak-slave-key-${i}-${md5(String(i)).slice(0, 16)}`).start());
    cleanup.push({ what: 'slaves', run: () => Promise.all(slaves.map((s) => s.stop())) });
    const misbehaving = options.misbehaving.map((b, i) => ({ behaviour: b, slave: slaves[options.slaves - options.misbehaving.length + i] }));

    // --- the services, each a process on a free loopback port ---
    const ports = new Set<number>();
    const port = async () => {
      for (;;) {
        const p = await freePort();
        if (!ports.has(p)) return ports.add(p), p;
      }
    };
    const [authPort, gw1Port, gw2Port, adminPort, p1Port, p2Port] = [await port(), await port(), await port(), await port(), await port(), await port()];
    const env: Record<string, string> = {
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      DATABASE_URL: db.url,
      REDIS_URL: redis.url,
      PUBLIC_URL: `http://127.0.0.1:${gw1Port}`,
      AUTH_URL: `http://127.0.0.1:${authPort}`,
      PROPAGATOR_URL: `http://127.0.0.1:${p1Port}`,
      MASTER_KEY,
      SECRETS_KEY: 'soak-secrets-key-0123456789abcdef0123456789',
      ADMIN_TOKEN: 'soak-admin-token-0123456789abcdef0123456',
      INTERNAL_TOKEN: 'soak-internal-token-0123456789abcdef01234',
      PROPAGATION_RETRY_SCHEDULE: RETRY_SCHEDULE,
      PROPAGATION_TIMEOUT: `${TIMEOUT_MS}ms`,
      PROPAGATION_REPAIR_INTERVAL: '2s',
      PROPAGATION_AUTO_DISABLE_AFTER: '0',
      PROPAGATION_CONCURRENCY: String(options.propagationConcurrency),
      // The slaves are on loopback: lift the outbound address rule (never the scheme rule).
      SLAVE_URL_ALLOW_PRIVATE: 'true',
    };
    const auth = new ServiceProcess('auth', 'auth', authPort, env);
    const gateways = [new ServiceProcess('gateway-1', 'gateway', gw1Port, env), new ServiceProcess('gateway-2', 'gateway', gw2Port, env)];
    const admin = new ServiceProcess('admin', 'admin', adminPort, env);
    const propagators = [new ServiceProcess('propagator-1', 'propagator', p1Port, env), new ServiceProcess('propagator-2', 'propagator', p2Port, env)];
    services.push(auth, ...gateways, admin, ...propagators);
    cleanup.push({ what: 'services', run: () => Promise.all(services.map((s) => s.stop())) });
    const startBound = () => Math.max(30_000, Math.min(180_000, hardDeadline - Date.now() - 60_000));
    await Promise.all(services.map((s) => s.start(startBound())));
    log(`[soak ${since()}] services ready: ${services.map((s) => `${s.name} pid ${s.pid} :${s.port}`).join(', ')}`);
    pg = new Pool({ connectionString: db.url, max: 4 });
    const client = pg;
    cleanup.push({ what: 'pg client', run: () => client.end() });

    // --- every slave registers itself (verifySettings, with its own ourKey) through a gateway ---
    for (const s of slaves) {
      const res = await ipsCall(gateways[s.index % 2].url, { do: 'verifySettings', key: MASTER_KEY, url: s.url, ourKey: s.key });
      if (!('status' in res) || res.body !== '{"status":"SUCCESS"}') throw new Error(`verifySettings of slave ${s.index} failed: ${JSON.stringify(res)}`);
    }
    const slaveIndexById = new Map<number, number>();
    for (const row of (await pg.query<{ id: number; url: string }>('SELECT id, url FROM slaves')).rows) {
      slaveIndexById.set(row.id, slaves.findIndex((s) => s.url === row.url));
    }

    // --- the driver: changes from the originating slaves, spread over both gateways ---
    const live = new Map<number, LiveMember>();
    const liveIds: number[] = [];
    const removeLive = (id: number) => {
      live.delete(id);
      const at = liveIds.indexOf(id);
      if (at >= 0) liveIds.splice(at, 1);
    };
    const changes: DriverChange[] = [];
    const byMember = new Map<number, DriverChange[]>();
    const hot: number[] = [];
    const callMs: number[] = [];
    const mix = new Map<string, number>();
    let callErrors = 0;
    let refusedCalls = 0;
    let ambiguous = 0;
    let unavailable = 0;
    let serial = 0;
    let gatewayTurn = 0;
    const originators = slaves.slice(0, options.originators);
    const misbehavingIndex = new Set(misbehaving.map((m) => m.slave.index));
    const healthy = slaves.map((s) => s.index).filter((i) => !misbehavingIndex.has(i));
    /** Deliveries due to the well-behaved slaves so far (for the back-pressure). */
    let dueHealthy = 0;
    /** A slave may change a member only once it holds every change of it made elsewhere (as a user at that site would see it). */
    const upToDate = (slave: number, member: number) => (byMember.get(member) ?? []).every((c) => c.origin === slave || slaves[slave].got.has(c.sig));
    const choose = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)];

    type Plan = { action: SoakAction; member?: number; remove?: number; origin: number };
    const plan = (): Plan => {
      const total = WEIGHTS.reduce((a, [, w]) => a + w, 0);
      let x = random() * total;
      let action: SoakAction = 'register';
      for (const [a, w] of WEIGHTS) {
        x -= w;
        if (x < 0) {
          action = a;
          break;
        }
      }
      const register = (): Plan => ({ action: 'register', origin: choose(originators).index });
      if (action === 'register' || liveIds.length < Math.min(50, options.changes / 20)) return register();
      for (let tries = 0; tries < 40; tries++) {
        const id = hot.length && random() < 0.5 ? choose(hot) : choose(liveIds);
        const m = live.get(id);
        if (!m || m.busy) continue;
        let a = action;
        if (a === 'ban' && m.banState >= 2) a = 'changeName';
        const ready = originators.filter((o) => upToDate(o.index, id)).map((o) => o.index);
        if (ready.length === 0) continue;
        // Bursts: most changes of a member come from where it last changed.
        const origin = ready.includes(m.lastOrigin) && random() < 0.7 ? m.lastOrigin : choose(ready);
        if (a !== 'merge') return { action: a, member: id, origin };
        for (let t = 0; t < 20; t++) {
          const other = choose(liveIds);
          const o = live.get(other);
          if (other === id || !o || o.busy || !upToDate(origin, other)) continue;
          return { action: 'merge', member: id, remove: other, origin };
        }
      }
      return register();
    };

    /** Whether a call whose answer was lost committed after all (the master's record decides). */
    const committedAnyway = async (p: Plan, params: Record<string, string>): Promise<number | null> => {
      // Asked again over 12 s: auth may still be working on it (the gateway gives up after 10 s).
      for (const wait of [1000, 3000, 8000]) {
        await sleep(wait);
        try {
          const found = await lookUp();
          if (found !== null) return found;
        } catch (err) {
          log(`[soak ${since()}] could not read the master's record (will ask again): ${(err as Error).message}`);
        }
      }
      return null;
      async function lookUp(): Promise<number | null> {
        if (p.action === 'register') {
          const { rows } = await client.query<{ id: number }>('SELECT id FROM members WHERE email_key = lower($1)', [params['email']]);
          return rows[0]?.id ?? null;
        }
        const { rows } = await client.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM outbox_events WHERE payload ? 'propagate' AND (payload->>'memberId')::int = $1`,
          [p.member],
        );
        return rows[0].n > (byMember.get(p.member!)?.length ?? 0) ? p.member! : null;
      }
    };

    /** One change: planned, sent (retried when its answer was lost and it did not commit), recorded. */
    const oneChange = async (): Promise<boolean> => {
      const p = plan();
      const n = ++serial;
      const origin = slaves[p.origin];
      let params: Record<string, string>;
      let request: Record<string, string>;
      const idKey = (id: number) => ({ key: md5(MASTER_KEY, String(id)), url: origin.url, id: String(id) });
      switch (p.action) {
        case 'register': {
          const { salt, hash } = credentials(n);
          params = { name: `Soak${n}`, email: `soak${n}@example.test`, pass_hash: hash, pass_salt: salt };
          request = { do: 'register', key: MASTER_KEY, ...params, revalidateUrl: '', url: origin.url };
          break;
        }
        case 'changeEmail':
          params = { id: String(p.member), email: `soak${n}.e@example.test` };
          request = { do: p.action, ...idKey(p.member!), email: params['email'] };
          break;
        case 'changeName':
          params = { id: String(p.member), name: `Soak${n}n` };
          request = { do: p.action, ...idKey(p.member!), name: params['name'] };
          break;
        case 'changePassword': {
          const { salt, hash } = credentials(n);
          params = { id: String(p.member), pass_hash: hash, pass_salt: salt };
          request = { do: p.action, ...idKey(p.member!), pass_hash: hash, pass_salt: salt };
          break;
        }
        case 'ban':
          params = { id: String(p.member), status: live.get(p.member!)!.banState === 0 ? '1' : '0' };
          request = { do: 'ban', ...idKey(p.member!), status: params['status'] };
          break;
        case 'delete':
          params = { id: String(p.member) };
          request = { do: 'delete', ...idKey(p.member!) };
          break;
        case 'merge':
          params = { id: String(p.member), remove: String(p.remove) };
          request = { do: 'merge', ...idKey(p.member!), remove: params['remove'] };
          break;
      }
      const busy = [p.member, p.remove].filter((x): x is number => x !== undefined).map((id) => live.get(id)!);
      for (const m of busy) m.busy = true;
      try {
        let memberId: number | null = null;
        for (let attempt = 1; ; attempt++) {
          const gateway = gateways[gatewayTurn++ % gateways.length].url;
          const started = performance.now();
          const res = await ipsCall(gateway, request);
          callMs.push(performance.now() - started);
          if ('status' in res && res.status === 200 && res.body.startsWith('{')) {
            const json = JSON.parse(res.body) as { status: string; connect_id?: number };
            if (json.status === 'SUCCESS') {
              memberId = p.action === 'register' ? json.connect_id! : p.member!;
              break;
            }
            if (json.status !== 'SERVICE_UNAVAILABLE') {
              // A definite refusal: nothing committed (should not happen: every value is fresh).
              refusedCalls++;
              log(`[soak ${since()}] ${p.action} refused: ${res.body}`);
              return false;
            }
            // The gateway could not get an answer from auth in time: the change may have committed.
            unavailable++;
          }
          ambiguous++;
          memberId = await committedAnyway(p, params);
          if (memberId !== null) break;
          if (attempt >= 5 || aborted()) {
            callErrors++;
            log(`[soak ${since()}] ${p.action} failed ${attempt} times: ${JSON.stringify(res).slice(0, 300)}`);
            return false;
          }
        }
        if (p.action === 'register') params = { ...params, id: String(memberId) };
        const change: DriverChange = { action: p.action, member: memberId, remove: p.remove, origin: p.origin, params, sig: signatureOf(p.action, params), committedAt: Date.now() };
        changes.push(change);
        dueHealthy += healthy.filter((i) => i !== p.origin).length;
        mix.set(p.action, (mix.get(p.action) ?? 0) + 1);
        const list = byMember.get(memberId) ?? [];
        list.push(change);
        byMember.set(memberId, list);
        const m = live.get(memberId);
        switch (p.action) {
          case 'register':
            live.set(memberId, { state: { name: params['name'], email: params['email'], passHash: params['pass_hash'], passSalt: params['pass_salt'], banned: false }, banState: 0, busy: false, lastOrigin: p.origin });
            liveIds.push(memberId);
            break;
          case 'changeEmail':
            m!.state.email = params['email'];
            break;
          case 'changeName':
            m!.state.name = params['name'];
            break;
          case 'changePassword':
            m!.state.passHash = params['pass_hash'];
            m!.state.passSalt = params['pass_salt'];
            break;
          case 'ban':
            m!.state.banned = params['status'] === '1';
            m!.banState++;
            break;
          case 'delete':
            removeLive(memberId);
            break;
          case 'merge':
            removeLive(p.remove!);
            break;
        }
        if (m) m.lastOrigin = p.origin;
        // The originating slave made the change itself: its own record has it from now on.
        origin.applyOwn(p.action, params);
        hot.push(memberId);
        if (hot.length > 16) hot.shift();
        return true;
      } finally {
        for (const m of busy) m.busy = false;
      }
    };

    // --- the faults, at fixed points of the drive, each on its own ---
    const D = options.driveSeconds * 1000;
    const faultTasks: Promise<void>[] = [];
    /** Once the run ends (or fails), a fault still waiting does nothing more: no process is started after the clean-up. */
    const over = () => halt.signal.aborted || aborted();
    const pause = (ms: number) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        halt.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
      });
    const at = (ms: number, what: () => Promise<void>) =>
      faultTasks.push(
        (async () => {
          await pause(ms);
          if (!over()) await what();
        })().catch((err) => {
          faults.push(`FAILED: ${(err as Error).message}`);
          log(`[soak ${since()}] fault failed: ${(err as Error).message}`);
        }),
      );
    /** When each slave misbehaved (to see how the others fared meanwhile). */
    const windows: { label: string; from: number; to: number }[] = [];
    const note = (s: string) => {
      faults.push(s);
      log(`[soak ${since()}] ${s}`);
    };
    // One fault after the other, evenly over the drive (so that each one's effect can be told apart):
    // a slave misbehaving, a propagator killed, Redis restarted, the next slave, ...
    const sequence: (() => Promise<void>)[] = [];
    const rounds = Math.max(misbehaving.length, options.propagatorKills, options.redisRestarts);
    for (let k = 0; k < rounds; k++) {
      const m = misbehaving[k];
      if (m) {
        sequence.push(async () => {
          const { behaviour, slave } = m;
          await slave.setBehaviour(behaviour);
          const window = { label: `slave ${slave.index} ${behaviour}`, from: Date.now(), to: Infinity };
          windows.push(window);
          note(`slave ${slave.index} ${behaviour} for ${options.faultMs / 1000}s`);
          await pause(options.faultMs);
          if (over()) return;
          await slave.setBehaviour('ok');
          window.to = Date.now();
          note(`slave ${slave.index} answers again`);
        });
      }
      if (k < options.propagatorKills) {
        const victim = propagators[k % propagators.length];
        sequence.push(async () => {
          const pid = victim.pid;
          await victim.kill9();
          note(`kill -9 ${victim.name} (pid ${pid})`);
          if (over()) return;
          await victim.start(startBound());
          note(`${victim.name} restarted (pid ${victim.pid})`);
        });
      }
      if (k < options.redisRestarts) {
        sequence.push(async () => {
          const pid = redis!.pid;
          redisCpuBefore += cpuOfPid(pid);
          await redis!.stop();
          await pause(1500);
          if (over()) return;
          await redis!.start();
          note(`redis-server restarted without its data (pid ${pid} killed, now pid ${redis!.pid})`);
        });
      }
    }
    sequence.forEach((fault, i) => at(D * (0.03 + (0.9 * i) / Math.max(1, sequence.length - 1)), fault));

    const driveStart = Date.now();
    log(`[soak ${since()}] driving ${options.changes} changes over ~${options.driveSeconds}s`);
    const interval = D / options.changes;
    let slot = 0;
    let inFlight = 0;
    // On a machine slower than planned the changes go on for up to three times the plan, and stop
    // early enough for the deliveries to converge and the clean-up to run within the bound.
    const driveDeadline = Math.min(driveStart + 3 * D, hardDeadline - 90_000);
    const backlog = () => dueHealthy - healthy.reduce((a, i) => a + slaves[i].got.size, 0);
    let throttled = 0;
    let failure: Error | undefined;
    const workers = Array.from({ length: options.concurrency }, async () => {
      for (;;) {
        if (failure || changes.length + inFlight >= options.changes || aborted() || Date.now() > driveDeadline) return;
        if (refusedCalls + callErrors > 100) return;
        if (backlog() > options.maxBacklog) {
          throttled++;
          await sleep(100);
          continue;
        }
        const due = driveStart + slot++ * interval;
        if (due > Date.now()) await sleep(due - Date.now());
        if (changes.length + inFlight >= options.changes) return;
        inFlight++;
        try {
          await oneChange();
        } catch (err) {
          // The soak itself cannot go on (its own database connection failed, say): stop every worker.
          failure ??= err as Error;
        } finally {
          inFlight--;
        }
      }
    });
    const progress = setInterval(() => log(`[soak ${since()}] ${changes.length} changes committed`), 15_000);
    await Promise.all(workers);
    clearInterval(progress);
    if (failure) throw failure;
    const driveEnd = Date.now();
    log(`[soak ${since()}] ${changes.length} changes committed in ${((driveEnd - driveStart) / 1000).toFixed(1)}s; waiting for the faults to end`);
    await Promise.all(faultTasks);
    for (const { slave } of misbehaving) await slave.setBehaviour('ok');

    // --- convergence: every due change at every slave, nothing pending at the master ---
    const missing = () => {
      let n = 0;
      for (const c of changes) for (const s of slaves) if (s.index !== c.origin && !s.got.has(c.sig)) n++;
      return n;
    };
    const pending = async () => {
      const { rows } = await client.query<{ n: number }>(
        `SELECT (SELECT count(*) FROM deliveries WHERE status IN ('waiting', 'ready', 'parked'))
              + (SELECT count(*) FROM outbox_events o WHERE o.payload ? 'propagate' AND NOT EXISTS (SELECT 1 FROM propagation_changes c WHERE c.seq = o.id)) AS n`,
      );
      return Number(rows[0].n);
    };
    let converged = false;
    let lastReport = 0;
    const convergeDeadline = hardDeadline - 30_000;
    while (!aborted() && Date.now() < convergeDeadline) {
      const m = missing();
      const p = m === 0 ? await pending() : -1;
      if (m === 0 && p === 0) {
        converged = true;
        break;
      }
      if (Date.now() - lastReport > 10_000) {
        lastReport = Date.now();
        log(`[soak ${since()}] converging: ${m} deliveries not yet at their slave${p > 0 ? `, ${p} pending at the master` : ''}`);
      }
      await sleep(250);
    }
    const convergedAt = Date.now();
    // A little longer, so that a late repeat (a stalled job run again) would be seen.
    await sleep(converged ? 2000 : 0);
    log(`[soak ${since()}] ${converged ? 'converged' : 'DID NOT CONVERGE'} ${((convergedAt - driveEnd) / 1000).toFixed(1)}s after the last change`);

    // --- the verdict ---
    const examples: string[] = [];
    let masterMismatched = 0;
    const mismatch = (s: string) => {
      masterMismatched++;
      if (examples.length < 40) examples.push(s);
    };
    // The master's commit order: its outbox, per member, must be exactly the soak's changes.
    const events = (
      await client.query<{ id: string; member: number; origin: number | null; action: string; params: [string, string][] }>(
        `SELECT id, (payload->>'memberId')::int AS member, (payload->>'slaveId')::int AS origin,
                payload->'propagate'->>'action' AS action, payload->'propagate'->'params' AS params
           FROM outbox_events WHERE payload ? 'propagate' ORDER BY id`,
      )
    ).rows;
    const eventsByMember = new Map<number, typeof events>();
    for (const e of events) eventsByMember.set(e.member, [...(eventsByMember.get(e.member) ?? []), e]);
    const committed: CommittedChange[] = [];
    for (const [member, list] of byMember) {
      const recorded = eventsByMember.get(member) ?? [];
      eventsByMember.delete(member);
      if (recorded.length !== list.length) mismatch(`member ${member}: the soak made ${list.length} changes, the master recorded ${recorded.length}`);
      list.forEach((c, i) => {
        const e = recorded[i];
        if (!e) return;
        const origin = e.origin === null ? null : (slaveIndexById.get(e.origin) ?? -1);
        // pass_hash (and with it the whole parameter list) is erased from the outbox once delivered everywhere (D13).
        const sig = e.params.length ? signatureOf(e.action, Object.fromEntries(e.params)) : c.sig;
        if (e.action !== c.action || sig !== c.sig || origin !== c.origin) mismatch(`member ${member}: change ${i} is ${c.sig} from slave ${c.origin}, the master recorded ${sig} from ${origin}`);
        committed.push({ sig: c.sig, action: c.action, member: c.member, remove: c.remove, seq: Number(e.id), origin: c.origin, committedAt: c.committedAt });
      });
    }
    for (const [member, list] of eventsByMember) mismatch(`member ${member}: the master recorded ${list.length} changes the soak never made`);

    // More than one delivery of a change for one slave, or one for its originator: the master
    // would send it twice. (A delivery with two successful attempts is a harmless repeat, two
    // runs of one job overlapping: counted apart, as master_redelivered.)
    const [{ n: masterDuplicates }] = (
      await client.query<{ n: number }>(
        `SELECT (SELECT count(*) FROM (SELECT 1 FROM deliveries GROUP BY event_id, slave_id HAVING count(*) > 1) x)
              + (SELECT count(*) FROM deliveries d JOIN outbox_events o ON o.event_id = d.event_id WHERE (o.payload->>'slaveId')::int = d.slave_id) AS n`,
      )
    ).rows;
    const [{ n: masterRedelivered }] = (
      await client.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM (SELECT delivery_id FROM delivery_attempts WHERE outcome = 'delivered' GROUP BY delivery_id HAVING count(*) > 1) x`,
      )
    ).rows;
    const verdict = verify(committed, slaves.map((s) => s.log), { masterDuplicates: Number(masterDuplicates) });
    examples.push(...verdict.examples);

    // Final records: the master's members (its hash only as a digest: the soak's model gives it).
    const master = new Map<number, MemberState>();
    for (const row of (await client.query<{ id: number; name: string; email: string; pass_salt: string; banned: boolean }>('SELECT id, name, email, pass_salt, banned FROM members')).rows) {
      const model = live.get(row.id);
      if (!model) {
        mismatch(`member ${row.id} exists at the master, the soak deleted or merged it (or never made it)`);
        continue;
      }
      const s = model.state;
      if (s.name !== row.name || s.email !== row.email || s.passSalt !== row.pass_salt || s.banned !== row.banned) mismatch(`member ${row.id}: master ${JSON.stringify(row)}, soak ${JSON.stringify(s)}`);
      master.set(row.id, { name: row.name, email: row.email, passHash: s.passHash, passSalt: row.pass_salt, banned: row.banned });
    }
    for (const id of live.keys()) if (!master.has(id)) mismatch(`member ${id} is missing at the master`);
    const stateMismatched = stateMismatches(master, slaves.map((s) => s.members), examples);

    const statuses = (await client.query<{ status: string; n: number }>(`SELECT status, count(*)::int AS n FROM deliveries GROUP BY status ORDER BY status`)).rows;
    const attempts = (
      await client.query<{ outcome: string; n: number; p50: number; p95: number; p99: number; max: number }>(
        `SELECT outcome, count(*)::int AS n,
                percentile_disc(0.5) WITHIN GROUP (ORDER BY duration_ms) AS p50,
                percentile_disc(0.95) WITHIN GROUP (ORDER BY duration_ms) AS p95,
                percentile_disc(0.99) WITHIN GROUP (ORDER BY duration_ms) AS p99,
                max(duration_ms) AS max
           FROM delivery_attempts GROUP BY outcome ORDER BY outcome`,
      )
    ).rows;
    // What an operator sees: every slave enabled, nothing pending, no dead letter (admin API).
    let adminUnhealthy = -1;
    let adminFailing = 0;
    try {
      const res = await fetch(`${admin.url}/admin/slaves?limit=500`, { headers: { authorization: `Bearer ${env['ADMIN_TOKEN']}` }, signal: AbortSignal.timeout(30_000) });
      const list = ((await res.json()) as { items: { enabled: boolean; pending: number; dead: number; failing_since: string | null }[] }).items;
      adminUnhealthy = list.length === slaves.length ? list.filter((x) => !x.enabled || x.pending !== 0 || x.dead !== 0).length : slaves.length;
      adminFailing = list.filter((x) => x.failing_since !== null).length;
    } catch (err) {
      examples.push(`admin API: ${(err as Error).message}`);
    }
    const slaveRefusals = slaves.reduce((a, s) => a + s.refused.badKey + s.refused.notSlaveCall + s.refused.unknownAction, 0);
    const errorLines = services.reduce((a, s) => a + s.errorLines().length, 0);

    // CPU: each of our processes (every incarnation), the private redis-server, this process
    // (driver and slaves), and PostgreSQL machine-wide (shared with whatever else runs).
    const cpu = new Map<string, number>();
    for (const s of services) cpu.set(s.name, s.cpuMs());
    cpu.set('redis-server', redisCpuBefore + cpuOfPid(redis.pid));
    const self = process.cpuUsage(selfCpu0);
    cpu.set('soak(driver+slaves)', (self.user + self.system) / 1000);
    cpu.set('postgres(machine)', cpuOfProgram('postgres') - postgresCpu0);

    const seconds = Math.round((Date.now() - t0) / 1000);
    const nonOrigin = new Set(misbehaving.map((m) => m.slave.index));
    const lat = verdict.latencies;
    const healthyLat: number[] = [];
    const windowLat = windows.map(() => [] as number[]);
    {
      // Latency to the well-behaved slaves only (the misbehaving ones wait for their window to end).
      const bySig = new Map(committed.map((c) => [c.sig, c]));
      slaves.forEach((s) => {
        if (nonOrigin.has(s.index)) return;
        const seen = new Set<string>();
        for (const r of s.log) {
          const c = bySig.get(r.sig);
          if (r.own || !c || seen.has(r.sig)) continue;
          seen.add(r.sig);
          healthyLat.push(Math.max(0, r.at - c.committedAt));
          windows.forEach((w, i) => {
            if (c.committedAt >= w.from && c.committedAt <= w.to) windowLat[i].push(Math.max(0, r.at - c.committedAt));
          });
        }
      });
    }
    const driveS = (driveEnd - driveStart) / 1000;
    const line = `lost=${verdict.lost} out_of_order=${verdict.outOfOrder} duplicated=${verdict.duplicated} changes=${committed.length} deliveries=${verdict.delivered} seconds=${seconds}`;
    const details = [
      `throughput: ${fmt(committed.length / driveS, 1)} changes/s over ${fmt(driveS, 1)}s (back-pressure waits: ${throttled}); ${fmt(verdict.delivered / ((convergedAt - driveStart) / 1000), 0)} deliveries/s until converged (${fmt((convergedAt - driveEnd) / 1000, 1)}s after the last change); start-up ${fmt((driveStart - t0) / 1000, 1)}s`,
      `originating IPS calls (ms): p50=${fmt(percentile(callMs, 50))} p95=${fmt(percentile(callMs, 95))} p99=${fmt(percentile(callMs, 99))} max=${fmt(percentile(callMs, 100))} (${callMs.length} calls)`,
      `commit -> slave applied (ms), all slaves: p50=${fmt(percentile(lat, 50))} p95=${fmt(percentile(lat, 95))} p99=${fmt(percentile(lat, 99))} max=${fmt(percentile(lat, 100))}; well-behaved slaves: p50=${fmt(percentile(healthyLat, 50))} p95=${fmt(percentile(healthyLat, 95))} p99=${fmt(percentile(healthyLat, 99))} max=${fmt(percentile(healthyLat, 100))}`,
      `well-behaved slaves, changes made while ${windows.length ? windows.map((w, i) => `${w.label}: p50=${fmt(percentile(windowLat[i], 50))} p99=${fmt(percentile(windowLat[i], 99))} (${windowLat[i].length})`).join('; ') : 'no slave misbehaved'}`,
      `master -> slave calls (ms, delivery_attempts): ${attempts.map((a) => `${a.outcome} n=${a.n} p50=${a.p50} p95=${a.p95} p99=${a.p99} max=${a.max}`).join('; ')}`,
      `cpu seconds: ${[...cpu].map(([k, v]) => `${k}=${fmt(v / 1000, 1)}`).join(' ')}`,
      `deliveries at the master: ${statuses.map((s) => `${s.status}=${s.n}`).join(' ')}; redelivered=${verdict.redelivered} (harmless repeats at slaves) master_redelivered=${masterRedelivered} (deliveries with two successful attempts) master_duplicates=${masterDuplicates}`,
      `checks: state_mismatched=${stateMismatched} master_mismatched=${masterMismatched} unexpected=${verdict.unexpected} admin_unhealthy_slaves=${adminUnhealthy} (still marked failing: ${adminFailing}) slave_refusals=${slaveRefusals} call_errors=${callErrors} refused_calls=${refusedCalls} ambiguous_calls=${ambiguous} (service_unavailable=${unavailable}) service_error_lines=${errorLines} converged=${converged}`,
      `mix: ${[...mix].map(([k, v]) => `${k}=${v}`).join(' ')}; members at the end=${master.size}; slaves=${options.slaves} (${options.originators} originating, misbehaving: ${misbehaving.map((m) => `${m.slave.index}=${m.behaviour}`).join(' ') || 'none'})`,
      `faults: ${faults.join('; ') || 'none'}`,
    ];
    if (!converged || verdict.lost || verdict.outOfOrder || verdict.duplicated || stateMismatched || masterMismatched) {
      for (const s of services) {
        const lines = s.errorLines();
        if (lines.length) examples.push(`${s.name} error lines (${lines.length}), last: ${lines.slice(-3).join(' | ').slice(0, 1500)}`);
      }
    }
    return {
      lost: verdict.lost,
      outOfOrder: verdict.outOfOrder,
      duplicated: verdict.duplicated,
      changes: committed.length,
      deliveries: verdict.delivered,
      seconds,
      line,
      details,
      stateMismatched,
      masterMismatched,
      slaveRefusals,
      adminUnhealthy,
      callErrors: callErrors + refusedCalls,
      faults,
      converged,
      complete: committed.length >= options.changes,
      examples,
    };
  } finally {
    halt.abort();
    for (const step of cleanup.reverse()) {
      await step.run().catch((err) => log(`[soak] clean-up of ${step.what} failed: ${(err as Error).message}`));
    }
  }
}
