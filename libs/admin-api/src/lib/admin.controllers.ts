import { Controller, Get, Inject, Logger, Post, Res, UseGuards } from '@nestjs/common';
import type IORedis from 'ioredis';
import { REDIS, SLAVE_SEEN_KEY } from '@switchboard/redis';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { AuthClient } from '@switchboard/auth-client';
import { auditPage, auditQuery, issueSlaveKeyCommand, issueSlaveKeyContract, slavePage, slavesQuery } from '@switchboard/contracts';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditEventEntity, SlaveEntity } from '@switchboard/db';
import { withoutCredentials } from '@switchboard/outbound';
import { AdminController, AdminRoute, Checked } from './admin-route';
import { AdminTokenGuard } from './admin-token.guard';
import { relay } from './admin-commands.controllers';
import { decodeCursor, pageOf } from './cursor';
import { DeliveryQueries } from './delivery-queries';

const SLAVE_EXAMPLE = {
  id: 1,
  url: 'https://forum.example/applications/core/interface/ipsconnect/ipsconnect.php',
  enabled: true,
  disabled_reason: null,
  registered_at: '2025-01-01T12:00:00.000Z',
  last_access_at: '2025-01-02T08:30:00.000Z',
  pending: 0,
  dead: 0,
  last_success_at: '2025-01-02T08:29:59.000Z',
  failing_since: null,
};

@AdminController('slaves')
@UseGuards(AdminTokenGuard)
@Controller('admin/slaves')
export class AdminSlavesController {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(REDIS) private readonly redis: IORedis,
    private readonly auth: AuthClient,
    private readonly deliveries: DeliveryQueries,
  ) {}

  private readonly logger = new Logger('AdminSlaves');

  /** Last calls the gateway answered (Redis, written by the gateway); empty while Redis is away. */
  private async seenByGateway(): Promise<Map<number, number>> {
    try {
      const all = await this.redis.hgetall(SLAVE_SEEN_KEY);
      return new Map(Object.entries(all).map(([id, ms]) => [Number(id), Number(ms)]));
    } catch (err) {
      this.logger.warn(`last access from the gateway unavailable: ${(err as Error).message}`);
      return new Map();
    }
  }

  @Post()
  @AdminRoute({
    summary: 'Issue a per-slave master key',
    description:
      'Issues a per-slave master key for a slave URL (spec D5): configure that slave with it instead of the global key; it becomes enabled when it calls verifySettings with it. A URL already registered answers 409 (code `slave_exists`, nothing changed) unless `rotate: true`, which replaces its per-slave key (the old one is refused at once). The key is shown only in this answer. A URL refused by the outbound policy answers 400 (or 503 when its name cannot be resolved now) with `code` `slave_url_refused` and `rule` scheme | credentials | address | resolution.',
    body: issueSlaveKeyCommand,
    example: { url: 'https://forum.example/applications/core/interface/ipsconnect/ipsconnect.php' },
    response: { status: 201, schema: issueSlaveKeyContract.response, description: 'the slave and its master key (shown once)', example: { id: 1, url: SLAVE_EXAMPLE.url, master_key: '5f4dcc3b5aa765d61d8327deb882cf99f4dcc3b5aa765d61', created: true } },
    errors: [409],
  })
  issueKey(@Checked('body') body: z.output<typeof issueSlaveKeyCommand>, @Res({ passthrough: true }) reply: FastifyReply) {
    return relay(reply, this.auth.admin(issueSlaveKeyContract, { body }));
  }

  @Get()
  @AdminRoute({
    summary: 'Slaves',
    description: 'Registered slaves by id, with their delivery health (never their keys).',
    query: slavesQuery,
    response: { schema: slavePage, description: 'a page of slaves', example: { items: [SLAVE_EXAMPLE], next_cursor: null } },
  })
  async list(@Checked('query') query: z.output<typeof slavesQuery>) {
    const limit = query.limit ?? 100;
    const qb = this.db.getRepository(SlaveEntity).createQueryBuilder('s').orderBy('s.id', 'ASC').limit(limit + 1);
    if (query.enabled !== undefined) qb.andWhere('s.enabled = :enabled', { enabled: query.enabled });
    const after = decodeCursor('slaves', query.cursor);
    if (after !== undefined) qb.andWhere('s.id > :after', { after: Number(after) });
    const slaves = await qb.getMany();
    const stats = await this.deliveries.slaveStats();
    const seen = await this.seenByGateway();
    // Spec D4's last access: the later of auth's record (actions it ran) and the gateway's (reads).
    const lastAccess = (s: SlaveEntity) => {
      const ms = Math.max(s.lastAccessAt?.getTime() ?? 0, seen.get(s.id) ?? 0);
      return ms > 0 ? new Date(ms).toISOString() : null;
    };
    return pageOf('slaves', slaves, limit, (s) => s.id, (s) => ({
      id: s.id,
      // Credentials are refused at registration; a slave registered with some before is listed without them.
      url: withoutCredentials(s.url),
      enabled: s.enabled,
      disabled_reason: s.disabledReason,
      registered_at: s.registeredAt.toISOString(),
      last_access_at: lastAccess(s),
      pending: stats.get(s.id)?.pending ?? 0,
      dead: stats.get(s.id)?.dead ?? 0,
      last_success_at: stats.get(s.id)?.lastSuccessAt?.toISOString() ?? null,
      failing_since: stats.get(s.id)?.failingSince?.toISOString() ?? null,
    }));
  }
}

@AdminController('audit')
@UseGuards(AdminTokenGuard)
@Controller('admin/audit')
export class AdminAuditController {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  @Get()
  @AdminRoute({
    summary: 'The audit log',
    description:
      'Newest first: the domain events of every service, and what the admin service records itself: `admin_action` (every change asked through the admin API, with the token name), `admin_authn_fail` (with the token name when a revoked token was used), `admin_authn_rate_limited`, `admin_token_created`, `admin_token_revoked`.',
    query: auditQuery,
    response: {
      schema: auditPage,
      description: 'a page of audit events',
      example: {
        items: [{ id: '7', event_id: '0f8fad5b-d9cb-469f-a165-70867728950e', type: 'admin_action', occurred_at: '2025-01-01T12:00:00.000Z', source: 'admin', slave_id: null, member_id: 42, details: { token_name: 'ops-laptop', method: 'POST', route: '/admin/members/:id/unlock', status: 200 } }],
        next_cursor: 'YXVkaXQ6Nw',
      },
    },
  })
  async list(@Checked('query') query: z.output<typeof auditQuery>) {
    const limit = query.limit ?? 100;
    const qb = this.db.getRepository(AuditEventEntity).createQueryBuilder('a').orderBy('a.id', 'DESC').limit(limit + 1);
    if (query.type) qb.andWhere('a.type = :type', { type: query.type });
    if (query.slave_id) qb.andWhere('a.slave_id = :slaveId', { slaveId: query.slave_id });
    if (query.member_id) qb.andWhere('a.member_id = :memberId', { memberId: query.member_id });
    const before = decodeCursor('audit', query.cursor);
    if (before !== undefined) qb.andWhere('a.id < :before', { before });
    const rows = await qb.getMany();
    return pageOf('audit', rows, limit, (a) => a.id, (a) => ({
      id: a.id,
      event_id: a.eventId,
      type: a.type,
      occurred_at: a.occurredAt.toISOString(),
      source: a.source,
      slave_id: a.slaveId,
      member_id: a.memberId,
      details: a.details,
    }));
  }
}
