import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ENV_RULES, parseConfig, SECRET_KEYS, SERVICE_KEYS, ServiceName } from '@switchboard/config';

/**
 * Static checks of the container setup: docker-compose.yml through `docker-compose config` (no
 * Docker engine needed), and docker/healthcheck.js against a stub HTTP server.
 */

const ROOT = resolve(__dirname, '../..');
const COMPOSE_FILE = join(ROOT, 'docker-compose.yml');
const HEALTHCHECK = join(ROOT, 'docker/healthcheck.js');

/** The one variable docker-compose.yml requires (secrets may come from files, so compose cannot). */
const REQUIRED: Record<string, string> = {
  PUBLIC_URL: 'https://sso.example.org',
};

/** The secrets, as an operator's .env gives them. */
const SECRETS: Record<string, string> = {
  MASTER_KEY: 'compose-master-key-0123456789abcdef0123',
  SECRETS_KEY: 'compose-secrets-key-0123456789abcdef012',
  ADMIN_TOKEN: 'compose-admin-token-0123456789abcdef012',
  INTERNAL_TOKEN: 'compose-internal-token-0123456789abcdef',
  POSTGRES_PASSWORD: 'compose0123456789abcdef',
};

const APPS = ['gateway', 'auth', 'admin', 'propagator'] as const;
const SCHEMA_SERVICE: Record<string, ServiceName> = { migrate: 'migrator', gateway: 'gateway', auth: 'auth', admin: 'admin', propagator: 'propagator' };

/**
 * What compose decides (the topology): the same whatever .env says. Every other variable of the
 * schema a service reads is the operator's, passed through.
 */
const TOPOLOGY: Record<string, string> = {
  NODE_ENV: 'production',
  HOST: '0.0.0.0',
  REDIS_URL: 'redis://redis:6379',
  DATABASE_URL: 'postgres://switchboard@postgres:5432/switchboard',
  AUTH_URL: 'http://auth:3001',
  PROPAGATOR_URL: 'http://propagator:3003',
  GATEWAY_PORT: '3000',
  AUTH_PORT: '3001',
  ADMIN_PORT: '3002',
  PROPAGATOR_PORT: '3003',
};

/** The compose variable that carries a schema variable (the database password is POSTGRES_PASSWORD's). */
const composeName = (key: string) => (key === 'DATABASE_PASSWORD' ? 'POSTGRES_PASSWORD' : key);

/**
 * The environment each service receives, from the schema: every variable it reads, `<NAME>_FILE` for
 * each secret compose does not decide, and SERVICE (which port the health check probes).
 */
function expectedEnv(service: string): string[] {
  const keys = [...SERVICE_KEYS[SCHEMA_SERVICE[service]]] as string[];
  const files = keys.filter((k) => (SECRET_KEYS as readonly string[]).includes(k) && !(k in TOPOLOGY)).map((k) => `${k}_FILE`);
  return [...keys, ...files, ...(service === 'migrate' ? [] : ['SERVICE'])].filter((k) => service !== 'migrate' || k !== 'HOST');
}

/** A valid value, different from the default, for every variable an operator may set. */
const OPERATOR_VALUES: Record<string, string> = {
  ...SECRETS,
  LOG_LEVEL: 'warn',
  METRICS_TOKEN: 'compose-metrics-token-0123456789abcdef0',
  TRUST_PROXY: '10.0.0.0/8,uniquelocal',
  LOGIN_LOCK_THRESHOLD: '7',
  LOGIN_LOCK_WINDOW: '20m',
  LOGIN_LOCK_BASE: '2m',
  LOGIN_LOCK_MAX: '30m',
  LOGIN_CALLER_LIMIT: '123',
  ADMIN_AUTH_FAIL_LIMIT: '17',
  CROSSLOGIN_RECENT_AUTH: '3m',
  API_CLIENT_LIMIT: '321',
  API_TOKEN_IDLE: '30d',
  PROPAGATION_RETRY_SCHEDULE: '0,10s,1m',
  PROPAGATION_TIMEOUT: '20s',
  PROPAGATION_CONCURRENCY: '8',
  PROPAGATION_AUTO_DISABLE_AFTER: '2d',
  PROPAGATION_REPAIR_INTERVAL: '1m',
  SLAVE_URL_ALLOW_PRIVATE: 'true',
  // What compose decides, set in .env too (as `npm start`'s .env may): no effect on the containers.
  HOST: '127.0.0.1',
  GATEWAY_PORT: '4000',
  AUTH_PORT: '4001',
  ADMIN_PORT: '4002',
  PROPAGATOR_PORT: '4003',
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/switchboard',
  REDIS_URL: 'redis://127.0.0.1:6379/0',
  AUTH_URL: 'http://127.0.0.1:3001',
  PROPAGATOR_URL: 'http://127.0.0.1:3003',
  NODE_ENV: 'development',
};

