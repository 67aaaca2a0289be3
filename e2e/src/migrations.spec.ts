import { Client } from 'pg';
import { ensureDatabase, MIGRATIONS, pendingSchemaChanges, runMigrations } from '@switchboard/db';
import { createTestDatabase, TestDatabase } from '@switchboard/testing';
import { runAppFromSource } from './support/run-source';

describe('migrations', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
  }, 180_000);
  afterAll(async () => {
    await db?.drop();
  }, 180_000);

  it('apply every registered migration to an empty database, once', async () => {
    expect(await runMigrations(db.url)).toHaveLength(MIGRATIONS.length);
    expect(await runMigrations(db.url)).toEqual([]);
  }, 60_000);

  it('leave no drift between the entities and the schema (migration:generate --check)', async () => {
    expect(await pendingSchemaChanges(db.url)).toEqual([]);
  }, 60_000);

  it('drift check notices a schema that differs from the entities', async () => {
    const pg = new Client({ connectionString: db.url });
    await pg.connect();
    try {
      await pg.query('ALTER TABLE slaves DROP COLUMN disabled_reason');
      const pending = await pendingSchemaChanges(db.url);
      expect(pending.join('\n')).toMatch(/disabled_reason/);
      await pg.query('ALTER TABLE slaves ADD COLUMN disabled_reason text');
      expect(await pendingSchemaChanges(db.url)).toEqual([]);
    } finally {
      await pg.end();
    }
  }, 60_000);

  it('the migrator creates a missing database, migrates it and exits 0; ensureDatabase is idempotent', async () => {
    const fresh = await createTestDatabase({ migrate: false });
    await fresh.drop();
    try {
      const run = await runAppFromSource('migrator', { DATABASE_URL: fresh.url });
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`created database ${fresh.name}`);
      expect(run.stdout).toContain('applied migrations');
      const again = await runAppFromSource('migrator', { DATABASE_URL: fresh.url });
      expect(again.code).toBe(0);
      expect(again.stdout).toContain('database schema is up to date');
      expect(await ensureDatabase(fresh.url)).toBe(false);
    } finally {
      await fresh.drop();
    }
  }, 240_000);

  it('concurrent migrators do not collide (advisory lock)', async () => {
    const other = await createTestDatabase({ migrate: false });
    try {
      const results = await Promise.all([runMigrations(other.url), runMigrations(other.url), runMigrations(other.url)]);
      expect(results.map((r) => r.length).sort()).toEqual([0, 0, MIGRATIONS.length]);
    } finally {
      await other.drop();
    }
  }, 60_000);
});
