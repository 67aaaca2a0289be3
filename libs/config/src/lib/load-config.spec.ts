import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { ConfigError, parseConfig } from './load-config';
import { ENV_RULES, SECRET_KEYS, SERVICE_KEYS } from './schema';

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
    // A secret may come from a file instead: the line says so.
    expect(problems('auth', { ...VALID, MASTER_KEY: undefined })).toEqual(['MASTER_KEY is required (or MASTER_KEY_FILE)']);
    expect(problems('auth', { ...VALID, DATABASE_URL: '' })).toEqual(['DATABASE_URL is required (or DATABASE_URL_FILE)']);
    expect(problems('gateway', { ...VALID, PUBLIC_URL: '' })).toEqual(['PUBLIC_URL is required']);
    expect(problems('admin', { ...VALID, ADMIN_TOKEN: undefined, REDIS_URL: undefined }).sort()).toEqual([
      'ADMIN_TOKEN is required (or ADMIN_TOKEN_FILE)',
      'REDIS_URL is required (or REDIS_URL_FILE)',
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

describe('<SECRET>_FILE', () => {
  let dir: string;
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'switchboard-config-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads each secret from its file, the trailing line break removed', () => {
    const env: Record<string, string | undefined> = { ...VALID, METRICS_TOKEN: undefined };
    const values: Record<string, string> = {};
    for (const key of SECRET_KEYS) {
      const value = key === 'DATABASE_URL' ? 'postgres://sb@db.example.test:5432/sb' : key === 'REDIS_URL' ? 'redis://:pw@redis.example.test:6379/2' : `${key.toLowerCase()}-from-a-file-0123456789abcdef`;
      values[key] = value;
      env[key] = undefined;
      env[`${key}_FILE`] = file(key, `${value}${key === 'MASTER_KEY' ? '\r\n' : '\n'}`);
    }
    const auth = parseConfig('auth', env);
    expect(auth.MASTER_KEY).toBe(values['MASTER_KEY']);
    expect(auth.SECRETS_KEY).toBe(values['SECRETS_KEY']);
    expect(auth.INTERNAL_TOKEN).toBe(values['INTERNAL_TOKEN']);
    expect(auth.REDIS_URL).toBe(values['REDIS_URL']);
    // DATABASE_PASSWORD (from its file too) replaces the URL's password, percent-encoded.
    expect(new URL(auth.DATABASE_URL).password).toBe(encodeURIComponent(values['DATABASE_PASSWORD']));
    const admin = parseConfig('admin', env);
    expect(admin.ADMIN_TOKEN).toBe(values['ADMIN_TOKEN']);
    expect(admin.METRICS_TOKEN).toBe(values['METRICS_TOKEN']);
    expect(parseConfig('gateway', env).METRICS_TOKEN).toBe(values['METRICS_TOKEN']);
  });

  it('keeps white space inside the value and refuses it around (the secret rule), only line breaks at the end are removed', () => {
    expect(parseConfig('auth', { ...VALID, MASTER_KEY: undefined, MASTER_KEY_FILE: file('mk1', `${'k'.repeat(16)} ${'k'.repeat(16)}\n\n`) }).MASTER_KEY).toBe(`${'k'.repeat(16)} ${'k'.repeat(16)}`);
    expect(problems('auth', { ...VALID, MASTER_KEY: undefined, MASTER_KEY_FILE: file('mk2', `${'k'.repeat(32)} \n`) })).toEqual(['MASTER_KEY must not start or end with white space']);
    expect(problems('auth', { ...VALID, MASTER_KEY: undefined, MASTER_KEY_FILE: file('mk3', 'short\n') })).toEqual(['MASTER_KEY must be at least 32 characters']);
    expect(problems('auth', { ...VALID, MASTER_KEY: undefined, MASTER_KEY_FILE: file('mk4', '\n') })).toEqual(['MASTER_KEY is required (or MASTER_KEY_FILE)']);
  });

  it('refuses a secret set both ways, naming the variable', () => {
    expect(problems('auth', { ...VALID, MASTER_KEY_FILE: file('both', 'x'.repeat(40)) })).toEqual(['MASTER_KEY and MASTER_KEY_FILE are both set: set only one']);
    // An empty variable counts as unset (compose passes `MASTER_KEY: ''` when only the file is used).
    expect(parseConfig('auth', { ...VALID, MASTER_KEY: '', MASTER_KEY_FILE: file('mk5', 'y'.repeat(40)) }).MASTER_KEY).toBe('y'.repeat(40));
  });

  it('reports a file that cannot be read, naming the variable and the path', () => {
    const missing = join(dir, 'nope');
    expect(problems('admin', { ...VALID, ADMIN_TOKEN: undefined, ADMIN_TOKEN_FILE: missing })).toEqual([`ADMIN_TOKEN_FILE cannot be read (${missing}: no such file)`]);
    expect(problems('admin', { ...VALID, ADMIN_TOKEN: undefined, ADMIN_TOKEN_FILE: dir })).toEqual([`ADMIN_TOKEN_FILE cannot be read (${dir}: is a directory)`]);
    if (process.getuid?.() !== 0) {
      const locked = file('locked', 'z'.repeat(40));
      chmodSync(locked, 0o000);
      expect(problems('admin', { ...VALID, ADMIN_TOKEN: undefined, ADMIN_TOKEN_FILE: locked })).toEqual([`ADMIN_TOKEN_FILE cannot be read (${locked}: permission denied)`]);
    }
    // Other problems are still reported alongside.
    expect(problems('admin', { ...VALID, ADMIN_TOKEN: undefined, ADMIN_TOKEN_FILE: missing, REDIS_URL: undefined }).sort()).toEqual([
      `ADMIN_TOKEN_FILE cannot be read (${missing}: no such file)`,
      'REDIS_URL is required (or REDIS_URL_FILE)',
    ]);
  });

  it('ignores <NAME>_FILE for a variable that is no secret, and for a secret the service does not use', () => {
    expect(parseConfig('gateway', { ...VALID, PUBLIC_URL: 'https://a.example.test', PUBLIC_URL_FILE: join(dir, 'nope') }).PUBLIC_URL).toBe('https://a.example.test');
    expect(problems('gateway', { ...VALID, MASTER_KEY_FILE: join(dir, 'nope') })).toEqual([]);
  });
});

describe('DATABASE_PASSWORD', () => {
  it('replaces the password of DATABASE_URL, any character allowed', () => {
    const url = parseConfig('migrator', { DATABASE_URL: 'postgres://sb:old@db:5432/sb', DATABASE_PASSWORD: 'p@ss:w/rd?#%' }).DATABASE_URL;
    expect(decodeURIComponent(new URL(url).password)).toBe('p@ss:w/rd?#%');
    expect(new URL(url).username).toBe('sb');
    expect(new URL(url).pathname).toBe('/sb');
    expect(parseConfig('migrator', { DATABASE_URL: 'postgres://sb@db:5432/sb' }).DATABASE_URL).toBe('postgres://sb@db:5432/sb');
  });
});

describe('TRUST_PROXY', () => {
  it('is empty (no proxy believed) by default, for the public services only', () => {
    expect(parseConfig('gateway', VALID).TRUST_PROXY).toEqual([]);
    expect(parseConfig('admin', VALID).TRUST_PROXY).toEqual([]);
    expect(SERVICE_KEYS.auth as readonly string[]).not.toContain('TRUST_PROXY');
    expect(SERVICE_KEYS.propagator as readonly string[]).not.toContain('TRUST_PROXY');
  });

  it('takes addresses, CIDRs and the range names, comma-separated', () => {
    expect(parseConfig('gateway', { ...VALID, TRUST_PROXY: '127.0.0.1, 10.0.0.0/8,::1,fd00::/8 ,loopback,uniquelocal,linklocal' }).TRUST_PROXY).toEqual([
      '127.0.0.1',
      '10.0.0.0/8',
      '::1',
      'fd00::/8',
      'loopback',
      'uniquelocal',
      'linklocal',
    ]);
  });

  it('refuses anything else, naming the entries', () => {
    for (const value of ['true', '*', '10.0.0.0/33', 'proxy.example.test', '10.1', '0x7f.0.0.1', '1.2.3.4/8/1']) {
      const [problem] = problems('gateway', { ...VALID, TRUST_PROXY: value });
      expect(problem).toBe(`TRUST_PROXY must be comma-separated IP addresses or CIDRs (or loopback, linklocal, uniquelocal); not ${value}`);
    }
  });
});

describe('.env.example', () => {
  it('documents every variable of the schema', () => {
    const text = readFileSync(join(__dirname, '../../../../.env.example'), 'utf8');
    const missing = Object.keys(ENV_RULES).filter((key) => !new RegExp(`^(# )?${key}=`, 'm').test(text));
    expect(missing).toEqual([]);
  });
});