const ci = !!process.env['CI'] && process.env['CI'] !== 'false';
const composeAvailable = spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).status === 0;
if (!composeAvailable && !ci) {
  console.warn('compose.spec: docker-compose is not installed, skipping the docker-compose.yml checks');
}
const describeCompose = composeAvailable || ci ? describe : describe.skip;

interface Result {
  status: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], env: Record<string, string | undefined>): Promise<Result> {
  return new Promise((resolvePromise) => {
    execFile(file, args, { cwd: ROOT, env, encoding: 'utf8', timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolvePromise({ status: code, stdout, stderr });
    });
  });
}

/**
 * The `services:` section of `docker-compose config` output, one text block per service. That
 * output is normalised YAML (block style, two-space indentation, sorted keys), so plain text
 * splitting is reliable and no YAML parser is needed.
 */
function serviceBlocks(yaml: string): Record<string, string> {
  const blocks: Record<string, string> = {};
  let inServices = false;
  let current: string | undefined;
  for (const line of yaml.split('\n')) {
    if (/^\S/.test(line)) {
      inServices = line === 'services:';
      current = undefined;
      continue;
    }
    if (!inServices) continue;
    const name = /^ {2}([^\s:]+):\s*$/.exec(line);
    if (name) blocks[(current = name[1])] = '';
    else if (current) blocks[current] += line + '\n';
  }
  return blocks;
}

/** The lines under `key:` in a service block (empty when the service has no such key). */
function section(block: string, key: string): string {
  const lines = block.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`    ${key}:`));
  if (start < 0) return '';
  const out = [lines[start]];
  for (const line of lines.slice(start + 1)) {
    if (!/^ {5}/.test(line) && !/^ {4}- /.test(line)) break;
    out.push(line);
  }
  return out.join('\n');
}

