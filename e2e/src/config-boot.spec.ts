import { runAppFromSource } from './support/run-source';

/** A service with a missing or invalid variable stops before it listens, with one clear line. */
describe('configuration validation at boot', () => {
  const base = {
    DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/switchboard_never_created',
    REDIS_URL: 'redis://127.0.0.1:6379/15',
    PUBLIC_URL: 'http://127.0.0.1:3000',
    SECRETS_KEY: 's'.repeat(40),
    INTERNAL_TOKEN: 'i'.repeat(40),
    AUTH_PORT: '1',
  };

  it('auth without MASTER_KEY exits 78 naming MASTER_KEY', async () => {
    const run = await runAppFromSource('auth', base);
    expect(run.code).toBe(78);
    expect(run.stderr.trim().split('\n')).toEqual(['switchboard auth: configuration error: MASTER_KEY is required (or MASTER_KEY_FILE)']);
  }, 120_000);

  it('auth with a short MASTER_KEY and a bad port exits 78 with one line per problem', async () => {
    const run = await runAppFromSource('auth', { ...base, MASTER_KEY: 'too-short', AUTH_PORT: 'http' });
    expect(run.code).toBe(78);
    expect(run.stderr.trim().split('\n').sort()).toEqual([
      'switchboard auth: configuration error: AUTH_PORT must be a port number',
      'switchboard auth: configuration error: MASTER_KEY must be at least 32 characters',
    ]);
  }, 120_000);

  it('admin without ADMIN_TOKEN exits 78 naming it', async () => {
    const run = await runAppFromSource('admin', { ...base, ADMIN_PORT: '1' });
    expect(run.code).toBe(78);
    expect(run.stderr).toContain('ADMIN_TOKEN is required');
  }, 120_000);

  it('the migrator with a non-PostgreSQL DATABASE_URL exits 78', async () => {
    const run = await runAppFromSource('migrator', { DATABASE_URL: 'mysql://root@127.0.0.1/x' });
    expect(run.code).toBe(78);
    expect(run.stderr).toContain('DATABASE_URL must be a PostgreSQL URL');
  }, 120_000);
});
