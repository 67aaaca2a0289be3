import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type IORedis from 'ioredis';
import { DataSource } from 'typeorm';
import { AuthClient } from '@switchboard/auth-client';
import { MemberView, lockedMembersContract } from '@switchboard/contracts';
import { withoutCredentials } from '@switchboard/outbound';
import { REDIS } from '@switchboard/redis';
import { withTimeout } from '@switchboard/runtime';
import { relayed } from '../admin-commands.controllers';
import { ADMIN_API_OPTIONS, AdminApiOptions } from '../admin-token.guard';
import { DeliveryQueries } from '../delivery-queries';

/** Each readiness probe of the overview waits this long at most. */
export const PROBE_TIMEOUT_MS = 2000;

export interface Readiness {
  service: 'gateway' | 'auth' | 'admin' | 'propagator';
  /** `connected`: the gateway, seen by its Redis connections only. */
  state: 'ready' | 'connected' | 'down' | 'unknown';
  detail: string;
}

export interface FailingSlave {
  id: number;
  url: string;
  enabled: boolean;
  failing_since: string | null;
  dead: number;
  pending: number;
}

export interface Overview {
  members: number;
  slaves: { total: number; enabled: number };
  deliveries: { pending: number; dead: number };
  failing: FailingSlave[];
  /** Members whose login was locked at some time in the last 24 hours (login_lockouts). */
  lockouts24h: number;
  /** Members locked now (auth's list), or null when auth cannot answer. */
  lockedNow: number | null;
  /** Failed admin authentications in the last 24 hours (the audit). */
  adminFailures24h: number;
  readiness: Readiness[];
}

/**
 * What the console's overview shows. Reads the other services' tables directly (read-only, as the
 * admin API does); asks auth for its locked members, and auth and the propagator for their
 * readiness (`/health/ready`, 2 s each). The gateway has no address the admin service knows (it
 * may run as several replicas behind a proxy): its processes are seen by their Redis connections.
 */
