import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * Static checks of the container setup: docker-compose.yml through `docker-compose config` (no
 * Docker engine needed), and docker/healthcheck.js against a stub HTTP server.
 */

const ROOT = resolve(__dirname, '../..');
const COMPOSE_FILE = join(ROOT, 'docker-compose.yml');
const HEALTHCHECK = join(ROOT, 'docker/healthcheck.js');

/** Every variable docker-compose.yml requires, with values the services would accept. */
const REQUIRED: Record<string, string> = {
  MASTER_KEY: 'compose-master-key-0123456789abcdef0123',
  SECRETS_KEY: 'compose-secrets-key-0123456789abcdef012',
  ADMIN_TOKEN: 'compose-admin-token-0123456789abcdef012',
  INTERNAL_TOKEN: 'compose-internal-token-0123456789abcdef',
  POSTGRES_PASSWORD: 'compose0123456789abcdef',
};

const APPS = ['gateway', 'auth', 'admin', 'propagator'] as const;

/**
 * The environment each service receives: exactly these variables, so that a secret reaches only
 * the services that use it.
 */
const EXPECTED_ENV: Record<string, string[]> = {
  migrate: ['NODE_ENV', 'LOG_LEVEL', 'DATABASE_URL'],
  gateway: ['NODE_ENV', 'HOST', 'LOG_LEVEL', 'REDIS_URL', 'SERVICE', 'DATABASE_URL', 'PUBLIC_URL', 'INTERNAL_TOKEN', 'AUTH_URL', 'METRICS_TOKEN'],
  auth: ['NODE_ENV', 'HOST', 'LOG_LEVEL', 'REDIS_URL', 'SERVICE', 'DATABASE_URL', 'PUBLIC_URL', 'MASTER_KEY', 'SECRETS_KEY', 'INTERNAL_TOKEN', 'SLAVE_URL_ALLOW_PRIVATE'],
  admin: ['NODE_ENV', 'HOST', 'LOG_LEVEL', 'REDIS_URL', 'SERVICE', 'DATABASE_URL', 'ADMIN_TOKEN', 'INTERNAL_TOKEN', 'AUTH_URL', 'PROPAGATOR_URL', 'METRICS_TOKEN'],
  propagator: ['NODE_ENV', 'HOST', 'LOG_LEVEL', 'REDIS_URL', 'SERVICE', 'DATABASE_URL', 'SECRETS_KEY', 'INTERNAL_TOKEN', 'AUTH_URL', 'SLAVE_URL_ALLOW_PRIVATE'],
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

  it('is valid when every required variable is set', async () => {
    const r = await compose(['config', '-q'], REQUIRED);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  }, 60_000);

  it.each(Object.keys(REQUIRED))('refuses to start without %s, saying to set it', async (name) => {
    const unset = await compose(['config', '-q'], { ...REQUIRED, [name]: undefined });
    expect(unset.status).not.toBe(0);
    expect(unset.stderr).toContain(`set ${name} in .env`);

    const empty = await compose(['config', '-q'], { ...REQUIRED, [name]: '' });
    expect(empty.status).not.toBe(0);
    expect(empty.stderr).toContain(`set ${name} in .env`);
  }, 60_000);

  describe('resolved configuration', () => {
    let services: Record<string, string>;

    beforeAll(async () => {
      const r = await compose(['config'], REQUIRED);
      expect(r.status).toBe(0);
      services = serviceBlocks(r.stdout);
    }, 180_000);

    it('has the stores, the one-shot migration and the four services', () => {
      expect(Object.keys(services).sort()).toEqual(['admin', 'auth', 'gateway', 'migrate', 'postgres', 'propagator', 'redis']);
    });

    it('publishes only the gateway (3000) and the admin API (3002, on loopback)', () => {
      const publishing = Object.keys(services).filter((s) => section(services[s], 'ports') !== '');
      expect(publishing.sort()).toEqual(['admin', 'gateway']);
      // Short (`3000:3000/tcp`) or long (`published:` / `target:`) form, depending on the port syntax.
      const publishes = (block: string, port: number) =>
        new RegExp(`:${port}:${port}\\b|published: ['"]?${port}['"]?\\n\\s+target: ${port}\\b`).test(section(block, 'ports'));
      expect(publishes(services['gateway'], 3000)).toBe(true);
      expect(publishes(services['admin'], 3002)).toBe(true);
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

    it('gives each service only the variables it uses', () => {
      for (const [service, keys] of Object.entries(EXPECTED_ENV)) {
        expect([service, Object.keys(environment(services[service])).sort()]).toEqual([service, [...keys].sort()]);
      }
      const env = environment(services['auth']);
      expect(env['MASTER_KEY']).toBe(REQUIRED['MASTER_KEY']);
      expect(env['DATABASE_URL']).toBe(`postgres://switchboard:${REQUIRED['POSTGRES_PASSWORD']}@postgres:5432/switchboard`);
      expect(env['REDIS_URL']).toBe('redis://redis:6379');
      expect(environment(services['gateway'])['AUTH_URL']).toBe('http://auth:3001');
      expect(environment(services['admin'])['AUTH_URL']).toBe('http://auth:3001');
      // The outbound address rule is on unless the operator lifts it.
      expect(environment(services['auth'])['SLAVE_URL_ALLOW_PRIVATE']).toBe('false');
      expect(environment(services['propagator'])['SLAVE_URL_ALLOW_PRIVATE']).toBe('false');
      expect(environment(services['postgres'])['POSTGRES_PASSWORD']).toBe(REQUIRED['POSTGRES_PASSWORD']);
    });

    it('defaults PUBLIC_URL to http://localhost:3000 and lets it be overridden', async () => {
      expect(environment(services['gateway'])['PUBLIC_URL']).toBe('http://localhost:3000');
      expect(environment(services['auth'])['PUBLIC_URL']).toBe('http://localhost:3000');
      const r = await compose(['config'], { ...REQUIRED, PUBLIC_URL: 'https://sso.example.org' });
      expect(r.status).toBe(0);
      expect(environment(serviceBlocks(r.stdout)['gateway'])['PUBLIC_URL']).toBe('https://sso.example.org');
    }, 60_000);
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
