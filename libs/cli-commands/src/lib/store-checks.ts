import IORedis from 'ioredis';
import { Client } from 'pg';

/** One check of `config check`: ok or failed, what was found, and notes that are not failures. */
export interface CheckResult {
  ok: boolean;
  detail: string;
  notes: string[];
}

/**
 * The query parameters of a store URL that carry a password: pg's connection strings and ioredis
 * both read `?password=` (and pg `sslpassword`); any name holding `pass` counts.
 */
export function passwordParams(url: URL): string[] {
  return [...new Set(url.searchParams.keys())].filter((name) => /pass/i.test(name));
}

/** A URL as it can be shown: its password (in the userinfo or the query) replaced by `***`. */
export function withoutPassword(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    for (const name of passwordParams(u)) u.searchParams.set(name, '***');
    return u.toString();
  } catch {
    return '(not a URL)';
  }
}

/** `work`, failed after `ms` whatever it waits on. */
async function within<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms (${what})`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const message = (err: unknown) => {
  const e = err as { code?: string; message?: string };
  const text = e.message || e.code || String(err);
  return e.code && !text.includes(e.code) ? `${text} (${e.code})` : text;
};

/**
 * Reaches PostgreSQL at `url`: connects (with a timeout), reads the server version and which of the
 * `known` migrations are applied. A database that does not exist yet is not a failure (the
 * migrator creates it); pending migrations are a note (the migrator applies them at start).
 */
export async function checkPostgres(url: string, known: string[], ms: number): Promise<CheckResult> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: ms, query_timeout: ms, statement_timeout: ms, application_name: 'switchboard-cli' });
  client.on('error', () => undefined);
  try {
    await within(ms + 1000, 'connect', client.connect());
  } catch (err) {
    await client.end().catch(() => undefined);
    if ((err as { code?: string }).code === '3D000') {
      return { ok: true, detail: 'the server answers; the database does not exist yet', notes: ['the migrator creates it (npm start and docker compose run it first)'] };
    }
    return { ok: false, detail: message(err), notes: [] };
  }
  try {
    const version = (await within(ms + 1000, 'query', client.query<{ v: string }>("SELECT current_setting('server_version') AS v"))).rows[0].v;
    const table = (await within(ms + 1000, 'query', client.query<{ t: string | null }>("SELECT to_regclass('migrations')::text AS t"))).rows[0].t;
    const applied = table ? (await within(ms + 1000, 'query', client.query<{ name: string }>('SELECT name FROM migrations'))).rows.map((r) => r.name) : [];
    const pending = known.filter((m) => !applied.includes(m));
    const unknown = applied.filter((m) => !known.includes(m));
    const notes: string[] = [];
    if (pending.length) notes.push(`${pending.length} of ${known.length} migrations not applied yet: the migrator applies them (npm start and docker compose run it first; npm run migrate by hand)`);
    if (unknown.length) notes.push(`the database has ${unknown.length} migrations this version does not know (${unknown.join(', ')}): written by a newer release?`);
    return { ok: true, detail: `PostgreSQL ${version}, ${applied.length - unknown.length} of ${known.length} migrations applied`, notes };
  } catch (err) {
    return { ok: false, detail: message(err), notes: [] };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Reaches Redis at `url`: connects once (no retries, a timeout), PINGs and reads its version; a
 * `maxmemory-policy` other than noeviction is a note (BullMQ and the event streams need it).
 */
export async function checkRedis(url: string, ms: number): Promise<CheckResult> {
  const redis = new IORedis(url, {
    lazyConnect: true,
    connectTimeout: ms,
    commandTimeout: ms,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    connectionName: 'switchboard-cli',
  });
  let lastError: unknown;
  redis.on('error', (err) => (lastError = err));
  try {
    await within(ms + 1000, 'connect', redis.connect());
    await within(ms + 1000, 'PING', redis.ping());
    const info = await within(ms + 1000, 'INFO', redis.info());
    const field = (name: string) => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();
    const policy = field('maxmemory_policy');
    const notes = policy && policy !== 'noeviction' ? [`maxmemory-policy is ${policy}: set noeviction (BullMQ's jobs and the event streams must never be evicted)`] : [];
    return { ok: true, detail: `Redis ${field('redis_version') ?? '(version unknown)'}`, notes };
  } catch (err) {
    // ioredis reports "Connection is closed." once it gives up; the reason is the error before it.
    const why = lastError && /closed/i.test(message(err)) ? message(lastError) : message(err);
    return { ok: false, detail: why, notes: [] };
  } finally {
    redis.disconnect();
  }
}