@Injectable()
export class ConsoleData {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(REDIS) private readonly redis: IORedis,
    @Inject(ADMIN_API_OPTIONS) private readonly options: AdminApiOptions,
    private readonly auth: AuthClient,
    private readonly deliveries: DeliveryQueries,
  ) {}

  async overview(): Promise<Overview> {
    const [counts, failing, lockedNow, readiness] = await Promise.all([this.counts(), this.failingSlaves(), this.lockedNow(), this.readiness()]);
    return { ...counts, failing, lockedNow, readiness };
  }

  private async counts() {
    const [row]: { members: string; slaves: string; enabled: string; pending: string; dead: string; lockouts: string; failures: string }[] = await this.db.query(
      `SELECT (SELECT count(*) FROM members) AS members,
              (SELECT count(*) FROM slaves) AS slaves,
              (SELECT count(*) FROM slaves WHERE enabled) AS enabled,
              (SELECT count(*) FROM deliveries WHERE status IN ('waiting', 'ready', 'parked')) AS pending,
              (SELECT count(*) FROM deliveries WHERE status = 'dead') AS dead,
              (SELECT count(*) FROM login_lockouts WHERE locked_until > now() - interval '24 hours') AS lockouts,
              (SELECT count(*) FROM audit_events WHERE type = 'admin_authn_fail' AND occurred_at > now() - interval '24 hours') AS failures`,
    );
    return {
      members: Number(row.members),
      slaves: { total: Number(row.slaves), enabled: Number(row.enabled) },
      deliveries: { pending: Number(row.pending), dead: Number(row.dead) },
      lockouts24h: Number(row.lockouts),
      adminFailures24h: Number(row.failures),
    };
  }

  /** Slaves whose deliveries are failing (every attempt since `failing_since`) or that have dead letters. */
  async failingSlaves(): Promise<FailingSlave[]> {
    const stats = await this.deliveries.slaveStats();
    const ids = [...stats].filter(([, s]) => s.failingSince !== null || s.dead > 0).map(([id]) => id);
    if (!ids.length) return [];
    const slaves: { id: number; url: string; enabled: boolean }[] = await this.db.query(`SELECT id, url, enabled FROM slaves WHERE id = ANY($1::int[]) ORDER BY id LIMIT 100`, [ids]);
    return slaves.map((s) => {
      const st = stats.get(s.id)!;
      return { id: s.id, url: withoutCredentials(s.url), enabled: s.enabled, failing_since: st.failingSince?.toISOString() ?? null, dead: st.dead, pending: st.pending };
    });
  }

  /** Members locked now, as auth computes them (the admin API's `GET /admin/members/locked`). */
  async lockedMembers(): Promise<MemberView[]> {
    const { body } = await relayed(this.auth.admin(lockedMembersContract));
    return (body as MemberView[]).slice().sort((a, b) => a.id - b.id);
  }

  private async lockedNow(): Promise<number | null> {
    try {
      return (await withTimeout(this.lockedMembers(), PROBE_TIMEOUT_MS * 2, 'no answer')).length;
    } catch {
      return null;
    }
  }

  async readiness(): Promise<Readiness[]> {
    return Promise.all([this.gateway(), this.authReady(), this.adminReady(), this.propagatorReady()]);
  }

  private async adminReady(): Promise<Readiness> {
    const down: string[] = [];
    await Promise.all([
      withTimeout(this.db.query('SELECT 1'), PROBE_TIMEOUT_MS, 'timeout').catch(() => down.push('PostgreSQL')),
      withTimeout(this.redis.ping(), PROBE_TIMEOUT_MS, 'timeout').then(
        (pong) => (pong === 'PONG' ? undefined : down.push('Redis')),
        () => down.push('Redis'),
      ),
    ]);
    return down.length ? { service: 'admin', state: 'down', detail: `unreachable: ${down.join(', ')}` } : { service: 'admin', state: 'ready', detail: 'PostgreSQL and Redis answer (this process)' };
  }

  private async authReady(): Promise<Readiness> {
    return (await this.auth.isReady()) ? { service: 'auth', state: 'ready', detail: '/health/ready answers' } : { service: 'auth', state: 'down', detail: 'not ready or unreachable' };
  }

  private async propagatorReady(): Promise<Readiness> {
    try {
      const res = await fetch(`${this.options.propagatorUrl}/health/ready`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
      const text = await res.text();
      if (res.ok) return { service: 'propagator', state: 'ready', detail: '/health/ready answers' };
      let failing: string[] = [];
      try {
        const body = JSON.parse(text) as { error?: Record<string, unknown> };
        failing = Object.keys(body.error ?? {}).filter((k) => /^[a-z_-]{1,32}$/.test(k));
      } catch {
        failing = [];
      }
      return { service: 'propagator', state: 'down', detail: failing.length ? `not ready: ${failing.join(', ')}` : `not ready (HTTP ${res.status})` };
    } catch {
      return { service: 'propagator', state: 'down', detail: 'unreachable' };
    }
  }

  /** The gateway's processes, by their Redis connections on this database (CLIENT LIST; read-only). */
  private async gateway(): Promise<Readiness> {
    try {
      const list = String(await withTimeout(this.redis.client('LIST') as Promise<unknown>, PROBE_TIMEOUT_MS, 'timeout'));
      const db = String(this.redis.options.db ?? 0);
      const n = list.split('\n').filter((line) => /\bname=switchboard-gateway(\s|$)/.test(line) && new RegExp(`\\bdb=${db}(\\s|$)`).test(line)).length;
      return n > 0
        ? { service: 'gateway', state: 'connected', detail: `${n} Redis connection${n === 1 ? '' : 's'} (admin does not reach its /health/ready)` }
        : { service: 'gateway', state: 'down', detail: 'no gateway connected to Redis' };
    } catch {
      return { service: 'gateway', state: 'unknown', detail: 'Redis cannot list its clients' };
    }
  }
}
