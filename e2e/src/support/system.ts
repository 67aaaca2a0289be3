import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { parseConfig, SwitchboardConfig } from '@switchboard/config';
import type { Clock } from '@switchboard/identity';
import { createServiceApp, listen } from '@switchboard/runtime';
import { createTestDatabase, createTestRedis, freePort, LogCapture, TestDatabase, TestRedis } from '@switchboard/testing';
import { AdminModule, adminAppOptions } from '@switchboard/app-admin';
import { AuthModule } from '@switchboard/app-auth';
import { GatewayModule } from '@switchboard/app-gateway';
import { PropagatorModule } from '@switchboard/app-propagator';

export const MASTER_KEY = '0123456789abcdef0123456789abcdef';
export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef0123';

export interface System {
  db: TestDatabase;
  redis: TestRedis;
  logs: LogCapture;
  urls: { gateway: string; auth: string; admin: string; propagator: string };
  apps: Record<'gateway' | 'auth' | 'admin' | 'propagator', NestFastifyApplication>;
  config: SwitchboardConfig;
  /** The environment the services were configured from (to start another process like them). */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * The four services composed in one process, each a real Nest app on its own loopback port, against
 * a fresh PostgreSQL database and a private Redis logical database. Every log line is captured.
 */
export async function startSystem(overrides: Partial<Record<string, string>> = {}, options: { clock?: Clock; propagatorClock?: Clock; withoutPropagator?: boolean; adminAuthFailLimit?: number } = {}): Promise<System> {
  const db = await createTestDatabase();
  const redis = await createTestRedis();
  const logs = new LogCapture();
  // The gateway's port is chosen first: PUBLIC_URL (continue URLs, allowed returnTo) must name it.
  const gatewayPort = await freePort();
  // The propagator's port too: admin asks it for retries (PROPAGATOR_URL).
  const propagatorPort = await freePort();
  const env: Record<string, string | undefined> = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    HOST: '127.0.0.1',
    DATABASE_URL: db.url,
    REDIS_URL: redis.url,
    PUBLIC_URL: `http://127.0.0.1:${gatewayPort}`,
    MASTER_KEY,
    SECRETS_KEY: 'test-secrets-key-0123456789abcdef0123456789',
    ADMIN_TOKEN,
    INTERNAL_TOKEN: 'test-internal-token-0123456789abcdef012',
    PROPAGATOR_URL: `http://127.0.0.1:${propagatorPort}`,
    // Propagation on a test time scale: four quick attempts, repairs every second.
    PROPAGATION_RETRY_SCHEDULE: '0,200ms,400ms,800ms',
    PROPAGATION_REPAIR_INTERVAL: '1s',
    PROPAGATION_TIMEOUT: '2s',
    // Test slaves listen on 127.0.0.1: lift the outbound address rule (tests of the rule pass 'false').
    SLAVE_URL_ALLOW_PRIVATE: 'true',
    ...overrides,
  };
  const apps = {} as System['apps'];
  const urls = {} as System['urls'];
  const started: NestFastifyApplication[] = [];
  const start = async (name: keyof System['apps'], module: Parameters<typeof createServiceApp>[0], port = 0) => {
    // As the services' main.ts do: the public services believe X-Forwarded-For from TRUST_PROXY; the
    // admin has its documents and queue dashboard, behind its authentication.
    const appOptions = name === 'admin' ? adminAppOptions(parseConfig('admin', env)) : { trustProxy: name === 'gateway' ? parseConfig(name, env).TRUST_PROXY : undefined };
    const app = await createServiceApp(module, appOptions);
    started.push(app);
    apps[name] = app;
    urls[name] = await listen(app, port, '127.0.0.1');
  };
  try {
    await start('auth', AuthModule.forRoot(parseConfig('auth', env), { logStream: logs, clock: options.clock }));
    env['AUTH_URL'] = urls.auth;
    await start('gateway', GatewayModule.forRoot(parseConfig('gateway', env), { logStream: logs, clock: options.clock }), gatewayPort);
    await start('admin', AdminModule.forRoot(parseConfig('admin', env), { logStream: logs, adminAuthFailLimit: options.adminAuthFailLimit }));
    if (!options.withoutPropagator) await start('propagator', PropagatorModule.forRoot(parseConfig('propagator', env), { logStream: logs, clock: options.propagatorClock }), propagatorPort);
  } catch (err) {
    for (const app of started.reverse()) await app.close().catch(() => undefined);
    await redis.close();
    await db.drop();
    throw err;
  }
  return {
    db,
    redis,
    logs,
    urls,
    apps,
    config: parseConfig('auth', env) as unknown as SwitchboardConfig,
    env: env as Record<string, string>,
    stop: async () => {
      for (const app of started.reverse()) await app.close();
      await redis.close();
      await db.drop();
    },
  };
}

/**
 * The admin API of a system started later (in `beforeAll`): `admin(path, method?, body?, token?)`
 * sends `body` as JSON with `Authorization: Bearer <token>` (the bootstrap ADMIN_TOKEN by default,
 * none when `token` is '').
 */
export function adminApi(system: () => System) {
  return (path: string, method = 'GET', body?: unknown, token = ADMIN_TOKEN) =>
    http(system().urls.admin + path, {
      method,
      body: body === undefined ? undefined : JSON.stringify(body),
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    });
}

/** GET or POST to a service; returns status, headers and the raw body text. */
export async function http(
  url: string,
  init: { method?: string; body?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; text: string; json: () => any }> {
  const res = await fetch(url, {
    method: init.method ?? 'GET',
    body: init.body,
    headers: init.body !== undefined ? { 'content-type': 'application/x-www-form-urlencoded', ...init.headers } : init.headers,
    redirect: 'manual',
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
}
