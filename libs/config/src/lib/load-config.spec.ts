import fc from 'fast-check';
import { ConfigError, parseConfig } from './load-config';

const VALID = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/switchboard',
  REDIS_URL: 'redis://127.0.0.1:6379',
  PUBLIC_URL: 'https://sso.example.test/',
  MASTER_KEY: 'm'.repeat(32),
  SECRETS_KEY: 's'.repeat(32),
  ADMIN_TOKEN: 'a'.repeat(32),
  INTERNAL_TOKEN: 'i'.repeat(32),
};

function problems(service: Parameters<typeof parseConfig>[0], env: Record<string, string | undefined>): string[] {
  try {
    parseConfig(service, env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('parseConfig', () => {
  it('accepts a complete environment and applies the documented defaults', () => {
    const auth = parseConfig('auth', VALID);
    expect(auth.AUTH_PORT).toBe(3001);
    expect(auth.HOST).toBe('127.0.0.1');
    expect(auth.PUBLIC_URL).toBe('https://sso.example.test');
    const gateway = parseConfig('gateway', VALID);
    expect(gateway.GATEWAY_PORT).toBe(3000);
    expect(gateway.AUTH_URL).toBe('http://127.0.0.1:3001');
    expect(parseConfig('admin', VALID).ADMIN_PORT).toBe(3002);
    expect(parseConfig('propagator', VALID).PROPAGATOR_PORT).toBe(3003);
  });

  it('names each missing variable in one line', () => {
    expect(problems('auth', { ...VALID, MASTER_KEY: undefined })).toEqual(['MASTER_KEY is required']);
    expect(problems('auth', { ...VALID, DATABASE_URL: '' })).toEqual(['DATABASE_URL is required']);
    expect(problems('admin', { ...VALID, ADMIN_TOKEN: undefined, REDIS_URL: undefined }).sort()).toEqual([
      'ADMIN_TOKEN is required',
      'REDIS_URL is required',
    ]);
  });

  it('explains invalid values', () => {
    expect(problems('auth', { ...VALID, MASTER_KEY: 'short' })).toEqual(['MASTER_KEY must be at least 32 characters']);
    expect(problems('auth', { ...VALID, DATABASE_URL: 'mysql://x/y' })).toEqual([
      'DATABASE_URL must be a PostgreSQL URL (postgres: or postgresql:, with a host and a database name)',
    ]);
    expect(problems('auth', { ...VALID, DATABASE_URL: 'postgres:' })[0]).toMatch(/^DATABASE_URL must be/);
    expect(problems('auth', { ...VALID, DATABASE_URL: 'postgres://h/' })[0]).toMatch(/^DATABASE_URL must be/);
    expect(problems('gateway', { ...VALID, GATEWAY_PORT: '0x10' })).toEqual(['GATEWAY_PORT must be a port number']);
    expect(problems('gateway', { ...VALID, GATEWAY_PORT: '1e3' })).toEqual(['GATEWAY_PORT must be a port number']);
    expect(problems('gateway', { ...VALID, PUBLIC_URL: 'https://sso.example.test/?a=1' })[0]).toMatch(/no query or fragment/);
    expect(problems('auth', { ...VALID, LOG_LEVEL: 'loud' })).toEqual(['LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent']);
    expect(problems('gateway', { ...VALID, GATEWAY_PORT: '70000' })).toEqual(['GATEWAY_PORT must be between 1 and 65535']);
    expect(problems('gateway', { ...VALID, GATEWAY_PORT: 'abc' })).toEqual(['GATEWAY_PORT must be a port number']);
    expect(problems('gateway', { ...VALID, PUBLIC_URL: 'not a url' })).toEqual(['PUBLIC_URL must be a http(s) URL (http: or https: with a host, no query or fragment)']);
    expect(problems('auth', { ...VALID, LOG_LEVEL: 'loud' })[0]).toMatch(/^LOG_LEVEL /);
  });

  it('asks each service only for what it uses', () => {
    expect(problems('gateway', { ...VALID, SECRETS_KEY: undefined, ADMIN_TOKEN: undefined, MASTER_KEY: undefined })).toEqual([]);
    expect(problems('migrator', { DATABASE_URL: VALID.DATABASE_URL })).toEqual([]);
  });

  it('never throws anything but a ConfigError that names a variable', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...Object.keys(VALID), 'GATEWAY_PORT', 'HOST'), fc.string()), (env) => {
        for (const p of problems('gateway', env)) expect(p).toMatch(/^[A-Z_]+ /);
      }),
    );
  });
});

describe('durations', () => {
  it('parse the documented forms and refuse others with a message naming the variable', () => {
    const gw = parseConfig('gateway', { ...VALID, LOGIN_LOCK_WINDOW: '30s', LOGIN_LOCK_BASE: '500ms', LOGIN_LOCK_MAX: '2h', CROSSLOGIN_RECENT_AUTH: '0' });
    expect([gw.LOGIN_LOCK_WINDOW, gw.LOGIN_LOCK_BASE, gw.LOGIN_LOCK_MAX, gw.CROSSLOGIN_RECENT_AUTH]).toEqual([30_000, 500, 7_200_000, 0]);
    expect(parseConfig('gateway', VALID).LOGIN_LOCK_WINDOW).toBe(900_000);
    expect(problems('gateway', { ...VALID, LOGIN_LOCK_WINDOW: '15' })).toEqual([
      'LOGIN_LOCK_WINDOW must be a duration such as 500ms, 30s, 15m, 2h or 0',
    ]);
    expect(problems('gateway', { ...VALID, LOGIN_LOCK_THRESHOLD: '0' })).toEqual(['LOGIN_LOCK_THRESHOLD must be at least 1']);
  });
});

describe('SLAVE_URL_ALLOW_PRIVATE', () => {
  it('is false unless set to true, for the services that check slave URLs, and refuses other spellings', () => {
    expect(parseConfig('auth', VALID).SLAVE_URL_ALLOW_PRIVATE).toBe(false);
    expect(parseConfig('propagator', VALID).SLAVE_URL_ALLOW_PRIVATE).toBe(false);
    expect(parseConfig('auth', { ...VALID, SLAVE_URL_ALLOW_PRIVATE: 'true' }).SLAVE_URL_ALLOW_PRIVATE).toBe(true);
    expect(parseConfig('propagator', { ...VALID, SLAVE_URL_ALLOW_PRIVATE: 'true' }).SLAVE_URL_ALLOW_PRIVATE).toBe(true);
    expect(parseConfig('auth', { ...VALID, SLAVE_URL_ALLOW_PRIVATE: 'false' }).SLAVE_URL_ALLOW_PRIVATE).toBe(false);
    // Empty counts as unset (as for every variable): the default, false.
    expect(parseConfig('auth', { ...VALID, SLAVE_URL_ALLOW_PRIVATE: '' }).SLAVE_URL_ALLOW_PRIVATE).toBe(false);
    for (const value of ['yes', '1', 'TRUE', ' true', 'on']) {
      expect(problems('auth', { ...VALID, SLAVE_URL_ALLOW_PRIVATE: value })).toEqual(['SLAVE_URL_ALLOW_PRIVATE must be one of true, false']);
    }
    // Neither the gateway nor admin connects to slaves: they do not read it.
    expect('SLAVE_URL_ALLOW_PRIVATE' in parseConfig('gateway', { ...VALID, SLAVE_URL_ALLOW_PRIVATE: 'true' })).toBe(false);
    expect('SLAVE_URL_ALLOW_PRIVATE' in parseConfig('admin', { ...VALID, SLAVE_URL_ALLOW_PRIVATE: 'true' })).toBe(false);
  });
});
