import { randomBytes } from 'node:crypto';
import IORedis from 'ioredis';
import { Client } from 'pg';
import { ensureDatabase, runMigrations } from '@switchboard/db';

/**
 * Tests share the machine's PostgreSQL and Redis with everything else, so each test file works in
 * a database of its own (created here, dropped by `drop()`) and in a Redis logical database chosen
 * by the Jest worker (10 + worker id), flushed before and after.
 * Override the servers with TEST_PG_URL / TEST_REDIS_URL (server URLs, no database part).
 */
const PG_SERVER = process.env['TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432';
const REDIS_SERVER = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const name = `switchboard_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const url = `${PG_SERVER.replace(/\/+$/, '')}/${name}`;
  await ensureDatabase(url);
  if (options.migrate !== false) await runMigrations(url);
  return {
    url,
    name,
    drop: async () => {
      const admin = new Client({ connectionString: `${PG_SERVER.replace(/\/+$/, '')}/postgres` });
      await admin.connect();
      try {
        await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    },
  };
}

export interface TestRedis {
  url: string;
  client: IORedis;
  flush(): Promise<void>;
  close(): Promise<void>;
}

const OWNER_KEY = 'switchboard:test-owner';
const OWNER_TTL_S = 900;

/**
 * A Redis logical database of its own among 10–15: claimed with an owner key (SET NX, expiring after
 * 15 minutes in case a run dies), so two test runs on one machine never flush each other's data.
 */
export async function createTestRedis(): Promise<TestRedis> {
  const owner = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const start = Number(process.env['JEST_WORKER_ID'] ?? '1');
  for (let round = 0; round < 600; round++) {
    for (let i = 0; i < 6; i++) {
      const db = 10 + ((start + i) % 6);
      const url = `${REDIS_SERVER.replace(/\/+$/, '')}/${db}`;
      const client = new IORedis(url, { maxRetriesPerRequest: 1 });
      if ((await client.set(OWNER_KEY, owner, 'EX', OWNER_TTL_S, 'NX')) === 'OK') {
        await client.flushdb();
        await client.set(OWNER_KEY, owner, 'EX', OWNER_TTL_S);
        const release = async () => {
          await client.flushdb().catch(() => undefined); // also drops the owner key
          await client.quit();
        };
        return {
          url,
          client,
          flush: async () => {
            await client.flushdb();
            await client.set(OWNER_KEY, owner, 'EX', OWNER_TTL_S);
          },
          close: release,
        };
      }
      await client.quit();
    }
    await new Promise((r) => setTimeout(r, 500)); // all six busy: wait for one
  }
  throw new Error('no free Redis test database (10–15) after 5 minutes');
}
