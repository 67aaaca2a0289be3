import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { AuditRecorder } from '@switchboard/admin-api';
import { GatewayModule } from '@switchboard/app-gateway';
import { parseConfig } from '@switchboard/config';
import { DEAD_EVENT_STREAM, LEGACY_EVENT_STREAM, eventStream } from '@switchboard/events';
import { DeliveryProcessor } from '@switchboard/propagation';
import { createServiceApp, listen } from '@switchboard/runtime';
import { LogCapture, createTestDatabase, freePort, waitFor } from '@switchboard/testing';
import { ipsClient } from './support/ips';
import { ADMIN_TOKEN, MASTER_KEY as MK, System, http, startSystem } from './support/system';

const audit = (sys: System, q: string) =>
  http(`${sys.urls.admin}/admin/audit?${q}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }).then((r) => r.json());

describe('events: nothing blocks the audit log, nothing is lost', () => {
  let sys: System;
  beforeAll(async () => {
    sys = await startSystem();
  }, 180_000);
  afterAll(async () => {
    await sys?.stop();
  }, 180_000);

  it('a malformed stream entry is dead-lettered and later events still reach the audit log', async () => {
    // Into the gateway's stream; the event below comes through auth's (each service its own stream).
    await sys.redis.client.xadd(eventStream('gateway'), '*', 'event', JSON.stringify({ id: 'not-a-uuid', type: 'x', occurredAt: 'never' }));
    await sys.redis.client.xadd(eventStream('gateway'), '*', 'nothing', 'here');
    const ips = ipsClient(sys.urls.gateway);
    expect((await ips.get({ do: 'verifySettings', key: MK, url: 'http://127.0.0.1:8081/x.php', ourKey: 'k' })).json().status).toBe('SUCCESS');
    await waitFor(async () => (await audit(sys, 'type=slave_registered')).items.length === 1, 10_000, 'slave_registered in the audit log');
    const dead = await sys.redis.client.xrange(DEAD_EVENT_STREAM, '-', '+');
    const reasons = dead.map(([, fields]) => fields[fields.indexOf('reason') + 1]);
    // The reason names the fields that break the event's contract (libs/contracts), never their values.
    expect(reasons[0]).toMatch(/^event breaks its contract: id: .*; type: .*; occurredAt: /);
    expect(reasons[0]).not.toContain('not-a-uuid');
    expect(reasons[1]).toBe('entry has no event field');
    expect(dead.map(([, fields]) => fields[fields.indexOf('stream') + 1])).toEqual([eventStream('gateway'), eventStream('gateway')]);
    expect(await sys.redis.client.xlen(eventStream('auth'))).toBeGreaterThan(0);
    expect(await sys.redis.client.exists(LEGACY_EVENT_STREAM)).toBe(0);
  }, 60_000);

  it('the sweep records published events the stream never delivered (e.g. Redis lost its data)', async () => {
    const pg = new Client({ connectionString: sys.db.url });
    await pg.connect();
    const eventId = randomUUID();
    try {
      await pg.query(
        `INSERT INTO outbox_events (event_id, type, payload, created_at, published_at)
         VALUES ($1, 'slave_disabled', $2, now() - interval '5 minutes', now() - interval '5 minutes')`,
        [eventId, JSON.stringify({ occurredAt: new Date().toISOString(), source: 'auth', slaveId: 1, memberId: null, data: { reason: 'test' } })],
      );
      const recorder = sys.apps.admin.get(AuditRecorder);
      expect(await recorder.sweep()).toBe(1);
      expect(await recorder.sweep()).toBe(0);
      const page = await audit(sys, 'type=slave_disabled');
      expect(page.items.map((e: { event_id: string }) => e.event_id)).toEqual([eventId]);
    } finally {
      await pg.end();
    }
  }, 60_000);
});

describe('readiness tells the truth', () => {
  it('the propagator is not ready once its worker stopped', async () => {
    const sys = await startSystem();
    try {
      expect((await http(`${sys.urls.propagator}/health/ready`)).status).toBe(200);
      await sys.apps.propagator.get(DeliveryProcessor).worker.close();
      const res = await http(`${sys.urls.propagator}/health/ready`);
      expect(res.status).toBe(503);
      expect(res.json().error.worker.status).toBe('down');
      expect((await http(`${sys.urls.propagator}/health/live`)).status).toBe(200);
    } finally {
      await sys.stop();
    }
  }, 60_000);

  it('the gateway is not ready without Redis or the auth service, answers SERVICE_UNAVAILABLE, and still shuts down promptly', async () => {
    const logs = new LogCapture();
    const db = await createTestDatabase();
    const config = parseConfig('gateway', {
      DATABASE_URL: db.url,
      REDIS_URL: `redis://127.0.0.1:${await freePort()}/0`,
      AUTH_URL: `http://127.0.0.1:${await freePort()}`,
      PUBLIC_URL: 'http://127.0.0.1:3000',
      INTERNAL_TOKEN: 'i'.repeat(40),
    });
    const app = await createServiceApp(GatewayModule.forRoot(config, { logStream: logs }));
    const url = await listen(app, 0, '127.0.0.1');
    try {
      const ready = await http(`${url}/health/ready`);
      expect(ready.status).toBe(503);
      expect(Object.keys(ready.json().error).sort()).toEqual(['auth', 'redis']);
      expect((await http(`${url}/health/live`)).status).toBe(200);
      const answer = await http(`${url}/ipsconnect?do=checkName&key=${MK}&name=x`);
      expect([answer.status, answer.text, answer.headers.get('retry-after')]).toEqual([200, '{"status":"SERVICE_UNAVAILABLE"}', '5']);
    } finally {
      const started = Date.now();
      await app.close();
      expect(Date.now() - started).toBeLessThan(5000);
      await db.drop();
    }
  }, 60_000);
});
