import { createServer as createHttpServer, Server as HttpServer } from 'node:http';
import { AddressInfo, createConnection, createServer, Server, Socket } from 'node:net';
import { createTestDatabase, freePort, PrivateRedis, TestDatabase, waitFor } from '@switchboard/testing';
import { spawnAppFromSource } from './support/run-source';
import { System, startSystem } from './support/system';

/** The outage lines (OutageWatch, libs/runtime/src/lib/health.ts) among JSON log lines. */
function outageLines(text: string, dependency: string): { outage: string; msg: string; service?: string; downtimeMs?: number }[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('{') && l.includes('"outage"'))
    .map((l) => JSON.parse(l))
    .filter((l) => l.dependency === dependency);
}

/**
 * A TCP relay in front of the shared PostgreSQL that the test can cut (every connection dropped,
 * new ones refused) and restore: a PostgreSQL outage without touching the shared server.
 */
class CuttableRelay {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;

  async open(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = createConnection({ host: '127.0.0.1', port: 5432 });
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((r) => this.server!.listen(this.port, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => server?.close(r));
  }
}

describe('outages are logged once when they start and once when they end', () => {
  describe('admin started while Redis (and auth) are unreachable', () => {
    const redis = new PrivateRedis();
    let db: TestDatabase;
    let auth: HttpServer;
    let authReady = false;
    let app: ReturnType<typeof spawnAppFromSource> | undefined;

    beforeAll(async () => {
      db = await createTestDatabase();
      redis.port = await freePort(); // nothing listens there yet
      auth = createHttpServer((req, res) => res.writeHead(req.url === '/health/ready' && authReady ? 200 : 503).end('{}'));
      await new Promise<void>((r) => auth.listen(0, '127.0.0.1', r));
    }, 180_000);
    afterAll(async () => {
      if (app?.child.pid && app.child.exitCode === null) app.child.kill('SIGKILL');
      await redis.dispose();
      await new Promise((r) => auth.close(r));
      await db?.drop();
    }, 180_000);

    it('says Redis is unreachable and that it keeps retrying, then that it is back; the same for auth', async () => {
      app = spawnAppFromSource('admin', {
        DATABASE_URL: db.url,
        REDIS_URL: redis.url,
        ADMIN_TOKEN: 'outage-admin-token-0123456789abcdef0123',
        INTERNAL_TOKEN: 'outage-internal-token-0123456789abcdef01',
        AUTH_URL: `http://127.0.0.1:${(auth.address() as AddressInfo).port}`,
        ADMIN_PORT: String(await freePort()),
      });
      const out = app.output;
      // Each dependency is checked on its own (every 5 s from boot): wait for both lines.
      await waitFor(
        () => (outageLines(out(), 'redis').length > 0 && outageLines(out(), 'auth').length > 0) || app!.child.exitCode !== null,
        90_000,
        'admin to log that Redis and auth are unreachable',
      );
      const [start] = outageLines(out(), 'redis');
      expect(start.outage).toBe('start');
      expect(start.service).toBe('admin');
      expect(start.msg).toMatch(/^Redis is unreachable \(.+\); retrying, checked again every 5 s/);
      expect(out()).toContain('admin listening on');
      expect(outageLines(out(), 'auth')[0]?.msg).toMatch(/^the auth service is unreachable or not ready/);

      // Still down a while later: no further line (one at the start of the outage, not one per check).
      await new Promise((r) => setTimeout(r, 11_000));
      expect(outageLines(out(), 'redis')).toHaveLength(1);
      expect(outageLines(out(), 'auth')).toHaveLength(1);

      await redis.start();
      authReady = true;
      await waitFor(() => outageLines(out(), 'redis').length > 1 && outageLines(out(), 'auth').length > 1, 30_000, 'admin to log that Redis and auth are back');
      const end = outageLines(out(), 'redis')[1];
      expect(end.outage).toBe('end');
      expect(end.msg).toMatch(/^Redis is reachable again after \d+\.\d s$/);
      expect(end.downtimeMs).toBeGreaterThan(10_000);
      expect(outageLines(out(), 'auth')[1].outage).toBe('end');
      expect(app.child.exitCode).toBeNull();
    }, 180_000);
  });

  describe('PostgreSQL cut and restored under the running services', () => {
    const relay = new CuttableRelay();
    let sys: System;
    let db: TestDatabase;

    beforeAll(async () => {
      await relay.open();
      // Every service reaches its database through the relay.
      db = await createTestDatabase();
      sys = await startSystem({ DATABASE_URL: `postgres://postgres@127.0.0.1:${relay.port}/${db.name}` });
    }, 180_000);
    afterAll(async () => {
      await relay.cut().catch(() => undefined);
      await relay.open();
      await sys?.stop();
      await relay.cut();
      await db?.drop();
    }, 180_000);

    it('each service logs the outage once at its start and once at its end', async () => {
      await new Promise((r) => setTimeout(r, 2000));
      expect(outageLines(sys.logs.text, 'database')).toEqual([]);
      await relay.cut();
      await waitFor(() => outageLines(sys.logs.text, 'database').length >= 4, 30_000, 'every service to log that PostgreSQL is unreachable');
      await new Promise((r) => setTimeout(r, 6000));
      const starts = outageLines(sys.logs.text, 'database');
      expect(starts.map((l) => l.outage)).toEqual(['start', 'start', 'start', 'start']);
      expect(starts[0].msg).toMatch(/^PostgreSQL is unreachable \(.+\); retrying/);

      await relay.open();
      await waitFor(() => outageLines(sys.logs.text, 'database').length >= 8, 30_000, 'every service to log that PostgreSQL is back');
      const ends = outageLines(sys.logs.text, 'database').slice(4);
      expect(ends.map((l) => l.outage)).toEqual(['end', 'end', 'end', 'end']);
      expect(ends[0].msg).toMatch(/^PostgreSQL is reachable again after \d+\.\d s$/);
    }, 120_000);
  });
});
