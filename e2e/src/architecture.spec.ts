import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import IORedis from 'ioredis';
import { Client } from 'pg';
import { GrantsService } from '@switchboard/app-api';
import { waitFor } from '@switchboard/testing';
import { ApiClient } from './support/api-client';
import { ConsoleClient } from './support/console-client';
import { FakeSlave } from './support/fake-slave';
import { ipsClient, md5 } from './support/ips';
import { ROOT } from './support/run-source';
import { adminApi, http, MASTER_KEY as MK, startSystem, System } from './support/system';
import { installWriterAudit, writersByTable } from './support/writer-audit';

const HASH = '$2a$13$0123456789abcdefghijke83qjoCb8ggnz2a4OYR7vO8WGClpIei.';
const HASH2 = '$2a$13$abcdefghijklmnopqrstuufJyGQz74MaXA58G4n4SAlu8WLjGODFe';
const SALT = '0123456789abcdefghijkl';
const SALT2 = 'abcdefghijklmnopqrstuv';

type Service = 'gateway' | 'auth' | 'admin' | 'propagator' | 'migrator';

/** The rows of the markdown table under `## <heading>` in docs/architecture.md: first column's `code` names → writer. */
function documented(heading: string): { patterns: string[]; writer: Service }[] {
  const doc = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8');
  const section = doc.split(/^## /m).find((s) => s.startsWith(heading));
  if (!section) throw new Error(`docs/architecture.md has no "## ${heading}" section`);
  const rows = section.split('\n').filter((l) => l.startsWith('| `'));
  return rows.map((row) => {
    const [names, writer] = row.split('|').slice(1, 3);
    const patterns = [...names.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
    const service = writer.trim().split(/\s/)[0] as Service;
    return { patterns, writer: service };
  });
}

const WRITE_COMMANDS = new Set([
  'set', 'setex', 'psetex', 'setnx', 'getset', 'getdel', 'getex', 'incr', 'incrby', 'decr', 'decrby', 'expire', 'pexpire', 'expireat', 'pexpireat',
  'persist', 'del', 'unlink', 'rename', 'renamenx', 'hset', 'hsetnx', 'hmset', 'hincrby', 'hdel', 'xadd', 'xtrim', 'xdel', 'zadd', 'zrem', 'zincrby',
  'zremrangebyscore', 'lpush', 'rpush', 'lpop', 'rpop', 'lrem', 'ltrim', 'lmove', 'rpoplpush', 'sadd', 'srem', 'append', 'copy',
]);
/**
 * BullMQ's scripts that read a queue (the admin's queue dashboard runs them), by the SHA-1 their
 * EVALSHA carries. Two hold a write that never applies to our queues: getCounts, getRanges and
 * getJobs drop a BullMQ 4 "0:" marker left at the end of a wait list (BullMQ 5 writes none), and
 * getRateLimitTtl deletes a limiter key only when it has already expired.
 */
const READ_SCRIPTS = ['getCounts', 'getCountsPerPriority', 'getDependencyCounts', 'getJobScheduler', 'getJobs', 'getMetrics', 'getRanges', 'getRateLimitTtl', 'getState', 'getStateV2', 'isFinished', 'isJobInList', 'isMaxed', 'paginate'];
const bullScripts = require('bullmq/dist/cjs/scripts') as Record<string, { name: string; content: string }>;
const READ_SCRIPT_SHAS = new Set(Object.values(bullScripts).filter((s) => READ_SCRIPTS.includes(s.name)).map((s) => createHash('sha1').update(s.content).digest('hex')));
/** MONITOR shows a script's text with C-style escapes (`\n`, `\"`, `\xNN`): the text as sent. */
const unescapeMonitor = (text: string) =>
  Buffer.from(
    text.replace(/\\(x[0-9a-fA-F]{2}|.)/g, (_m, c: string) =>
      c.length === 3 ? String.fromCharCode(parseInt(c.slice(1), 16)) : ({ n: '\n', r: '\r', t: '\t', a: '\x07', b: '\b' } as Record<string, string>)[c] ?? c,
    ),
    'latin1',
  );
const isReadScript = (args: string[]) => {
  const cmd = args[0].toLowerCase();
  if (cmd === 'evalsha') return READ_SCRIPT_SHAS.has(args[1]);
  return cmd === 'eval' && READ_SCRIPT_SHAS.has(createHash('sha1').update(unescapeMonitor(args[1])).digest('hex'));
};

/** Consumer-group state: kept by the consumer on the streams it reads (docs/architecture.md). */
const CONSUMER_COMMANDS = new Set(['xreadgroup', 'xack', 'xgroup', 'xautoclaim', 'xclaim']);

/** Which service a connection name belongs to (docs/architecture.md, "Services"). */
function serviceOf(name: string): Service | undefined {
  if (name === 'switchboard-audit') return 'admin';
  const m = /^switchboard-(gateway|auth|admin|propagator)\b/.exec(name);
  if (m) return m[1] as Service;
  if (name.startsWith('bull')) return 'propagator';
  return undefined;
}

/** The keys a write command touches (EVAL/EVALSHA: its declared keys; MSET-like forms are not used). */
function keysOf(args: string[]): string[] {
  const cmd = args[0].toLowerCase();
  if (cmd === 'eval' || cmd === 'evalsha') return args.slice(3, 3 + Number(args[2]));
  if (cmd === 'del' || cmd === 'unlink') return args.slice(1);
  if (cmd === 'rename' || cmd === 'renamenx' || cmd === 'lmove' || cmd === 'rpoplpush' || cmd === 'copy') return args.slice(1, 3);
  return args.length > 1 ? [args[1]] : [];
}

const toRegExp = (pattern: string) => new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);

/**
 * Issue 11: the ownership tables of docs/architecture.md hold in the running code. A whole system
 * goes through every kind of change (IPS reads, logins, changes, registrations, chains, keys, the
 * application API, propagation, admin actions) while PostgreSQL records each table's writers and
 * Redis MONITOR each key's; every write must come from the documented writer.
 */
describe('ownership: every table and Redis key family is written by its one documented service', () => {
  let sys: System;
  let monitor: IORedis | undefined;
  let lister: IORedis | undefined;
  const slaves: FakeSlave[] = [];
  const redisWrites: { addr: string; args: string[] }[] = [];
  const names = new Map<string, string>();
  let listing: NodeJS.Timeout | undefined;
  const admin = adminApi(() => sys);

  const refreshNames = async () => {
    const list = (await lister!.client('LIST')) as string;
    for (const line of list.split('\n')) {
      const addr = /\baddr=(\S+)/.exec(line)?.[1];
      const name = /\bname=(\S*)/.exec(line)?.[1];
      if (addr && name) names.set(addr, name);
    }
  };

  beforeAll(async () => {
    sys = await startSystem();
    await installWriterAudit(sys.db.url);
    const db = Number(new URL(sys.redis.url).pathname.slice(1) || 0);
    lister = new IORedis(sys.redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await lister.connect();
    monitor = await new IORedis(sys.redis.url, { maxRetriesPerRequest: 1 }).monitor();
    monitor.on('monitor', (_time: string, args: string[], source: string, database: string) => {
      // Commands a script runs are attributed through the script's declared keys (EVAL/EVALSHA).
      if (Number(database) !== db || !args.length || source === 'lua') return;
      const cmd = args[0].toLowerCase();
      if (WRITE_COMMANDS.has(cmd) || CONSUMER_COMMANDS.has(cmd) || ((cmd === 'eval' || cmd === 'evalsha') && !isReadScript(args))) redisWrites.push({ addr: source, args });
    });
    await refreshNames();
    // Connections may come and go during the scenario: their names are collected as they live.
    listing = setInterval(() => void refreshNames().catch(() => undefined), 100);
    for (const key of ['arch-slave-a-0123456789', 'arch-slave-b-0123456789']) slaves.push(await new FakeSlave(key).start());
  }, 180_000);

  afterAll(async () => {
    clearInterval(listing);
    monitor?.disconnect();
    lister?.disconnect();
    for (const s of slaves) await s.stop();
    await sys?.stop();
  }, 180_000);

  it('drives every kind of change, then finds only documented writers', async () => {
    const ips = ipsClient(sys.urls.gateway);
    const [a, b] = slaves;
    // Slaves, keys and settings.
    for (const s of slaves) expect((await ips.get({ do: 'verifySettings', key: MK, url: s.url, ourKey: s.key })).json().status).toBe('SUCCESS');
    const issued = (await admin('/admin/slaves', 'POST', { url: 'http://127.0.0.1:9/arch.php' })).json();
    expect(issued.master_key).toBeDefined();
    expect((await admin('/admin/settings', 'PATCH', { global_master_key: false })).status).toBe(200);
    expect((await admin('/admin/settings', 'PATCH', { global_master_key: true })).status).toBe(200);
    // Members: registration, reads, logins (right, wrong), changes; each propagated.
    const reg = (await ips.get({ do: 'register', key: MK, name: 'Arch', email: 'arch@example.test', pass_hash: HASH, pass_salt: SALT, url: a.url })).json();
    const id = String(reg.connect_id);
    expect((await ips.get({ do: 'fetchSalt', key: md5(MK, 'Arch'), id: 'Arch', idType: '1', url: a.url })).json().status).toBe('SUCCESS');
    expect((await ips.get({ do: 'fetchId', key: md5(MK, 'arch@example.test'), id: 'arch@example.test', idType: '2' })).json().status).toBe('SUCCESS');
    expect((await ips.get({ do: 'checkEmail', key: MK, email: 'arch@example.test' })).json().used).toBe(1);
    expect((await ips.get({ do: 'checkName', key: 'wrong', name: 'Arch' })).json().status).toBe('BAD_KEY');
    expect((await ips.get({ do: 'login', key: md5(MK, 'Arch'), id: 'Arch', idType: '1', password: HASH, url: a.url })).json().status).toBe('SUCCESS');
    expect((await ips.get({ do: 'login', key: md5(MK, 'Arch'), id: 'Arch', idType: '1', password: HASH2 })).json().status).toBe('WRONG_AUTH');
    expect((await ips.get({ do: 'changeEmail', key: md5(MK, id), id, email: 'arch2@example.test', url: a.url })).json().status).toBe('SUCCESS');
    expect((await ips.get({ do: 'changePassword', key: md5(MK, id), id, pass_hash: HASH2, pass_salt: SALT2, url: a.url })).json().status).toBe('SUCCESS');
    expect((await admin(`/admin/members/${id}/unlock`, 'POST')).status).toBe(200);
    await waitFor(() => b.got('changePassword', id).length > 0, 20_000, 'the changes delivered to the other slave');
    // A browser chain (session and chain state) after the login above.
    const hop = await ips.get({ do: 'crossLogin', key: md5(MK, id), id, returnTo: `${a.url}?back=1`, url: a.url });
    expect(hop.status).toBe(303);
    // The application API: a key, a frob, a grant, a token, reads and a change.
    const app = (await admin('/admin/apps', 'POST', { title: 'Arch', type: 'desktop' })).json();
    const client = new ApiClient(sys.urls.gateway, app.api_key, app.secret);
    expect((await client.call('test.echo', { echo: 'x' })).json().echo).toBe('x');
    const frob = (await client.call('auth.getFrob')).json().auth.frob;
    expect(await sys.apps.auth.get(GrantsService, { strict: false }).approveFrob(app.api_key, frob, Number(id), { profile: 'write' }, new Date())).toBe(true);
    const token = (await client.call('auth.getToken', { frob })).json().auth.token;
    expect((await client.call('account.get', { auth_token: token })).json().user.user_id).toBe(id);
    expect((await client.call('account.setName', { auth_token: token, name: 'Arch Two' }, { post: true })).json().user.username).toBe('Arch Two');
    expect((await admin(`/admin/apps/${app.api_key}`, 'PATCH', { enabled: false })).status).toBe(200);
    // Admin tokens (admin's table), a failed admin authentication (admin's Redis counter), an action with a named token.
    const named = (await admin('/admin/tokens', 'POST', { name: 'arch' })).json();
    expect((await http(`${sys.urls.admin}/admin/slaves`, { headers: { authorization: `Bearer ${named.token}` } })).status).toBe(200);
    expect((await http(`${sys.urls.admin}/admin/slaves`, { headers: { authorization: 'Bearer not-a-token-0123456789abcdef' } })).status).toBe(401);
    // The web console: a session (admin's Redis family), an action through it, sign-out.
    const web = new ConsoleClient(sys.urls.admin);
    expect((await web.signIn(named.token)).status).toBe(303);
    expect((await web.post(`/admin/console/members/${id}/unlock`)).status).toBe(303);
    expect((await web.post('/admin/console/sign-out')).status).toBe(303);
    web.close();
    expect((await admin(`/admin/tokens/${named.id}`, 'DELETE')).status).toBe(200);
    // The queue dashboard reads the propagator's queue (and writes none of it, checked below).
    for (const path of ['/admin/queues', '/admin/queues/api/queues', '/admin/queues/api/redis/stats', '/admin/queues/api/queues/deliveries/workers']) {
      expect([path, (await admin(path)).status]).toEqual([path, 200]);
    }
    // The audit log receives events from every stream.
    await waitFor(async () => (await admin('/admin/audit?type=authn_key_fail')).json().items.length > 0, 20_000, 'the gateway\'s event in the audit');
    await refreshNames();

    // PostgreSQL: each table's writers.
    const tables = documented('Tables');
    const writerOf = new Map(tables.flatMap((t) => t.patterns.map((p) => [p, t.writer] as const)));
    const pg = new Client({ connectionString: sys.db.url });
    await pg.connect();
    let allTables: string[];
    try {
      allTables = (await pg.query<{ t: string }>(`SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'writer_audit'`)).rows.map((r) => r.t);
    } finally {
      await pg.end();
    }
    expect(allTables.filter((t) => !writerOf.has(t))).toEqual([]); // every table is in the document
    const written = await writersByTable(sys.db.url);
    const wrong = Object.entries(written).flatMap(([table, writers]) =>
      writers.filter((w) => w !== `switchboard-${writerOf.get(table)}`).map((w) => `${table} written by ${w} (documented: ${writerOf.get(table)})`),
    );
    expect(wrong).toEqual([]);
    // The scenario did write what it was meant to (the check above is not vacuous).
    for (const table of ['members', 'slaves', 'settings', 'outbox_events', 'app_keys', 'app_tokens', 'deliveries', 'propagation_changes', 'audit_events', 'admin_tokens']) {
      expect([table, written[table]]).toEqual([table, expect.any(Array)]);
    }

    // Redis: each key's writer.
    const families = documented('Redis key families').map((f) => ({ ...f, regexps: f.patterns.map(toRegExp) }));
    const violations = new Set<string>();
    const seenFamilies = new Set<string>();
    for (const { addr, args } of redisWrites) {
      const name = names.get(addr) ?? '';
      const service = serviceOf(name);
      const cmd = args[0].toLowerCase();
      const keys = CONSUMER_COMMANDS.has(cmd) ? [] : keysOf(args);
      if (cmd === 'xreadgroup') continue; // reading (its group state is the consumer's)
      for (const key of keys) {
        const family = families.find((f) => f.regexps.some((r) => r.test(key)));
        if (!family) {
          violations.add(`${key}: no documented family (${cmd} by ${name || addr})`);
          continue;
        }
        seenFamilies.add(family.patterns[0]);
        if (service !== family.writer) violations.add(`${family.patterns[0]} written by ${name || `unnamed ${addr}`} (${cmd}; documented: ${family.writer})`);
      }
      if (CONSUMER_COMMANDS.has(cmd) && service !== 'admin') violations.add(`${cmd} on ${args[1]} by ${name || addr}: only the admin consumes the event streams`);
    }
    expect([...violations]).toEqual([]);
    for (const family of ['switchboard:events:gateway', 'switchboard:events:auth', 'switchboard:chain:*', 'switchboard:session:*', 'switchboard:slave-seen', 'switchboard:recent-auth:*', 'switchboard:api:client:*', 'switchboard:api:usage:*', 'switchboard:api:token-used:*', 'switchboard:admin:auth-fails:*', 'switchboard:admin:console-session:*', 'bull:deliveries:*']) {
      expect([family, seenFamilies.has(family)]).toEqual([family, true]);
    }
  }, 180_000);
});