/** `KEY: value` pairs of a service's `environment:` section. */
function environment(block: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of section(block, 'environment').split('\n').slice(1)) {
    const m = /^ {6}([A-Z_][A-Z0-9_]*): (.*)$/.exec(line);
    if (m) env[m[1]] = m[2].replace(/^(['"])(.*)\1$/, '$2');
  }
  return env;
}

describeCompose('docker-compose.yml (docker-compose config)', () => {
  if (!composeAvailable) {
    it('needs docker-compose', () => {
      throw new Error(
        'docker-compose is not installed, so docker-compose.yml cannot be validated: install Debian\'s docker-compose (apt-get install docker-compose)',
      );
    });
    return;
  }

  let tmp: string;
  let emptyEnvFile: string;

  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'switchboard-compose-'));
    emptyEnvFile = join(tmp, 'empty.env');
    writeFileSync(emptyEnvFile, '');
  });
  afterAll(() => {
    rmSync(tmp, { recursive: true, force: true });
  });

  /**
   * Runs docker-compose with exactly `vars` as its variables: neither the caller's environment nor a
   * developer's .env next to docker-compose.yml (replaced by an empty --env-file) can fill them in.
   */
  const compose = (args: string[], vars: Record<string, string | undefined>) =>
    run('docker-compose', ['--env-file', emptyEnvFile, '-f', COMPOSE_FILE, ...args], {
      PATH: process.env['PATH'],
      HOME: process.env['HOME'],
      ...vars,
    });

  it('is valid when PUBLIC_URL is set, with or without the secrets', async () => {
    for (const vars of [REQUIRED, { ...REQUIRED, ...SECRETS }]) {
      const r = await compose(['config', '-q'], vars);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    }
  }, 60_000);

  it('refuses to start without PUBLIC_URL (no silent localhost default), saying to set it', async () => {
    for (const value of [undefined, '']) {
      const r = await compose(['config', '-q'], { ...SECRETS, PUBLIC_URL: value });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain('set PUBLIC_URL in .env');
    }
  }, 60_000);

  describe('resolved configuration', () => {
    let services: Record<string, string>;

    beforeAll(async () => {
      const r = await compose(['config'], { ...REQUIRED, ...SECRETS });
      expect(r.status).toBe(0);
      services = serviceBlocks(r.stdout);
    }, 180_000);

    it('has the stores, the one-shot migration, the four services and the optional proxy', () => {
      expect(Object.keys(services).sort()).toEqual(['admin', 'auth', 'caddy', 'gateway', 'migrate', 'postgres', 'propagator', 'redis']);
      expect(section(services['caddy'], 'profiles')).toContain('- proxy');
      for (const s of Object.keys(services)) if (s !== 'caddy') expect(section(services[s], 'profiles')).toBe('');
    });

    it('publishes only the gateway (3000), the admin API (3002, on loopback) and the proxy (80, 443)', () => {
      const publishing = Object.keys(services).filter((s) => section(services[s], 'ports') !== '');
      expect(publishing.sort()).toEqual(['admin', 'caddy', 'gateway']);
      // Short (`3000:3000/tcp`) or long (`published:` / `target:`) form, depending on the port syntax.
      const publishes = (block: string, port: number) =>
        new RegExp(`:${port}:${port}\\b|published: ['"]?${port}['"]?\\n\\s+target: ${port}\\b`).test(section(block, 'ports'));
      expect(publishes(services['gateway'], 3000)).toBe(true);
      expect(publishes(services['admin'], 3002)).toBe(true);
      expect(publishes(services['caddy'], 443)).toBe(true);
      expect(section(services['admin'], 'ports')).toContain('127.0.0.1');
      for (const s of Object.keys(services)) expect(section(services[s], 'expose')).toBe('');
    });

    it('runs Redis with AOF persistence and without eviction', () => {
      const command = section(services['redis'], 'command').replace(/\s+/g, ' ');
      expect(command).toContain('--appendonly yes');
      expect(command).toContain('--appendfsync everysec');
      expect(command).toContain('--maxmemory-policy noeviction');
      expect(section(services['redis'], 'volumes')).toMatch(/:\/data\b/);
      expect(section(services['postgres'], 'volumes')).toContain(':/var/lib/postgresql/data');
    });

    it('health-checks PostgreSQL and Redis', () => {
      expect(section(services['postgres'], 'healthcheck')).toContain('pg_isready');
      expect(section(services['redis'], 'healthcheck')).toContain('redis-cli ping');
    });

    it('starts each service only once the migration completed and its stores (and auth) are healthy', () => {
      const dependsOn = (service: string, on: string, condition: string) =>
        new RegExp(` {6}${on}:\\n {8}condition: ${condition}\\b`).test(section(services[service], 'depends_on'));
      expect(dependsOn('migrate', 'postgres', 'service_healthy')).toBe(true);
      for (const app of APPS) expect(dependsOn(app, 'migrate', 'service_completed_successfully')).toBe(true);
      for (const app of ['gateway', 'auth', 'admin', 'propagator']) {
        expect(dependsOn(app, 'postgres', 'service_healthy')).toBe(true);
        expect(dependsOn(app, 'redis', 'service_healthy')).toBe(true);
      }
      expect(dependsOn('gateway', 'auth', 'service_healthy')).toBe(true);
      expect(dependsOn('admin', 'auth', 'service_healthy')).toBe(true);
      expect(dependsOn('caddy', 'gateway', 'service_healthy')).toBe(true);
    });

    it('runs every app from the one image, hardened, restarted and health-checked', () => {
      for (const name of [...APPS, 'migrate']) {
        const block = services[name];
        const entry = name === 'migrate' ? 'migrator' : name;
        expect(section(block, 'build')).toContain('dockerfile: docker/Dockerfile');
        expect(section(block, 'image')).toBe('    image: switchboard:local');
        expect(section(block, 'command')).toContain(`- dist/apps/${entry}/main.js`);
        expect(section(block, 'cap_drop')).toContain('- ALL');
        expect(section(block, 'security_opt')).toContain('- no-new-privileges:true');
      }
      for (const app of APPS) {
        expect(section(services[app], 'restart')).toBe('    restart: unless-stopped');
        expect(section(services[app], 'healthcheck')).toContain('docker/healthcheck.js');
        expect(environment(services[app])['SERVICE']).toBe(app);
        expect(environment(services[app])['HOST']).toBe('0.0.0.0');
      }
      // The one-shot migration is neither restarted nor health-checked.
      expect(section(services['migrate'], 'restart')).toMatch(/restart: ['"]?no['"]?$/);
      expect(section(services['migrate'], 'healthcheck')).toContain('NONE');
    });

    it('gives each service every variable of the schema it reads, and no other (a secret reaches only its users)', () => {
      for (const service of Object.keys(SCHEMA_SERVICE)) {
        expect([service, Object.keys(environment(services[service])).sort()]).toEqual([service, expectedEnv(service).sort()]);
      }
      // Every variable of the schema is read by some service, so reaches some container.
      const reached = new Set(Object.keys(SCHEMA_SERVICE).flatMap((s) => Object.keys(environment(services[s]))));
      expect(Object.keys(ENV_RULES).filter((k) => !reached.has(k))).toEqual([]);
      const env = environment(services['auth']);
      expect(env['MASTER_KEY']).toBe(SECRETS['MASTER_KEY']);
      expect(env['DATABASE_URL']).toBe('postgres://switchboard@postgres:5432/switchboard');
      expect(env['DATABASE_PASSWORD']).toBe(SECRETS['POSTGRES_PASSWORD']);
      expect(env['REDIS_URL']).toBe('redis://redis:6379');
      expect(environment(services['gateway'])['AUTH_URL']).toBe('http://auth:3001');
      expect(environment(services['admin'])['AUTH_URL']).toBe('http://auth:3001');
      // The outbound address rule is on unless the operator lifts it.
      expect(environment(services['auth'])['SLAVE_URL_ALLOW_PRIVATE']).toBe('false');
      expect(environment(services['propagator'])['SLAVE_URL_ALLOW_PRIVATE']).toBe('false');
      expect(environment(services['postgres'])['POSTGRES_PASSWORD']).toBe(SECRETS['POSTGRES_PASSWORD']);
      expect(environment(services['gateway'])['PUBLIC_URL']).toBe(REQUIRED['PUBLIC_URL']);
      expect(environment(services['auth'])['PUBLIC_URL']).toBe(REQUIRED['PUBLIC_URL']);
    });

    it('no service has a fixed container name, so `--scale gateway=2 --scale propagator=2` is possible', () => {
      for (const s of Object.keys(services)) expect([s, section(services[s], 'container_name')]).toEqual([s, '']);
      expect(section(services['propagator'], 'ports')).toBe('');
    });
  });

  it('passes every setting in .env to the services that read it, and each service accepts its environment', async () => {
    // As an operator's .env: every variable of the schema set (compose reads .env as --env-file).
    const dotenv = join(tmp, 'operator.env');
    writeFileSync(dotenv, Object.entries({ ...REQUIRED, ...OPERATOR_VALUES }).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
    const r = await run('docker-compose', ['--env-file', dotenv, '-f', COMPOSE_FILE, 'config'], { PATH: process.env['PATH'], HOME: process.env['HOME'] });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const resolved = serviceBlocks(r.stdout);
    for (const [service, schemaName] of Object.entries(SCHEMA_SERVICE)) {
      const env = environment(resolved[service]);
      for (const key of SERVICE_KEYS[schemaName] as readonly string[]) {
        const want = key in TOPOLOGY ? TOPOLOGY[key] : key === 'PUBLIC_URL' ? REQUIRED['PUBLIC_URL'] : OPERATOR_VALUES[composeName(key)];
        expect([service, key, env[key]]).toEqual([service, key, want]);
      }
      // What the service itself makes of it: valid, with the operator's values.
      const config = parseConfig(schemaName, env) as Record<string, unknown>;
      expect([service, config['LOG_LEVEL']]).toEqual([service, 'warn']);
    }
    expect(parseConfig('gateway', environment(resolved['gateway'])).LOGIN_CALLER_LIMIT).toBe(123);
    expect(parseConfig('gateway', environment(resolved['gateway'])).TRUST_PROXY).toEqual(['10.0.0.0/8', 'uniquelocal']);
    expect(parseConfig('propagator', environment(resolved['propagator'])).PROPAGATION_RETRY_SCHEDULE).toEqual([0, 10_000, 60_000]);
    expect(parseConfig('auth', environment(resolved['auth'])).SLAVE_URL_ALLOW_PRIVATE).toBe(true);
    expect(new URL(parseConfig('auth', environment(resolved['auth'])).DATABASE_URL).password).toBe(SECRETS['POSTGRES_PASSWORD']);
    // The compose topology wins over npm start's settings in the same .env.
    expect(environment(resolved['gateway'])['GATEWAY_PORT']).toBe('3000');
    expect(environment(resolved['gateway'])['HOST']).toBe('0.0.0.0');
  }, 60_000);

  it('publishes the gateway on GATEWAY_PUBLISH: a port range lets `--scale gateway=2` publish each replica', async () => {
    const r = await compose(['config'], { ...REQUIRED, GATEWAY_PUBLISH: '127.0.0.1:3100-3109' });
    expect(r.status).toBe(0);
    const ports = section(serviceBlocks(r.stdout)['gateway'], 'ports');
    expect(ports).toMatch(/127\.0\.0\.1:3100-3109:3000|host_ip: 127\.0\.0\.1[\s\S]*published: ['"]?3100-3109/);
  }, 60_000);

  it('with docker/compose.secrets.yml, every secret comes from a mounted file and none from a variable', async () => {
    const r = await compose(['-f', join(ROOT, 'docker/compose.secrets.yml'), 'config'], REQUIRED);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const resolved = serviceBlocks(r.stdout);
    for (const service of [...APPS, 'migrate', 'postgres']) {
      const env = environment(resolved[service]);
      const mounted = section(resolved[service], 'secrets');
      const files = Object.entries(env).filter(([k, v]) => k.endsWith('_FILE') && v !== '');
      expect(files.length).toBeGreaterThan(0);
      for (const [key, path] of files) {
        // Each file variable names a secret the service mounts, and its value variable is empty.
        const name = /^\/run\/secrets\/([a-z_]+)$/.exec(path)?.[1];
        expect([service, key, mounted]).toEqual([service, key, expect.stringContaining(`source: ${name}`)]);
        expect([service, key, env[key.replace(/_FILE$/, '')]]).toEqual([service, key, '']);
      }
    }
    // Every secret a service reads (and compose does not decide) comes from a file.
    for (const app of APPS) {
      const env = environment(resolved[app]);
      const secrets = (SERVICE_KEYS[SCHEMA_SERVICE[app]] as readonly string[]).filter((k) => (SECRET_KEYS as readonly string[]).includes(k) && !(k in TOPOLOGY) && k !== 'METRICS_TOKEN');
      for (const key of secrets) expect([app, key, env[`${key}_FILE`]]).toEqual([app, key, expect.stringMatching(/^\/run\/secrets\//)]);
    }
  }, 60_000);

  const caddy = spawnSync('caddy', ['version'], { encoding: 'utf8' }).status === 0;
  (caddy ? it : it.skip)('docker/Caddyfile is a valid Caddy configuration (needs Debian\'s caddy)', async () => {
    for (const domain of [undefined, 'sso.example.org']) {
      const r = await run('caddy', ['validate', '--adapter', 'caddyfile', '--config', join(ROOT, 'docker/Caddyfile')], {
        PATH: process.env['PATH'],
        HOME: tmp,
        XDG_DATA_HOME: tmp,
        XDG_CONFIG_HOME: tmp,
        ...(domain ? { SWITCHBOARD_DOMAIN: domain } : {}),
      });
      expect([domain, r.status, (r.stdout + r.stderr).includes('Valid configuration')]).toEqual([domain, 0, true]);
    }
  }, 60_000);
});

describe('docker/Dockerfile', () => {
  it('builds and runs on the Node line the tests run on (.nvmrc)', () => {
    const dockerfile = readFileSync(join(ROOT, 'docker/Dockerfile'), 'utf8');
    const image = /^ARG NODE_IMAGE=node:(\d+)[\w.-]*$/m.exec(dockerfile)?.[1];
    const nvmrc = readFileSync(join(ROOT, '.nvmrc'), 'utf8').trim().replace(/^v/, '').split('.')[0];
    expect(image).toBe(nvmrc);
    expect(process.versions.node.split('.')[0]).toBe(nvmrc);
    // Every stage is built from that one argument.
    expect(dockerfile.match(/^FROM .*/gm)?.every((line) => line.startsWith('FROM ${NODE_IMAGE}'))).toBe(true);
  });
});

describe('docker/Dockerfile', () => {
  it('runs the services with the Node flags npm start passes (scripts/service-node-flags.cjs)', () => {
    const flags = require(join(ROOT, 'scripts/service-node-flags.cjs')) as string[];
    expect(flags).toContain('--max-old-space-size=512');
    const dockerfile = readFileSync(join(ROOT, 'docker/Dockerfile'), 'utf8');
    expect(/NODE_OPTIONS="([^"]*)"/.exec(dockerfile)?.[1]).toBe(flags.join(' '));
  });
});

describe('docker/healthcheck.js', () => {
  let server: Server;
  let port: number;
  let ready: number | 'hang' = 200;

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url !== '/health/ready') {
        res.writeHead(404).end();
      } else if (ready !== 'hang') {
        res.writeHead(ready, { 'content-type': 'application/json' }).end('{}');
      } // 'hang': never answer
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  }, 180_000);
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }, 180_000);

  const check = (env: Record<string, string>) =>
    run(process.execPath, [HEALTHCHECK], { PATH: process.env['PATH'], HEALTH_TIMEOUT_MS: '500', ...env });

  it('exits 0 when /health/ready answers 200', async () => {
    ready = 200;
    expect((await check({ HEALTH_PORT: String(port) })).status).toBe(0);
  }, 60_000);

  it('exits 1 when /health/ready answers 503', async () => {
    ready = 503;
    const r = await check({ HEALTH_PORT: String(port) });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('503');
  }, 60_000);

  it('exits 1 within its timeout when the service does not answer', async () => {
    ready = 'hang';
    const started = Date.now();
    const r = await check({ HEALTH_PORT: String(port) });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('no answer within 500 ms');
    expect(Date.now() - started).toBeLessThan(5000);
  }, 60_000);

  it('exits 1 when nothing listens on the port', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const freePort = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    expect((await check({ HEALTH_PORT: String(freePort) })).status).toBe(1);
  }, 60_000);

  it("finds the port from SERVICE and that service's port variable", async () => {
    ready = 200;
    expect((await check({ SERVICE: 'auth', AUTH_PORT: String(port) })).status).toBe(0);
    expect((await check({ SERVICE: 'propagator', PROPAGATOR_PORT: String(port) })).status).toBe(0);
    // HEALTH_PORT wins over SERVICE.
    expect((await check({ SERVICE: 'gateway', GATEWAY_PORT: '1', HEALTH_PORT: String(port) })).status).toBe(0);
  }, 60_000);

  it('fails clearly without a port to probe', async () => {
    const none = await check({});
    expect(none.status).toBe(1);
    expect(none.stderr).toContain('set HEALTH_PORT or SERVICE');
    const migrator = await check({ SERVICE: 'migrator' });
    expect(migrator.status).toBe(1);
    expect(migrator.stderr).toContain('SERVICE=migrator serves no health endpoint');
    expect((await check({ HEALTH_PORT: 'http' })).status).toBe(1);
  }, 60_000);
});
